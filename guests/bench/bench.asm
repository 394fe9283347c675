; bench.asm — a deterministic integer benchmark guest for whole-process speed comparisons.
;
; In whose context it runs: the whole machine. A Multiboot (v1) loader (QEMU's -kernel or `hv boot`)
; enters it in 32-bit protected mode; it switches to long mode, runs a fixed loop of loads, stores,
; ALU operations, shifts/rotates, multiplies and taken/not-taken branches, prints the iteration count,
; the number of loop instructions retired and a checksum on COM1, and exits through the debug-exit
; port 0xF4 with value 0 (exit status 1).
;
; Every iteration executes exactly LOOP_INSNS instructions whichever way its data-dependent branch
; goes, so instructions = iterations x LOOP_INSNS (+ a small fixed set-up cost that
; bench/compare-qemu.sh cancels by timing two iteration counts).
;
; The iteration count comes from the Multiboot command line, "iterations=N" (QEMU -append, hv boot
; --append); without it, DEFAULT_ITERATIONS.

bits 32

MB_MAGIC            equ 0x1BADB002
MB_FLAGS            equ 0
MB_INFO_CMDLINE     equ 1 << 2          ; Multiboot information flags bit 2: cmdline field valid
COM1                equ 0x3F8
DEBUG_EXIT          equ 0xF4
DEFAULT_ITERATIONS  equ 4000000
LOOP_INSNS          equ 23              ; instructions per iteration of bench_loop (count below)
MSR_EFER            equ 0xC0000080

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start32
extern __bss_start, __bss_end
start32:
    cli
    cld
    mov esp, stack_top
    mov ebp, eax                        ; Multiboot magic
    mov esi, ebx                        ; Multiboot information structure
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    rep stosd
    mov [mb_magic], ebp
    mov [mb_info], esi

    lgdt [gdt_pointer]
    ; identity map 1 GiB with 2 MiB pages
    mov eax, pdpt
    or eax, 3
    mov [pml4], eax
    mov eax, page_dir
    or eax, 3
    mov [pdpt], eax
    mov edi, page_dir
    mov eax, 0x83
    mov ecx, 512
.pd:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .pd
    mov eax, cr4
    or eax, 1 << 5                      ; PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, 1 << 8                      ; LME
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1               ; PG, PE
    mov cr0, eax
    jmp 0x08:long_mode

bits 64
long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, stack_top

    mov rax, DEFAULT_ITERATIONS
    mov [iterations], rax
    call read_cmdline

    mov esi, msg_start
    call puts
    mov rax, [iterations]
    call putdec
    mov al, 10
    call putc

    ; Registers of the loop: RCX counts down, RAX is a 64-bit LCG (Knuth's MMIX constants), RDI the
    ; 4 KiB work buffer, the others accumulate.
    mov rcx, [iterations]
    test rcx, rcx
    jz .done
    mov rax, 0x0123456789ABCDEF
    mov r8, 6364136223846793005
    mov r9, 1442695040888963407
    mov edi, buffer
    xor ebx, ebx
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    align 16
..@bench_loop:
    imul rax, r8                        ;  1  multiply
    add rax, r9                         ;  2
    mov rdx, rax                        ;  3
    shr rdx, 52                         ;  4  shift
    and edx, 0xFF8                      ;  5  8-byte slot in the buffer
    mov rsi, [rdi + rdx]                ;  6  load
    xor rsi, rax                        ;  7
    rol rsi, 13                         ;  8  rotate
    add rsi, rcx                        ;  9
    mov [rdi + rdx], rsi                ; 10  store
    add rbx, rsi                        ; 11
    sub r10, rbx                        ; 12
    lea r11, [r10 + rbx * 2]            ; 13
    sar r11, 3                          ; 14
    xor r12, r11                        ; 15
    bt rax, 40                          ; 16
    jc .odd                             ; 17  data-dependent: taken about half the time
    add r13, rsi                        ; 18
    jmp .join                           ; 19  taken
.odd:
    sub r13, rsi                        ; 18
    nop                                 ; 19  keeps both paths the same length
.join:
    cmp rcx, -1                         ; 20
    je .impossible                      ; 21  never taken
    dec rcx                             ; 22
    jnz ..@bench_loop                     ; 23  taken but for the last iteration

    xor rax, rbx
    xor rax, r10
    xor rax, r11
    xor rax, r12
    xor rax, r13
    mov [checksum], rax
.done:
    mov esi, msg_insns
    call puts
    mov rax, [iterations]
    imul rax, rax, LOOP_INSNS
    call putdec
    mov esi, msg_checksum
    call puts
    mov rax, [checksum]
    call puthex16
    mov al, 10
    call putc
    xor eax, eax
    out DEBUG_EXIT, al
.halt:
    hlt
    jmp .halt
.impossible:
    mov esi, msg_impossible
    call puts
    mov al, 1
    out DEBUG_EXIT, al
    jmp .halt

; read_cmdline: iterations = N if the Multiboot command line holds "iterations=N".
read_cmdline:
    cmp dword [mb_magic], 0x2BADB002
    jne .none
    mov esi, [mb_info]
    test esi, esi
    jz .none
    test dword [rsi], MB_INFO_CMDLINE
    jz .none
    mov esi, [rsi + 16]
.scan:
    mov edi, key_iterations
    mov edx, esi
.cmp:
    mov al, [rdi]
    test al, al
    jz .number
    cmp al, [rdx]
    jne .next
    inc edi
    inc edx
    jmp .cmp
.next:
    cmp byte [rsi], 0
    je .none
    inc esi
    jmp .scan
.number:
    xor eax, eax
    xor ecx, ecx
.digit:
    movzx ecx, byte [rdx]
    sub ecx, '0'
    cmp ecx, 9
    ja .end
    imul rax, rax, 10
    add rax, rcx
    inc edx
    jmp .digit
.end:
    mov [iterations], rax
.none:
    ret

%include "../include/console64.inc"   ; putc, puts, putdec, puthex

puthex16:                       ; rax as 16 hex digits (no prefix)
    push rbx
    push rcx
    mov rbx, rax
    mov ecx, 60
.digit:
    mov rax, rbx
    shr rax, cl
    and eax, 0xF
    mov al, [hex_digits + rax]
    call putc
    sub ecx, 4
    jns .digit
    pop rcx
    pop rbx
    ret

section .rodata
hex_digits:     db "0123456789abcdef"
key_iterations: db "iterations=", 0
msg_start:      db "bench: iterations=", 0
msg_insns:      db "bench: loop-instructions=", 0
msg_checksum:   db " checksum=0x", 0
msg_impossible: db "bench: impossible branch taken", 10, 0

section .data
align 16
gdt:
    dq 0
    dq 0x00AF9B000000FFFF               ; 08: 64-bit code
    dq 0x00CF93000000FFFF               ; 10: data
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt

section .bss
alignb 4096
pml4:       resb 4096
pdpt:       resb 4096
page_dir:   resb 4096
buffer:     resb 4096
            resb 8192
stack_top:
mb_magic:   resd 1
mb_info:    resd 1
iterations: resq 1
checksum:   resq 1
