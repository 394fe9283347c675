; Virtual-8086 program for SystemProgramTest (assemble: nasm -f bin vm86.asm -o vm86.bin).
; Enters 32-bit protected mode, loads a TSS, and IRETs into virtual-8086 mode (VM=1, IOPL=0) at
; 0800:0000 (linear 0x8000). The 8086 code computes with segment registers and executes INT 0x21,
; which with IOPL < 3 and CR4.VME=0 is #GP(0) to the ring-0 monitor; the monitor records the saved
; CS:IP, the VM flag of the saved EFLAGS and the data-segment selectors pushed for a VM86 frame.
bits 16
org 0x7C00
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
  mov edi, 0x11000                ; 32-bit TSS: SS0:ESP0 = 0x10:0x80000
  xor eax, eax
  mov ecx, 0x1A
  rep stosd
  mov dword [0x11004], 0x80000
  mov dword [0x11008], 0x10
  mov word [0x11066], 0x68        ; I/O map base = limit + 1: no bitmap
  mov ax, 0x18
  ltr ax
  mov eax, gpfault
  mov word [idt + 13 * 8], ax
  mov word [idt + 13 * 8 + 2], 0x08
  mov word [idt + 13 * 8 + 4], 0x8E00
  shr eax, 16
  mov word [idt + 13 * 8 + 6], ax
  lidt [idtr]
  mov esi, v86code                ; copy the 8086 code to linear 0x8000
  mov edi, 0x8000
  mov ecx, v86end - v86code
  rep movsb
  push dword 0x0900               ; GS
  push dword 0x0900               ; FS
  push dword 0x0900               ; DS
  push dword 0x0A00               ; ES
  push dword 0x0700               ; SS
  push dword 0x0100               ; ESP
  push dword 0x20002              ; EFLAGS: VM
  push dword 0x0800               ; CS
  push dword 0x0000               ; EIP
  iretd

gpfault:
  pop esi                         ; error code
  mov eax, [esp]                  ; saved EIP
  mov ebx, [esp + 4]              ; saved CS
  mov ecx, [esp + 8]              ; saved EFLAGS
  mov edx, [esp + 20]             ; saved ES
  mov edi, [esp + 24]             ; saved DS
  hlt

bits 16
v86code:
  mov ax, 0x1234
  mov [0x10], ax                  ; DS:0x10 = linear 0x9010
  mov bx, [0x10]
  push bx                         ; SS:SP = 0700:00FE = linear 0x70FE
  pop bp
  int 0x21
  hlt
v86end:

bits 32
align 8
gdt:
  dq 0
  dq 0x00CF9B000000FFFF           ; 0x08 code32
  dq 0x00CF93000000FFFF           ; 0x10 data
  dq 0x0000890110000067           ; 0x18 32-bit TSS at 0x11000
gdt_end:
gdtr:
  dw gdt_end - gdt - 1
  dd gdt
idtr:
  dw 0x7FF
  dd idt
align 8
idt:
  times 256*8 db 0
