#!/usr/bin/env bash
# Builds the benchmark guest: a Multiboot (v1) ELF32 kernel that switches to long mode itself.
# Needs nasm and GNU ld (binutils). The built image is committed, so tests need neither.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
nasm -f elf32 -w-zext-reloc -o bench.o bench.asm
ld -m elf_i386 -T linker.ld --build-id=none --no-warn-rwx-segments -o bench.elf bench.o
rm -f bench.o
echo "built $here/bench.elf"
