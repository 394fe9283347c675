#!/usr/bin/env bash
# Builds the VT-x test guest: a Multiboot (v1) ELF32 kernel that switches to long mode itself.
# Needs nasm and GNU ld (binutils). The built image is committed, so tests need neither.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
nasm -f elf32 -w-zext-reloc -o vmx-test.o vmx-test.asm
ld -m elf_i386 -T linker.ld --build-id=none --no-warn-rwx-segments -o vmx-test.elf vmx-test.o
rm -f vmx-test.o
echo "built $here/vmx-test.elf"
