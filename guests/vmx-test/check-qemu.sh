#!/usr/bin/env bash
# Boots vmx-test.elf under qemu-system-x86_64 (TCG: no VMX) and checks that the long-mode bring-up
# and UART output work and that the guest reports "VMX not supported" with exit status 5 — the same
# text and status `hv boot --no-vmx` gives (VmxTestGuestTest). Needs QEMU; the product does not.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v qemu-system-x86_64 >/dev/null || { echo "check-qemu: qemu-system-x86_64 not installed" >&2; exit 2; }
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
status=0
timeout 60 qemu-system-x86_64 -accel tcg -kernel "$here/vmx-test.elf" -nographic -monitor none \
  -serial stdio -display none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 >"$out" 2>&1 || status=$?
# QEMU's firmware writes to the same serial port first: keep the guest's lines only.
guest="$(tr -d '\r' <"$out" | sed -n 's/.*\(# vmx-test: .*\)/\1/p; /^# long mode/p; /^# VMX not/p; /^1\.\./p')"
expected='# vmx-test: VT-x test guest (Multiboot ELF32, long mode, VMX host + nested guest)
# long mode active, paging identity-maps 1 GiB
# VMX not supported (CPUID.1:ECX.VMX = 0)
1..0 # SKIP VMX not supported'
echo "$guest"
if [ "$guest" != "$expected" ] || [ "$status" != 5 ]; then
  echo "check-qemu: FAILED (exit status $status, expected 5)" >&2
  exit 1
fi
echo "check-qemu: ok (exit status 5, as hv boot --no-vmx)"
