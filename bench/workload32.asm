; The 32-bit form of bench/workload.asm: the same loop (loads, stores, ALU operations, shifts,
; multiplies, data-dependent branches) over a 4 KiB array of dwords, in 32-bit protected mode.
; Entered with EDI = base of the array and the number of passes in the dword at [EDI - 4]; ends
; with HLT. No stack is used, so ESP serves as the eighth general register (R10's counter).
; Assembled with `nasm -f bin workload32.asm`; its bytes are embedded in CpuBench.java.
bits 32
outer:
    mov esi, edi
    mov ecx, 1024
    mov edx, 0x7F4A7C15
inner:
    mov ebx, [esi]          ; load
    add ebx, edx
    imul ebx, ebx, 31       ; multiply
    mov ebp, ebx
    shr ebp, 7              ; shift
    xor ebx, ebp
    mov [esi], ebx          ; store
    add eax, ebx
    test bl, 1
    jz .even                ; taken about half the time
    add eax, 3
.even:
    rol edx, 5
    lea ebp, [eax + ebx*2]
    sub ebp, ecx
    cmp ebp, edx
    jae .skip               ; data-dependent
    inc esp
.skip:
    add esi, 4
    dec ecx
    jnz inner
    dec dword [edi - 4]
    jnz outer
    hlt
