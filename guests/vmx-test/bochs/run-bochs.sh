#!/usr/bin/env bash
# Runs a Multiboot ELF32 test guest under Bochs (an independent x86 emulator with VMX), printing the
# guest's COM1 output. Development aid: lets the VT-x test guest be checked against another VMX
# implementation. Needs bochs (with VMX support, as Debian's 2.7 build has), nasm and objcopy.
# Usage: run-bochs.sh IMAGE.elf [CPU-MODEL] [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
elf="$(realpath "$1")"; model="${2:-corei7_skylake_x}"; seconds="${3:-60}"
work="${BOCHS_WORK:-$(mktemp -d)}"; [ -n "${BOCHS_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
objcopy -O binary -j .text -j .rodata -j .data "$elf" "$work/kernel.bin"
load=$(readelf -lW "$elf" | awk '$1=="LOAD"{print $3; exit}')
entry=$(readelf -hW "$elf" | awk '/Entry point/{print $4}')
sectors=$(( ($(stat -c %s "$work/kernel.bin") + 511) / 512 ))
nasm -f bin -DKERNEL_LOAD=$load -DKERNEL_ENTRY=$entry -DKERNEL_SECTORS=$sectors -o "$work/boot.bin" "$here/mbboot.asm"
truncate -s $((2*16*63*512)) "$work/disk.img"
dd if="$work/boot.bin" of="$work/disk.img" conv=notrunc status=none
dd if="$work/kernel.bin" of="$work/disk.img" bs=512 seek=1 conv=notrunc status=none
cat > "$work/bochsrc" <<RC
megs: 64
cpu: model=$model, count=1, ips=50000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=disk, path=$work/disk.img, mode=flat, cylinders=2, heads=16, spt=63
boot: disk
com1: enabled=1, mode=file, dev=$work/serial.out
display_library: rfb, options="timeout=0"
log: $work/bochs.log
panic: action=report
error: action=report
info: action=ignore
speaker: enabled=0
RC
touch "$work/serial.out"
printf "c\nc\nc\nc\n" > "$work/debugger.rc"   # Debian's bochs has the debugger built in: just continue
( cd "$work" && timeout "$seconds" bochs -q -f "$work/bochsrc" -rc "$work/debugger.rc" >/dev/null 2>&1 ) &
pid=$!
# The guest ends by writing port 0xF4 and halting; Bochs has no debug-exit device, so stop on the plan line.
for _ in $(seq 1 $((seconds * 10))); do
  if grep -q '^1\.\.' "$work/serial.out" 2>/dev/null || grep -q '^Bail out' "$work/serial.out" 2>/dev/null; then break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
sleep 0.3
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
cat "$work/serial.out"
grep -E 'PANIC|ERROR' "$work/bochs.log" | head -20 >&2 || true
