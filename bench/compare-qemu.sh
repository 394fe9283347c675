#!/usr/bin/env bash
# Whole-process speed comparison of our processor with QEMU's TCG: runs guests/bench/bench.elf (a
# Multiboot integer benchmark with a known instruction count per iteration) under
# qemu-system-x86_64 -accel tcg and under `./hv boot`, measures each process's CPU time (user + sys,
# GNU time) and wall time, and prints MIPS for both and their ratio.
#
# Start-up costs (SeaBIOS for QEMU, JVM start and JIT warm-up for hv) are cancelled by timing two
# iteration counts and dividing the instruction difference by the time difference; the figure that
# includes start-up is printed too. The checksums printed by the guest must agree between the two.
#
# Usage: bench/compare-qemu.sh [LARGE_ITERATIONS] [SMALL_ITERATIONS]   (defaults 5000000 and 1000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
image="$root/guests/bench/bench.elf"
large="${1:-5000000}"
small="${2:-1000}"
per_iteration=23                         # LOOP_INSNS in guests/bench/bench.asm
command -v /usr/bin/time >/dev/null || { echo "compare-qemu: needs GNU time (/usr/bin/time)" >&2; exit 2; }
[ -f "$image" ] || { echo "compare-qemu: missing $image (run guests/bench/build.sh)" >&2; exit 2; }
(( large > small )) || { echo "compare-qemu: LARGE_ITERATIONS must exceed SMALL_ITERATIONS" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

# measure NAME ITERATIONS COMMAND... -> sets cpu, wall, checksum; returns 1 if the guest did not finish
measure() {
  local name="$1" n="$2"; shift 2
  local out="$work/$name-$n.out" times="$work/$name-$n.time"
  /usr/bin/time -f "%U %S %e" -o "$times" "$@" >"$out" 2>"$work/$name-$n.err" </dev/null || true
  checksum="$(grep -a -o 'checksum=0x[0-9a-f]*' "$out" | head -1 | cut -d= -f2)"
  if [ -z "$checksum" ]; then
    echo "compare-qemu: $name did not finish the benchmark (iterations=$n):" >&2
    tail -n 3 "$work/$name-$n.err" "$out" >&2
    return 1
  fi
  read -r user sys wall < <(tail -1 "$times")
  cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')"
  wall="$wall"
}

# The commands, as argument lists (GNU time runs programs, not shell functions).
qemu_cmd() {
  cmd=(qemu-system-x86_64 -accel tcg -m 64 -kernel "$image" -append "iterations=$1"
       -nographic -monitor none -serial stdio -display none -no-reboot
       -device isa-debug-exit,iobase=0xf4,iosize=0x04)
}
hv_cmd() { cmd=("$root/hv" boot "$image" --append "iterations=$1"); }

# mips INSTRUCTIONS SECONDS
mips() { awk -v i="$1" -v t="$2" 'BEGIN { if (t <= 0) print "n/a"; else printf "%.1f", i / t / 1e6 }'; }

report() { # NAME: uses the measurements of the small and the large run
  local name="$1" cs="$2" cl="$3" ws="$4" wl="$5"
  local insns=$(( (large - small) * per_iteration )) total=$(( large * per_iteration ))
  local dcpu dwall
  dcpu="$(awk -v a="$cl" -v b="$cs" 'BEGIN { printf "%.3f", a - b }')"
  dwall="$(awk -v a="$wl" -v b="$ws" 'BEGIN { printf "%.3f", a - b }')"
  printf '%-5s cpu %8ss wall %8ss  loop MIPS (cpu) %8s  (wall) %8s  incl. start-up (cpu) %8s\n' \
    "$name" "$cl" "$wl" "$(mips "$insns" "$dcpu")" "$(mips "$insns" "$dwall")" "$(mips "$total" "$cl")"
  eval "${name}_mips=\$(mips \"\$insns\" \"\$dcpu\")"
}

echo "bench: $large vs $small iterations x $per_iteration instructions ($(( (large - small) * per_iteration )) loop instructions timed)"

command -v qemu-system-x86_64 >/dev/null || { echo "compare-qemu: qemu-system-x86_64 not installed" >&2; exit 2; }
qemu_cmd "$small"; measure qemu "$small" "${cmd[@]}"; qs_cpu=$cpu; qs_wall=$wall
qemu_cmd "$large"; measure qemu "$large" "${cmd[@]}"; ql_cpu=$cpu; ql_wall=$wall; qemu_checksum=$checksum
report qemu "$qs_cpu" "$ql_cpu" "$qs_wall" "$ql_wall"

"$root/hv" --help >/dev/null 2>&1 || true   # builds the jar if needed, outside the timing
hv_cmd "$small"
if measure hv "$small" "${cmd[@]}"; then
  hs_cpu=$cpu; hs_wall=$wall
  hv_cmd "$large"; measure hv "$large" "${cmd[@]}"; hl_cpu=$cpu; hl_wall=$wall; hv_checksum=$checksum
  report hv "$hs_cpu" "$hl_cpu" "$hs_wall" "$hl_wall"
  if [ "$hv_checksum" != "$qemu_checksum" ]; then
    echo "checksum MISMATCH: qemu $qemu_checksum, hv $hv_checksum (the processors disagree)"
    exit 1
  fi
  echo "checksums agree: $qemu_checksum"
  awk -v q="$qemu_mips" -v h="$hv_mips" 'BEGIN {
    if (q == "n/a" || h == "n/a" || h == 0) print "ratio: n/a";
    else printf "ratio: QEMU TCG is %.1fx the speed of hv (hv runs at %.1f%% of QEMU TCG)\n", q / h, 100 * h / q }'
else
  echo "hv: could not run the benchmark (see above); QEMU figures only"
  exit 1
fi
