; hello.asm - a Multiboot (v1) hello-world kernel for `hv boot` and `qemu-system-x86_64 -kernel`.
;
; Runs in the 32-bit protected-mode state a Multiboot loader leaves (EAX = 0x2BADB002, EBX = the
; information structure). Prints a greeting and the Multiboot command line through the 16550 UART
; at 0x3F8 (COM1, polling LSR.THRE), and each boot module's command line and size (modules come
; from --initrd under hv and -initrd under QEMU), then ends the run through QEMU's isa-debug-exit at port 0xF4:
; writing 0x10 gives the exit status (0x10 << 1) | 1 = 33. A wrong boot magic prints a complaint
; and exits with value 1 (status 3).

BITS 32

MB_MAGIC     equ 0x1BADB002
MB_FLAGS     equ 0x00000003            ; bit 0: page-align modules, bit 1: memory information
COM1         equ 0x3F8
DEBUG_EXIT   equ 0xF4
EXIT_OK      equ 0x10

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
    mov esp, stack_top
    mov esi, eax                        ; keep the boot magic and the info pointer
    mov edi, ebx
    call uart_init

    mov eax, greeting
    call puts

    cmp esi, 0x2BADB002
    jne .bad_magic

    test dword [edi], 1 << 2            ; info flag 2: cmdline is valid
    jz .no_cmdline
    mov eax, cmdline_label
    call puts
    mov eax, [edi + 16]
    call puts
    mov al, 10
    call putc
.no_cmdline:
    test dword [edi], 1 << 3            ; info flag 3: mods_count/mods_addr are valid
    jz .no_modules
    mov ecx, [edi + 20]                 ; mods_count
    mov ebx, [edi + 24]                 ; mods_addr: 16-byte entries {start, end, cmdline, reserved}
.module:
    test ecx, ecx
    jz .no_modules
    mov eax, module_label
    call puts
    mov eax, [ebx + 8]
    call puts
    mov eax, module_size
    call puts
    mov eax, [ebx + 4]
    sub eax, [ebx]
    call putdec
    mov eax, bytes_label
    call puts
    add ebx, 16
    dec ecx
    jmp .module
.no_modules:
    mov eax, bye
    call puts
    mov al, EXIT_OK
    out DEBUG_EXIT, al
    jmp halt

.bad_magic:
    mov eax, bad_magic
    call puts
    mov al, 1
    out DEBUG_EXIT, al

halt:
    cli
    hlt
    jmp halt

; 115200 baud 8N1, FIFOs on, interrupts off.
uart_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; IER = 0
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                          ; LCR: DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                          ; DLL = 1
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; DLM = 0
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                          ; LCR: 8 bits, no parity, 1 stop
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                          ; FCR: enable and clear FIFOs, 14-byte trigger
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al                          ; MCR: DTR, RTS
    ret

; putc: AL = character. Waits for the transmitter holding register to be empty.
putc:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

; puts: EAX = address of a NUL-terminated string.
puts:
    push ebx
    mov ebx, eax
.next:
    mov al, [ebx]
    test al, al
    jz .done
    call putc
    inc ebx
    jmp .next
.done:
    pop ebx
    ret

; putdec: EAX = unsigned number, printed in decimal.
putdec:
    push ebx
    push ecx
    push edx
    mov ebx, 10
    xor ecx, ecx
.divide:
    xor edx, edx
    div ebx
    push edx                            ; least significant digit first
    inc ecx
    test eax, eax
    jnz .divide
.emit:
    pop eax
    add al, '0'
    call putc
    dec ecx
    jnz .emit
    pop edx
    pop ecx
    pop ebx
    ret

section .rodata
greeting:      db "Hello from a Multiboot guest on the 16550 UART!", 10, 0
cmdline_label: db "command line: ", 0
module_label:  db "module: ", 0
module_size:   db ", ", 0
bytes_label:   db " bytes", 10, 0
bye:           db "Goodbye: exiting through isa-debug-exit with value 0x10.", 10, 0
bad_magic:     db "Bad Multiboot magic in EAX.", 10, 0

section .bss
align 16
stack:
    resb 4096
stack_top:
