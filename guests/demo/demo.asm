; The built-in demo guest of `hv run`: shows every feature of the seed's hypervisor, one line each.
;
; Context: guest code in VMX non-root operation, 64-bit mode, CPL 0, sharing the host's
; identity-mapped page tables and segments (no EPT, as in the seed). Loaded as a flat binary at
; 0x100000 and entered there with a 16-byte aligned stack. Output goes to the 16550 UART at 0x3F8.
;
; Each demonstration asks the hypervisor for its VM-exit count before and after (hypercall 2), so
; the guest itself can print how many exits the action caused ("exits=N"). Hypercalls (README):
;   RAX=0 exit with status RBX; RAX=1 print RCX bytes at RBX; RAX=2 RAX <- VM exits so far.
; Build: nasm -f bin -o demo.bin demo.asm

bits 64
org 0x100000

UART        equ 0x3F8
UART_LSR    equ 0x3FD
UART_SCR    equ 0x3FF          ; scratch register, trapped through I/O bitmap A
PORT_B      equ 0x8000         ; trapped through I/O bitmap B, no device behind it
SYSENTER_CS equ 0x174          ; in the MSR bitmap
SYSENTER_ESP equ 0x175         ; not in the MSR bitmap
CR3_TARGET  equ 0x200000       ; the seed's first CR3-target value

start:
    lea rsi, [rel msg_hello]
    call puts

; ---- CPUID: the hypervisor's leaf and the VMX bit as the guest sees it ----
    call exits_begin
    mov eax, 0x40000000
    cpuid
    mov [rel sig], ebx
    mov [rel sig + 4], ecx
    mov [rel sig + 8], edx
    mov eax, 1
    cpuid
    shr ecx, 5
    and ecx, 1
    mov r13, rcx
    call exits_end
    lea rsi, [rel msg_cpuid]
    call puts
    lea rsi, [rel sig]
    call puts
    lea rsi, [rel msg_cpuid_vmx]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- port I/O through bitmap A: forwarded to the UART's scratch register ----
    call exits_begin
    mov dx, UART_SCR
    mov al, 0x5A
    out dx, al
    xor eax, eax
    in al, dx
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_io_a]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- port I/O through bitmap B: no device, reads all ones ----
    call exits_begin
    mov dx, PORT_B
    xor eax, eax
    in al, dx
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_io_b]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- an MSR in the MSR bitmap: emulated by the hypervisor's MSR file ----
    call exits_begin
    mov ecx, SYSENTER_CS
    mov eax, 0x10
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_msr_in]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- an MSR outside the bitmap: the processor executes it, no exit ----
    call exits_begin
    mov ecx, SYSENTER_ESP
    mov eax, 0x1234
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_msr_out]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- CR0: a read returns the shadow for masked bits; a write changing a masked bit exits ----
    call exits_begin
    mov rax, cr0
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_cr0_read]
    call puts
    mov rax, r13
    call puthex
    call print_exits

    call exits_begin
    mov rax, cr0
    bts rax, 31                 ; PG: masked; the shadow says 0, so this write exits
    mov cr0, rax
    mov rax, cr0
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_cr0_write]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- CR4: the same with CR4.SMEP ----
    call exits_begin
    mov rax, cr4
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_cr4_read]
    call puts
    mov rax, r13
    call puthex
    call print_exits

    call exits_begin
    mov rax, cr4
    bts rax, 20                 ; SMEP: masked; differs from the shadow, so this write exits
    mov cr4, rax
    mov rax, cr4
    mov r13, rax
    call exits_end
    lea rsi, [rel msg_cr4_write]
    call puts
    mov rax, r13
    call puthex
    call print_exits

; ---- CR3: a write of a CR3-target value does not exit, any other value does ----
    mov rsi, cr3
    mov r14, rsi
    mov rdi, CR3_TARGET         ; copy the host PML4 there so the target is a valid address space
    mov ecx, 512
    rep movsq
    call exits_begin
    mov rax, CR3_TARGET
    mov cr3, rax
    call exits_end
    lea rsi, [rel msg_cr3_target]
    call puts
    mov rax, CR3_TARGET
    call puthex
    call print_exits

    call exits_begin
    mov cr3, r14
    call exits_end
    lea rsi, [rel msg_cr3_other]
    call puts
    mov rax, r14
    call puthex
    call print_exits

; ---- an exception in the exception bitmap: #UD exits, is re-injected, the guest handles it ----
    lea rdi, [rel idt + 6 * 16]
    lea rax, [rel ud_handler]
    mov [rdi], ax               ; offset 15:0
    mov word [rdi + 2], cs      ; selector: the host's code segment the guest shares
    mov word [rdi + 4], 0x8E00  ; present, DPL 0, 64-bit interrupt gate
    shr rax, 16
    mov [rdi + 6], ax           ; offset 31:16
    shr rax, 16
    mov [rdi + 8], eax          ; offset 63:32
    lidt [rel idtr]
    call exits_begin
    ud2
    call exits_end
    lea rsi, [rel msg_ud]
    call puts
    mov rax, [rel ud_seen]
    call puthex
    call print_exits

; ---- VMCALL: print a string through the hypervisor ----
    call exits_begin
    mov eax, 1
    lea rbx, [rel msg_vmcall]
    mov ecx, msg_vmcall_len
    vmcall
    call exits_end
    lea rsi, [rel msg_vmcall_done]
    call puts
    call print_exits

; ---- HLT with interrupts disabled: the hypervisor ends the run ----
    lea rsi, [rel msg_hlt]
    call puts
    cli
    hlt
    ; not reached under hv run; stop for good if a host resumes anyway
    mov dx, 0xF4
    xor eax, eax
    out dx, al
    jmp $

ud_handler:
    inc qword [rel ud_seen]
    add qword [rsp], 2          ; skip the 2-byte ud2 (the saved RIP points at it: a fault)
    iretq

; ---- helpers: exit counting ----

exits_begin:                    ; r12 <- VM exits so far
    push rax
    mov eax, 2
    vmcall
    mov r12, rax
    pop rax
    ret

exits_end:                      ; r15 <- VM exits since exits_begin (printed later by print_exits)
    push rax
    mov eax, 2
    vmcall
    sub rax, r12
    dec rax                     ; the VMCALL of exits_begin itself is counted; do not report it
    mov r15, rax
    pop rax
    ret

print_exits:                    ; prints "  exits=N" (N from r15) and ends the line
    lea rsi, [rel msg_exits]
    call puts
    mov rax, r15
    call putdec
    mov al, 10
    call putc
    ret

; ---- helpers: UART output ----

%include "../include/console64.inc"   ; putc, puts, putdec, puthex

; ---- data ----

msg_hello:          db "demo guest: running in VMX non-root operation", 10, 0
msg_cpuid:          db "cpuid     leaf 0x40000000 signature '", 0
msg_cpuid_vmx:      db "', CPUID.1:ECX.VMX as seen = ", 0
msg_io_a:           db "io        port 0x3ff (I/O bitmap A, UART scratch): wrote 0x5a, read ", 0
msg_io_b:           db "io        port 0x8000 (I/O bitmap B, no device): read ", 0
msg_msr_in:         db "msr       IA32_SYSENTER_CS (in the MSR bitmap): wrote 0x10, read ", 0
msg_msr_out:        db "msr       IA32_SYSENTER_ESP (not in the bitmap): wrote 0x1234, read ", 0
msg_cr0_read:       db "cr0       read (PG masked, from the shadow): ", 0
msg_cr0_write:      db "cr0       set PG (differs from the shadow), read back ", 0
msg_cr4_read:       db "cr4       read (SMEP masked, from the shadow): ", 0
msg_cr4_write:      db "cr4       set SMEP (differs from the shadow), read back ", 0
msg_cr3_target:     db "cr3       write of CR3-target value ", 0
msg_cr3_other:      db "cr3       write of non-target value ", 0
msg_ud:             db "exception ud2 -> #UD, handled by the guest's IDT, count ", 0
msg_vmcall:         db "vmcall    hypercall 1 printed this line", 10
msg_vmcall_len      equ $ - msg_vmcall
msg_vmcall_done:    db "vmcall    hypercall 1 (print) returned", 0
msg_hlt:            db "hlt       with interrupts disabled: the hypervisor ends the run", 10, 0
msg_exits:          db "  exits=", 0

align 8
sig:                times 16 db 0
ud_seen:            dq 0
idtr:               dw 32 * 16 - 1
                    dq idt
align 16
idt:                times 32 * 16 db 0
