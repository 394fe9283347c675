; mbboot.asm — a minimal disk boot sector that starts a Multiboot kernel, for running the test guests
; under Bochs (which has no -kernel option). Development aid only; not part of `hv`.
;
; In whose context it runs: the BIOS loads it at 0000:7C00 in real mode. It reads the kernel's flat
; image (KERNEL_SECTORS sectors from LBA 1, via INT 13h extensions) to 0x10000, enables A20, enters
; 32-bit protected mode, copies the image to its link address and jumps to the entry point with
; EAX = 2BADB002H as a Multiboot loader would (EBX = 0: no information structure; our guests use none).
; KERNEL_LOAD, KERNEL_ENTRY and KERNEL_SECTORS are given on the nasm command line.

bits 16
org 0x7C00
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl
    in al, 0x92                         ; fast A20
    or al, 2
    and al, 0xFE
    out 0x92, al
    mov si, dap
    mov ah, 0x42
    mov dl, [drive]
    int 0x13
    jc fail
    lgdt [gdtr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp 0x08:pm

bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esi, 0x10000
    mov edi, KERNEL_LOAD
    mov ecx, KERNEL_SECTORS * 128
    rep movsd
    mov eax, 0x2BADB002
    xor ebx, ebx
    jmp KERNEL_ENTRY

bits 16
fail:
    hlt
    jmp fail

drive: db 0
align 4
dap:
    db 0x10, 0
    dw KERNEL_SECTORS
    dw 0x0000, 0x1000                   ; offset, segment -> 0x10000
    dq 1
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
gdtr:
    dw gdtr - gdt - 1
    dd gdt
times 510 - ($ - $$) db 0
dw 0xAA55
