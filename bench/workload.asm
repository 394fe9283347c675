; The cpu benchmark workload: a deterministic integer loop with loads, stores, ALU operations,
; shifts, multiplies and data-dependent (taken and not-taken) branches. 64-bit code, entered with
; RDI = base of a 8 KiB array, R15 = number of passes over it; ends with HLT.
; Assembled with `nasm -f bin workload.asm`; its bytes are embedded in CpuBench.java.
bits 64
outer:
    mov rsi, rdi
    mov ecx, 1024
    mov rdx, 0x9E3779B97F4A7C15
inner:
    mov rbx, [rsi]          ; load
    add rbx, rdx
    imul rbx, rbx, 31       ; multiply
    mov r8, rbx
    shr r8, 7               ; shift
    xor rbx, r8
    mov [rsi], rbx          ; store
    add rax, rbx
    test bl, 1
    jz .even                ; taken about half the time
    add rax, 3
.even:
    rol rdx, 5
    lea r9, [rax + rbx*2]
    sub r9, rcx
    cmp r9, rdx
    jae .skip               ; data-dependent
    inc r10
.skip:
    add rsi, 8
    dec ecx
    jnz inner
    dec r15
    jnz outer
    hlt
