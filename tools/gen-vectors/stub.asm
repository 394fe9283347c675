; Prologue and epilogue wrapped around each instruction snippet by harness.c.
; Called as fn(const uint64_t in[17], uint64_t out[17]): 16 registers in SDM order
; (slot 4, RSP, is ignored) followed by RFLAGS. The snippet must not touch RSP.
bits 64
%ifdef PROLOGUE
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rsi                ; the out pointer, taken back by the epilogue
    mov r15, rdi
    push qword [r15 + 16*8]
    popfq
    mov rax, [r15 + 0*8]
    mov rcx, [r15 + 1*8]
    mov rdx, [r15 + 2*8]
    mov rbx, [r15 + 3*8]
    mov rbp, [r15 + 5*8]
    mov rsi, [r15 + 6*8]
    mov rdi, [r15 + 7*8]
    mov r8,  [r15 + 8*8]
    mov r9,  [r15 + 9*8]
    mov r10, [r15 + 10*8]
    mov r11, [r15 + 11*8]
    mov r12, [r15 + 12*8]
    mov r13, [r15 + 13*8]
    mov r14, [r15 + 14*8]
    mov r15, [r15 + 15*8]
%else
    push r15
    mov r15, [rsp + 8]
    mov [r15 + 0*8], rax
    mov [r15 + 1*8], rcx
    mov [r15 + 2*8], rdx
    mov [r15 + 3*8], rbx
    mov [r15 + 5*8], rbp
    mov [r15 + 6*8], rsi
    mov [r15 + 7*8], rdi
    mov [r15 + 8*8], r8
    mov [r15 + 9*8], r9
    mov [r15 + 10*8], r10
    mov [r15 + 11*8], r11
    mov [r15 + 12*8], r12
    mov [r15 + 13*8], r13
    mov [r15 + 14*8], r14
    pushfq
    pop qword [r15 + 16*8]
    pop qword [r15 + 15*8]
    pop rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
%endif
