; Mode-transition program for SystemProgramTest (assemble: nasm -f bin modes.asm -o modes.bin).
; Starts in real mode at 0000:7C00, enters protected mode, builds identity page tables (2 MiB pages,
; first 4 MiB), enables IA-32e mode and far-jumps to 64-bit code. There it takes INT 0x80 through a
; DPL-3 gate, handles a #PF (not-present PDPTE) by skipping the faulting instruction, loads a 64-bit
; TSS, SYSRETs to CPL 3, takes INT 0x80 from CPL 3 (stack switch through TSS.RSP0) and SYSCALLs back
; to a HLT at CPL 0. Results are left in R8..R15 for the test.
bits 16
org 0x7C00
start:
  cli
  lgdt [gdtr]
  mov eax, cr0
  or eax, 1
  mov cr0, eax
  jmp dword 0x08:pm32
bits 32
pm32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, 0x90000
  cld
  mov edi, 0x10000                ; page tables and TSS: 0x10000..0x20FFF
  xor eax, eax
  mov ecx, 0x4400
  rep stosd
  mov dword [0x10000], 0x11007    ; PML4[0] -> PDPT
  mov dword [0x11000], 0x12007    ; PDPT[0] -> PD (PDPT[1] stays not present)
  mov dword [0x12000], 0x87       ; 0..2 MiB, user, writable
  mov dword [0x12008], 0x200087   ; 2..4 MiB
  mov dword [0x20004], 0x80000    ; TSS.RSP0
  mov eax, cr4
  or eax, 0x20                    ; PAE
  mov cr4, eax
  mov eax, 0x10000
  mov cr3, eax
  mov ecx, 0xC0000080
  rdmsr
  or eax, 0x101                   ; LME | SCE
  wrmsr
  mov eax, cr0
  or eax, 0x80000000              ; PG -> IA-32e mode active
  mov cr0, eax
  jmp 0x18:lm64
bits 64
lm64:
  lea rax, [rel int80]
  lea rdi, [rel idt + 0x80 * 16]
  call setgate
  lea rax, [rel pagefault]
  lea rdi, [rel idt + 14 * 16]
  call setgate
  lidt [rel idtr]
  int 0x80
  mov rbx, 0x40000000
  mov rax, [rbx]                  ; #PF: 3-byte instruction skipped by the handler
  mov ax, 0x40
  ltr ax
  mov ecx, 0xC0000081             ; STAR: SYSCALL CS 0x18, SYSRET base 0x28
  xor eax, eax
  mov edx, 0x00280018
  wrmsr
  mov ecx, 0xC0000082             ; LSTAR
  lea rax, [rel kentry]
  mov rdx, rax
  shr rdx, 32
  wrmsr
  mov [rel kstack], rsp
  lea rcx, [rel user]
  mov r11, 0x002
  o64 sysret
user:
  mov rsp, 0x70000
  mov r9, 0x5678
  int 0x80
  syscall
kentry:
  hlt

setgate:                          ; RAX = handler, RDI = IDT entry: 64-bit interrupt gate, DPL 3
  mov word [rdi], ax
  mov word [rdi + 2], 0x18
  mov word [rdi + 4], 0xEE00
  shr rax, 16
  mov word [rdi + 6], ax
  shr rax, 16
  mov dword [rdi + 8], eax
  ret

int80:
  mov r8, 0x1234
  inc r15
  mov r13, [rsp + 8]              ; saved CS
  mov r14, [rsp + 32]             ; saved SS
  iretq

pagefault:
  pop r10                         ; error code
  mov r12, cr2
  add qword [rsp], 3
  iretq

align 8
gdt:
  dq 0
  dq 0x00CF9B000000FFFF           ; 0x08 code32
  dq 0x00CF93000000FFFF           ; 0x10 data
  dq 0x00AF9B000000FFFF           ; 0x18 code64
  dq 0x00CF93000000FFFF           ; 0x20 data (SYSCALL SS)
  dq 0                            ; 0x28
  dq 0x00CFF3000000FFFF           ; 0x30 user data (SYSRET SS)
  dq 0x00AFFB000000FFFF           ; 0x38 user code64 (SYSRET CS)
  dq 0x0000890200000067           ; 0x40 64-bit TSS at 0x20000
  dq 0
gdt_end:
gdtr:
  dw gdt_end - gdt - 1
  dd gdt
align 8
kstack:
  dq 0
idtr:
  dw 0xFFF
  dq idt
align 16
idt:
  times 256*16 db 0
