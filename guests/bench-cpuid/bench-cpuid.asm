; Benchmark guest: CPUID in a tight loop, so that nearly every instruction retired is a VM-exit
; round trip (exit, the hypervisor's CPUID handler, VMRESUME). `hv run --stats` reports the rate.
;
; Context: guest code in VMX non-root operation, 64-bit mode (flat binary, loaded and entered at
; 0x100000 like the demo). Ends with HLT at IF=0, which ends the run.
; Build: nasm -f bin -o bench-cpuid.bin bench-cpuid.asm

bits 64
org 0x100000

ITERATIONS equ 10000000

start:
    mov r8d, ITERATIONS
.loop:
    xor eax, eax
    xor ecx, ecx
    cpuid                       ; unconditional VM exit in VMX non-root operation (SDM 26.1.2)
    dec r8d
    jnz .loop
    cli
    hlt
