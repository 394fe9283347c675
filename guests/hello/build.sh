#!/usr/bin/env bash
# Builds hello.elf (ELF32 Multiboot kernel loaded at 1 MiB) from hello.asm. Needs nasm and GNU ld.
# The built image is committed, so tests and users need no toolchain.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nasm -f elf32 -o hello.o hello.asm
ld -m elf_i386 -n --build-id=none -Ttext=0x100000 -e start -o hello.elf hello.o
rm -f hello.o
echo "built $(pwd)/hello.elf"
