; Protected-mode program for SystemProgramTest (assemble: nasm -f bin prot32.asm -o prot32.bin).
; Starts in real mode at 0000:7C00, enters 32-bit protected mode, enables 32-bit paging with 4 MiB
; pages (CR4.PSE; the second 4 MiB read-only for user mode), loads a 32-bit TSS, IRETs to CPL 3,
; where a write to the read-only page raises #PF (handled at CPL 0 through the TSS stack, error
; code in ESI, CR2 in EDI, then skipped), and INT 0x30 returns to CPL 0, which halts.
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
  ; page directory at 0x10000: 0..4 MiB user RW, 4..8 MiB user read-only (both 4 MiB pages)
  mov edi, 0x10000
  xor eax, eax
  mov ecx, 0x400
  rep stosd
  mov dword [0x10000], 0x00000087
  mov dword [0x10004], 0x00400085
  ; 32-bit TSS at 0x11000: SS0:ESP0 = 0x10:0x80000
  mov edi, 0x11000
  mov ecx, 0x1A
  rep stosd
  mov dword [0x11004], 0x80000
  mov dword [0x11008], 0x10
  mov ax, 0x28
  ltr ax
  ; IDT: #PF (14) and 0x30, 32-bit interrupt gates to CS 0x08; 0x30 has DPL 3
  mov eax, pagefault
  mov ebx, idt + 14 * 8
  mov edx, 0x8E00
  call setgate
  mov eax, int30
  mov ebx, idt + 0x30 * 8
  mov edx, 0xEE00
  call setgate
  lidt [idtr]
  mov eax, 0x10000
  mov cr3, eax
  mov eax, cr4
  or eax, 0x10                    ; PSE
  mov cr4, eax
  mov eax, cr0
  or eax, 0x80010000              ; PG | WP
  mov cr0, eax
  ; IRET to CPL 3: SS, ESP, EFLAGS, CS, EIP
  push dword 0x23
  push dword 0x70000
  push dword 0x002
  push dword 0x1B
  push dword user
  iretd
user:
  mov ax, 0x23                    ; IRET to CPL 3 made the DPL-0 DS null
  mov ds, ax
  mov ebp, 0x5678
  mov dword [0x400000], 1         ; #PF(P|W|U): 10-byte instruction, skipped by the handler
  int 0x30
  hlt                             ; never reached: INT 0x30 does not return

setgate:                          ; EAX = handler, EBX = IDT entry, EDX = access word
  mov word [ebx], ax
  mov word [ebx + 2], 0x08
  mov word [ebx + 4], dx
  shr eax, 16
  mov word [ebx + 6], ax
  ret

pagefault:
  pop esi                         ; error code
  mov edi, cr2
  add dword [esp], 10
  iretd

int30:
  mov ecx, [esp + 4]              ; saved CS
  mov edx, [esp + 16]             ; saved SS
  hlt

align 8
gdt:
  dq 0
  dq 0x00CF9B000000FFFF           ; 0x08 code32 DPL0
  dq 0x00CF93000000FFFF           ; 0x10 data DPL0
  dq 0x00CFFB000000FFFF           ; 0x18 code32 DPL3
  dq 0x00CFF3000000FFFF           ; 0x20 data DPL3
  dq 0x0000890110000067           ; 0x28 32-bit TSS at 0x11000
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
