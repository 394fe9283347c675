#!/usr/bin/env bash
# Boots the same image under QEMU and under `hv boot` and compares what each prints on the serial
# console and the exit status. Usage: guests/hello/compare-qemu.sh [IMAGE [APPEND [INITRD]]]
# (default: guests/hello/hello.elf, "hi there", and two generated modules, one with arguments).
# Needs qemu-system-x86_64; the product does not.
#
# QEMU is run with -display none -serial stdio rather than -nographic: with -nographic SeaBIOS and
# iPXE also print their banners on the serial console, which are not the guest's output.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
image="${1:-$here/hello.elf}"
append="${2-hi there}"
if ! command -v qemu-system-x86_64 >/dev/null; then
  echo "compare-qemu: qemu-system-x86_64 not installed, nothing to compare" >&2
  exit 77
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if [ $# -ge 3 ]; then
  initrd="$3"
else
  printf 'first module\n' >"$out/m1.txt"
  head -c 5000 /dev/zero >"$out/m2.bin"
  initrd="$out/m1.txt arg1 arg2,$out/m2.bin"
fi
initrd_args=()
[ -n "$initrd" ] && initrd_args=(-initrd "$initrd")
hv_initrd_args=()
[ -n "$initrd" ] && hv_initrd_args=(--initrd "$initrd")
# Run both from the image's folder with the same relative path: the Multiboot command line starts
# with the image path exactly as given, so both guests see the same string.
cd "$(dirname "$image")"
name="$(basename "$image")"

timeout 60 qemu-system-x86_64 -kernel "$name" -append "$append" "${initrd_args[@]}" -m 256 -display none -serial stdio \
  -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null >"$out/qemu.txt" 2>"$out/qemu.err"
qemu_status=$?
start=$(date +%s%N)
"$root/hv" boot "$name" --append "$append" "${hv_initrd_args[@]}" --memory 256 --timeout 60 </dev/null >"$out/hv.txt" 2>"$out/hv.err"
hv_status=$?
end=$(date +%s%N)

echo "qemu: status $qemu_status, $(wc -c <"$out/qemu.txt") bytes of output"
echo "hv:   status $hv_status, $(wc -c <"$out/hv.txt") bytes of output ($(( (end - start) / 1000000 )) ms wall clock including JVM start)"
sed 's/^/hv:   /' "$out/hv.err"
if cmp -s "$out/qemu.txt" "$out/hv.txt" && [ "$qemu_status" -eq "$hv_status" ]; then
  echo "same output and status:"
sed 's/^/  | /' "$out/hv.txt"
  exit 0
fi
echo "DIFFERENT:"
diff <(od -c "$out/qemu.txt") <(od -c "$out/hv.txt") | head -40
exit 1
