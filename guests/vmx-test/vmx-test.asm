; vmx-test.asm — a bare-metal VT-x test: a tiny hypervisor in x86 code that checks the processor's VMX.
;
; In whose context it runs: it is the whole operating system of the machine. A Multiboot (v1) loader
; (QEMU's -kernel, or `hv boot`) enters it in 32-bit protected mode; it builds its own GDT, IDT, TSS
; and identity-mapped page tables, switches to long mode, then acts as a VMX host: VMXON, one VMCS,
; VMLAUNCH of a nested guest (another routine of this same kernel, sharing its page tables), and an
; exit handler at HOST_RIP that checks every VM exit against a table of expectations.
;
; Output is TAP on the 16550 UART at 0x3F8 ("ok N - ...", "not ok N - ...", "# ..." comments, the
; plan "1..N" at the end). The run ends by writing QEMU's isa-debug-exit port 0xF4:
;   0 all checks passed            -> exit status 1
;   1 at least one check failed     -> exit status 3
;   2 VMX not supported (CPUID)     -> exit status 5
;   3 unexpected exception (bail)   -> exit status 7
;
; Facts used here and where they were verified: VMCS field encodings (SDM Vol. 3 Appendix B; Linux
; arch/x86/include/asm/vmx.h), capability MSRs 480H-490H (SDM Appendix A), exit reasons (SDM
; Appendix C; Linux uapi vmx.h), exit-qualification formats (SDM 28.2.1 tables "Exit Qualification for
; Control-Register Accesses" and "for I/O Instructions"), interruption-information format (SDM
; 25.9.2), VM-instruction error numbers (SDM 31.4).

bits 32

; ---------------------------------------------------------------------------------------------------
; Constants
; ---------------------------------------------------------------------------------------------------

MB_MAGIC            equ 0x1BADB002      ; Multiboot v1 header magic
MB_FLAGS            equ 0               ; nothing requested: ELF headers give the load addresses
MB_BOOT_MAGIC       equ 0x2BADB002      ; what the loader leaves in EAX

COM1                equ 0x3F8
DEBUG_EXIT          equ 0xF4
EXIT_PASS           equ 0
EXIT_FAIL           equ 1
EXIT_NO_VMX         equ 2
EXIT_CRASH          equ 3

SEL_CODE64          equ 0x08
SEL_DATA            equ 0x10
SEL_CODE32          equ 0x18
SEL_TSS             equ 0x20

; MSRs (SDM Vol. 4; VMX ones SDM Vol. 3 Appendix A)
MSR_FEATURE_CONTROL equ 0x03A
MSR_SYSENTER_CS     equ 0x174
MSR_SYSENTER_ESP    equ 0x175
MSR_SYSENTER_EIP    equ 0x176
MSR_VMX_BASIC       equ 0x480
MSR_VMX_PINBASED    equ 0x481
MSR_VMX_PROCBASED   equ 0x482
MSR_VMX_EXIT        equ 0x483
MSR_VMX_ENTRY       equ 0x484
MSR_VMX_MISC        equ 0x485
MSR_VMX_CR0_FIXED0  equ 0x486
MSR_VMX_CR0_FIXED1  equ 0x487
MSR_VMX_CR4_FIXED0  equ 0x488
MSR_VMX_CR4_FIXED1  equ 0x489
MSR_VMX_TRUE_PIN    equ 0x48D
MSR_VMX_TRUE_PROC   equ 0x48E
MSR_VMX_TRUE_EXIT   equ 0x48F
MSR_VMX_TRUE_ENTRY  equ 0x490
MSR_EFER            equ 0xC0000080
MSR_OUT_OF_RANGE    equ 0x40000000      ; outside both MSR-bitmap ranges: always exits (SDM 26.1.3)

FC_LOCK             equ 1 << 0          ; IA32_FEATURE_CONTROL bits (SDM 24.7)
FC_VMXON_OUTSIDE_SMX equ 1 << 2

CR0_PE              equ 1 << 0
CR0_TS              equ 1 << 3
CR0_PG              equ 1 << 31
CR4_PAE             equ 1 << 5
CR4_VMXE            equ 1 << 13
EFER_LME            equ 1 << 8

; VM-execution, VM-exit and VM-entry control bits (SDM 25.6.1, 25.6.2, 25.7.1, 25.8.1)
PIN_PREEMPTION_TIMER equ 1 << 6
PROC_HLT_EXITING    equ 1 << 7
PROC_CR3_LOAD_EXIT  equ 1 << 15
PROC_MOV_DR_EXITING equ 1 << 23
PROC_USE_IO_BITMAPS equ 1 << 25
PROC_USE_MSR_BITMAPS equ 1 << 28
EXIT_HOST_ADDR_64   equ 1 << 9
EXIT_SAVE_EFER      equ 1 << 20
EXIT_LOAD_EFER      equ 1 << 21
ENTRY_IA32E_GUEST   equ 1 << 9
ENTRY_LOAD_EFER     equ 1 << 15

; VMCS field encodings (SDM Appendix B)
; 16-bit guest state
VMCS_GUEST_ES_SEL   equ 0x0800
VMCS_GUEST_CS_SEL   equ 0x0802
VMCS_GUEST_SS_SEL   equ 0x0804
VMCS_GUEST_DS_SEL   equ 0x0806
VMCS_GUEST_FS_SEL   equ 0x0808
VMCS_GUEST_GS_SEL   equ 0x080A
VMCS_GUEST_LDTR_SEL equ 0x080C
VMCS_GUEST_TR_SEL   equ 0x080E
; 16-bit host state
VMCS_HOST_ES_SEL    equ 0x0C00
VMCS_HOST_CS_SEL    equ 0x0C02
VMCS_HOST_SS_SEL    equ 0x0C04
VMCS_HOST_DS_SEL    equ 0x0C06
VMCS_HOST_FS_SEL    equ 0x0C08
VMCS_HOST_GS_SEL    equ 0x0C0A
VMCS_HOST_TR_SEL    equ 0x0C0C
; 64-bit control
VMCS_IO_BITMAP_A    equ 0x2000
VMCS_IO_BITMAP_B    equ 0x2002
VMCS_MSR_BITMAP     equ 0x2004
VMCS_EXIT_MSR_STORE_ADDR equ 0x2006
VMCS_EXIT_MSR_LOAD_ADDR equ 0x2008
VMCS_ENTRY_MSR_LOAD_ADDR equ 0x200A
VMCS_TSC_OFFSET     equ 0x2010
; 64-bit guest state
VMCS_LINK_POINTER   equ 0x2800
VMCS_GUEST_DEBUGCTL equ 0x2802
VMCS_GUEST_EFER     equ 0x2806
; 64-bit host state
VMCS_HOST_EFER      equ 0x2C02
; 32-bit control
VMCS_PIN_CTLS       equ 0x4000
VMCS_PROC_CTLS      equ 0x4002
VMCS_EXC_BITMAP     equ 0x4004
VMCS_PF_EC_MASK     equ 0x4006
VMCS_PF_EC_MATCH    equ 0x4008
VMCS_CR3_TARGET_CNT equ 0x400A
VMCS_EXIT_CTLS      equ 0x400C
VMCS_EXIT_MSR_ST_CNT equ 0x400E
VMCS_EXIT_MSR_LD_CNT equ 0x4010
VMCS_ENTRY_CTLS     equ 0x4012
VMCS_ENTRY_MSR_LD_CNT equ 0x4014
VMCS_ENTRY_INTR_INFO equ 0x4016
VMCS_ENTRY_INSTR_LEN equ 0x401A
; 32-bit read-only data
VMCS_VM_INSTR_ERROR equ 0x4400
VMCS_EXIT_REASON    equ 0x4402
VMCS_EXIT_INTR_INFO equ 0x4404
VMCS_EXIT_INTR_ERROR equ 0x4406
VMCS_EXIT_INSTR_LEN equ 0x440C
VMCS_EXIT_INSTR_INFO equ 0x440E
; 32-bit guest state
VMCS_GUEST_ES_LIMIT equ 0x4800
VMCS_GUEST_CS_LIMIT equ 0x4802
VMCS_GUEST_SS_LIMIT equ 0x4804
VMCS_GUEST_DS_LIMIT equ 0x4806
VMCS_GUEST_FS_LIMIT equ 0x4808
VMCS_GUEST_GS_LIMIT equ 0x480A
VMCS_GUEST_LDTR_LIMIT equ 0x480C
VMCS_GUEST_TR_LIMIT equ 0x480E
VMCS_GUEST_GDTR_LIMIT equ 0x4810
VMCS_GUEST_IDTR_LIMIT equ 0x4812
VMCS_GUEST_ES_AR    equ 0x4814
VMCS_GUEST_CS_AR    equ 0x4816
VMCS_GUEST_SS_AR    equ 0x4818
VMCS_GUEST_DS_AR    equ 0x481A
VMCS_GUEST_FS_AR    equ 0x481C
VMCS_GUEST_GS_AR    equ 0x481E
VMCS_GUEST_LDTR_AR  equ 0x4820
VMCS_GUEST_TR_AR    equ 0x4822
VMCS_GUEST_INTERRUPTIBILITY equ 0x4824
VMCS_GUEST_ACTIVITY equ 0x4826
VMCS_GUEST_SYSENTER_CS equ 0x482A
VMCS_PREEMPTION_TIMER equ 0x482E
; 32-bit host state
VMCS_HOST_SYSENTER_CS equ 0x4C00
; natural-width control
VMCS_CR0_MASK       equ 0x6000
VMCS_CR4_MASK       equ 0x6002
VMCS_CR0_SHADOW     equ 0x6004
VMCS_CR4_SHADOW     equ 0x6006
VMCS_CR3_TARGET0    equ 0x6008
; natural-width read-only data
VMCS_EXIT_QUAL      equ 0x6400
VMCS_GUEST_LINEAR   equ 0x640A
; natural-width guest state
VMCS_GUEST_CR0      equ 0x6800
VMCS_GUEST_CR3      equ 0x6802
VMCS_GUEST_CR4      equ 0x6804
VMCS_GUEST_ES_BASE  equ 0x6806
VMCS_GUEST_CS_BASE  equ 0x6808
VMCS_GUEST_SS_BASE  equ 0x680A
VMCS_GUEST_DS_BASE  equ 0x680C
VMCS_GUEST_FS_BASE  equ 0x680E
VMCS_GUEST_GS_BASE  equ 0x6810
VMCS_GUEST_LDTR_BASE equ 0x6812
VMCS_GUEST_TR_BASE  equ 0x6814
VMCS_GUEST_GDTR_BASE equ 0x6816
VMCS_GUEST_IDTR_BASE equ 0x6818
VMCS_GUEST_DR7      equ 0x681A
VMCS_GUEST_RSP      equ 0x681C
VMCS_GUEST_RIP      equ 0x681E
VMCS_GUEST_RFLAGS   equ 0x6820
VMCS_GUEST_PENDING_DBG equ 0x6822
VMCS_GUEST_SYSENTER_ESP equ 0x6824
VMCS_GUEST_SYSENTER_EIP equ 0x6826
; natural-width host state
VMCS_HOST_CR0       equ 0x6C00
VMCS_HOST_CR3       equ 0x6C02
VMCS_HOST_CR4       equ 0x6C04
VMCS_HOST_FS_BASE   equ 0x6C06
VMCS_HOST_GS_BASE   equ 0x6C08
VMCS_HOST_TR_BASE   equ 0x6C0A
VMCS_HOST_GDTR_BASE equ 0x6C0C
VMCS_HOST_IDTR_BASE equ 0x6C0E
VMCS_HOST_SYSENTER_ESP equ 0x6C10
VMCS_HOST_SYSENTER_EIP equ 0x6C12
VMCS_HOST_RSP       equ 0x6C14
VMCS_HOST_RIP       equ 0x6C16

VMCS_UNSUPPORTED    equ 0x00008000      ; bits 31:15 of an encoding are reserved: no such field

; Basic exit reasons (SDM Appendix C)
EXIT_EXCEPTION_NMI  equ 0
EXIT_CPUID          equ 10
EXIT_HLT            equ 12
EXIT_VMCALL         equ 18
EXIT_VMREAD         equ 23
EXIT_PREEMPTION_TIMER equ 52
EXIT_CR_ACCESS      equ 28
EXIT_DR_ACCESS      equ 29
EXIT_IO             equ 30
EXIT_MSR_READ       equ 31
EXIT_MSR_WRITE      equ 32
EXIT_INVALID_GUEST  equ 33
EXIT_ENTRY_FAILURE  equ 1 << 31         ; bit 31 of the exit-reason field

; VM-instruction error numbers (SDM 31.4)
VMERR_VMCALL_IN_ROOT equ 1
VMERR_RESUME_NONLAUNCHED equ 5
VMERR_ENTRY_BAD_CONTROLS equ 7
VMERR_ENTRY_BAD_HOST equ 8
VMERR_UNSUPPORTED_FIELD equ 12
VMERR_WRITE_READONLY equ 13

; The guest's view of things the host fakes, so the guest can tell emulation from pass-through
CPUID_FAKE_EAX      equ 0x564D5854      ; "TXMV"
CPUID_FAKE_EBX      equ 0x11111111
CPUID_FAKE_ECX      equ 0x22222222
CPUID_FAKE_EDX      equ 0x33333333
IN_FAKE_WORD        equ 0xBEEF
RDMSR_FAKE_EAX      equ 0x55667788
RDMSR_FAKE_EDX      equ 0x11223344
EFER_FAKE_EAX       equ 0x0000D00D
WRMSR_VALUE_EAX     equ 0xCAFEF00D
WRMSR_VALUE_EDX     equ 0x00000000
DR7_FAKE            equ 0x00000401
SYSENTER_CS_GUEST   equ 0x77            ; loaded by the VM-entry MSR-load area
SYSENTER_CS_HOST    equ 0x55            ; loaded by the VM-exit MSR-load area
UNMAPPED            equ 0x40000000      ; first byte above the identity-mapped GiB: PDPT[1] not present
PFEC_W              equ 1 << 1          ; page-fault error code: write access

; The ports and MSRs the bitmaps intercept
PORT_A_IMM          equ 0x80            ; bitmap A, OUT imm8
PORT_A_DX           equ 0x1234          ; bitmap A, 16-bit IN via DX (only its first byte's bit is set)
PORT_B_DX           equ 0x9000          ; bitmap B, 32-bit OUT via DX
PORT_PASS           equ COM1 + 5        ; UART line status: bitmap bit clear, reaches the device
PORT_SPAN           equ 0x7FFF          ; last port of bitmap A (bit clear); its next byte 8000H is set in B
PORT_WRAP           equ 0xFFFF          ; bit clear; a 2-byte access wraps to port 0 (SDM 26.1.3)

; Exit-expectation table entry layout (see exit_table)
EX_RIP              equ 0
EX_REASON           equ 4
EX_LENGTH           equ 8               ; 0 = not checked (undefined for hardware exceptions)
EX_ADVANCE          equ 12              ; bytes the host skips before VMRESUME
EX_QUAL             equ 16
EX_FLAGS            equ 20
EX_INTR_INFO        equ 24
EX_DESC             equ 28
EX_INFO_DESC        equ 32
EX_ACTION           equ 36
EX_SIZE             equ 40
EXF_CHECK_QUAL      equ 1
EXF_CHECK_INTR      equ 2
EXF_FINAL           equ 4
EXF_RIP_RANGE       equ 8               ; matches a RIP in [EX_RIP, EX_QUAL)
EXF_NEEDS_TIMER     equ 16              ; skipped when there is no VMX-preemption timer

; Guest registers saved by exit_entry (offsets from the saved-register block)
R_RAX equ 0
R_RBX equ 8
R_RCX equ 16
R_RDX equ 24
R_RSI equ 32
R_RDI equ 40
R_RBP equ 48

; ---------------------------------------------------------------------------------------------------
; Macros
; ---------------------------------------------------------------------------------------------------

; STR reg, "text": points a 32-bit register at a NUL-terminated string kept in .rodata.
%macro STR 2
    section .rodata
    %%s: db %2, 0
    section .text
    mov %1, %%s
%endmacro

; TAP cond-code, "description": reports one check whose outcome is the given condition code.
%macro TAP 2
    set%1 al
    STR esi, %2
    call tap
%endmacro

; VMW field, value: VMWRITE with failure accounting (value may be a register or an immediate).
%macro VMW 2
    mov edi, %1
    mov rsi, %2
    call vmwrite_checked
%endmacro

; VMX_RESULT "description": reports the VMsucceed/VMfail outcome of the VMX instruction just executed.
%macro VMX_RESULT 1
    pushfq
    pop rax
    STR esi, %1
    call report_vmx_success
%endmacro

; NOEXIT "description", instruction...: runs the instruction in the guest and checks no VM exit happened.
%macro NOEXIT_BEGIN 0
    mov r12, [exit_count]
%endmacro
%macro NOEXIT_END 1
    cmp r12, [exit_count]
    TAP e, %1
%endmacro

; ---------------------------------------------------------------------------------------------------
; Multiboot header
; ---------------------------------------------------------------------------------------------------

section .multiboot
align 4
multiboot_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

; ---------------------------------------------------------------------------------------------------
; 32-bit entry: from Multiboot's protected mode to long mode
; ---------------------------------------------------------------------------------------------------

section .text
global start32
extern __bss_start, __bss_end         ; from linker.ld
start32:
    cli
    cld
    mov esp, main_stack_top
    mov ebp, eax                        ; the Multiboot magic, kept until .bss is clean

    ; .bss is zeroed by a Multiboot ELF loader, but zero it again: the tables below rely on it.
    mov edi, __bss_start
    mov ecx, __bss_end
    sub ecx, edi
    shr ecx, 2
    xor eax, eax
    rep stosd
    mov [boot_magic], ebp

    lgdt [gdt_pointer]
    jmp SEL_CODE32:.reload
.reload:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax

    ; Long mode needs CPUID leaf 80000001H with EDX bit 29 (LM).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    bt edx, 29
    jnc .no_long_mode

    ; Identity map the first 1 GiB with 2 MiB pages: PML4[0] -> PDPT[0] -> PD[0..511].
    mov eax, pdpt
    or eax, 0x3                         ; present, writable
    mov [pml4], eax
    mov [pml4_alt], eax                 ; a second root with the same mappings (CR3 tests)
    mov eax, page_dir
    or eax, 0x3
    mov [pdpt], eax
    mov edi, page_dir
    mov eax, 0x83                       ; present, writable, PS (2 MiB)
    mov ecx, 512
.fill_pd:
    mov [edi], eax
    mov dword [edi + 4], 0
    add eax, 0x200000
    add edi, 8
    loop .fill_pd

    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PG | CR0_PE
    mov cr0, eax
    jmp SEL_CODE64:long_mode_entry

.no_long_mode:
    mov esi, msg_no_long_mode
.putc32:
    lodsb
    test al, al
    jz .exit32
    mov bl, al
    mov dx, COM1 + 5
.wait32:
    in al, dx
    test al, 0x20
    jz .wait32
    mov al, bl
    mov dx, COM1
    out dx, al
    jmp .putc32
.exit32:
    mov al, EXIT_CRASH
    out DEBUG_EXIT, al
.halt32:
    hlt
    jmp .halt32

; ---------------------------------------------------------------------------------------------------
; 64-bit host
; ---------------------------------------------------------------------------------------------------

bits 64
long_mode_entry:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, main_stack_top

    call setup_idt
    call setup_tss
    call uart_init

    STR esi, `# vmx-test: VT-x test guest (Multiboot ELF32, long mode, VMX host + nested guest)\n`
    call puts
    cmp dword [boot_magic], MB_BOOT_MAGIC
    je .magic_ok
    STR esi, `# warning: EAX at entry was not the Multiboot magic 0x2BADB002\n`
    call puts
.magic_ok:
    STR esi, `# long mode active, paging identity-maps 1 GiB\n`
    call puts

    call vmx_test

    ; vmx_test returns only after the summary; it leaves the exit value in AL.
    jmp exit_with

; exit_with: AL = debug-exit value. Never returns.
exit_with:
    out DEBUG_EXIT, al
.halt:
    cli
    hlt
    jmp .halt

; ---------------------------------------------------------------------------------------------------
; The test proper
; ---------------------------------------------------------------------------------------------------

vmx_test:
    ; --- 1. Does the processor have VMX at all? (SDM 24.6: CPUID.1:ECX.VMX[bit 5])
    mov eax, 1
    xor ecx, ecx
    cpuid
    bt ecx, 5
    jc .has_vmx
    STR esi, `# VMX not supported (CPUID.1:ECX.VMX = 0)\n1..0 # SKIP VMX not supported\n`
    call puts
    mov al, EXIT_NO_VMX
    ret
.has_vmx:
    mov al, 1
    STR esi, "CPUID.1:ECX.VMX[bit 5] is set"
    call tap

    ; --- 2. IA32_FEATURE_CONTROL (SDM 24.7): lock it with VMXON outside SMX enabled if unlocked.
    mov ecx, MSR_FEATURE_CONTROL
    rdmsr
    test eax, FC_LOCK
    jnz .fc_locked
    or eax, FC_LOCK | FC_VMXON_OUTSIDE_SMX
    wrmsr
    STR esi, `# IA32_FEATURE_CONTROL was unlocked: set lock and VMXON-outside-SMX\n`
    call puts
    rdmsr
.fc_locked:
    and eax, FC_LOCK | FC_VMXON_OUTSIDE_SMX
    cmp eax, FC_LOCK | FC_VMXON_OUTSIDE_SMX
    TAP e, "IA32_FEATURE_CONTROL is locked with VMXON outside SMX enabled"
    test al, al
    jz .abort_no_vmxoff

    ; --- 3. Capabilities, reported for the log.
    mov ecx, MSR_VMX_BASIC
    call rdmsr64
    mov [vmx_basic], rax
    STR esi, "IA32_VMX_BASIC"
    call diag_kv
    mov ecx, MSR_VMX_MISC
    call rdmsr64
    mov [vmx_misc], rax
    STR esi, "IA32_VMX_MISC"
    call diag_kv
    mov rax, [vmx_basic]
    shr rax, 32
    and eax, 0x1FFF                     ; bits 44:32: VMXON/VMCS region size
    cmp eax, 4096
    TAP be, "IA32_VMX_BASIC region size (bits 44:32) fits in 4 KiB"
    mov rax, [vmx_misc]
    shr rax, 16
    and eax, 0x1FF                      ; bits 24:16: number of CR3-target values
    cmp eax, 1
    TAP ae, "IA32_VMX_MISC reports at least one CR3-target value"

    ; --- 4. CR4.VMXE, then CR0/CR4 within the VMX fixed bits (SDM 24.8, Appendix A.7/A.8).
    mov rax, cr4
    or eax, CR4_VMXE
    mov cr4, rax
    mov ecx, MSR_VMX_CR0_FIXED0
    call rdmsr64
    mov rbx, rax
    mov ecx, MSR_VMX_CR0_FIXED1
    call rdmsr64
    mov rdx, cr0
    or rdx, rbx
    and rdx, rax
    mov cr0, rdx
    mov ecx, MSR_VMX_CR4_FIXED0
    call rdmsr64
    mov rbx, rax
    mov ecx, MSR_VMX_CR4_FIXED1
    call rdmsr64
    mov rdx, cr4
    or rdx, rbx
    and rdx, rax
    mov cr4, rdx
    mov rax, cr0
    STR esi, "CR0 for VMX operation"
    call diag_kv
    mov rax, cr4
    STR esi, "CR4 for VMX operation"
    call diag_kv

    ; --- 5. VMXON with the revision identifier in the region's first 31 bits (SDM 25.11.5).
    mov eax, [vmx_basic]
    and eax, 0x7FFFFFFF
    mov [vmxon_region], eax
    mov [vmcs_region], eax
    mov qword [vmxon_ptr], vmxon_region
    mov qword [vmcs_ptr], vmcs_region
    vmxon [vmxon_ptr]
    VMX_RESULT "VMXON succeeds"
    test al, al
    jz .abort_no_vmxoff

    ; VMXON in VMX root operation with no current VMCS: VMfailInvalid (SDM 31.3, VMXON).
    vmxon [vmxon_ptr]
    pushfq
    pop rax
    and eax, 0x41                       ; CF | ZF
    cmp eax, 0x01
    TAP e, "VMXON in VMX root operation without a current VMCS fails with VMfailInvalid"

    ; --- 6. VMCLEAR, VMPTRLD, VMPTRST.
    vmclear [vmcs_ptr]
    VMX_RESULT "VMCLEAR of the VMCS region succeeds"
    test al, al
    jz .abort
    vmptrld [vmcs_ptr]
    VMX_RESULT "VMPTRLD of the VMCS region succeeds"
    test al, al
    jz .abort
    mov qword [scratch], -1
    vmptrst [scratch]
    mov rax, [scratch]
    cmp rax, vmcs_region
    TAP e, "VMPTRST stores the current-VMCS pointer"

    ; --- 7. VMfailValid cases with their VM-instruction error numbers.
    vmresume
    mov edx, VMERR_RESUME_NONLAUNCHED
    STR esi, "VMRESUME of a clear VMCS fails with VM-instruction error 5"
    call expect_vmfail_valid
    ; VM-exit information fields are read-only unless IA32_VMX_MISC[29] ("VMWRITE to any supported
    ; field") is 1 (SDM Appendix A.6; SDM 31.3 VMWRITE).
    mov edi, VMCS_EXIT_REASON
    mov esi, 0x1234
    bt qword [vmx_misc], 29
    jc .vmwrite_any
    vmwrite rdi, rsi
    mov edx, VMERR_WRITE_READONLY
    STR esi, "VMWRITE to the read-only exit-reason field fails with error 13 (IA32_VMX_MISC[29] = 0)"
    call expect_vmfail_valid
    jmp .vmwrite_checked
.vmwrite_any:
    vmwrite rdi, rsi
    VMX_RESULT "VMWRITE to the exit-reason field succeeds (IA32_VMX_MISC[29] = 1)"
    mov edi, VMCS_EXIT_REASON
    vmread rax, rdi
    cmp rax, 0x1234
    TAP e, "VMREAD of the exit-reason field returns the value written"
.vmwrite_checked:
    mov edi, VMCS_UNSUPPORTED
    vmread rax, rdi
    mov edx, VMERR_UNSUPPORTED_FIELD
    STR esi, "VMREAD of an unsupported field encoding fails with error 12"
    call expect_vmfail_valid

    ; --- 8. Controls from the capability MSRs (SDM Appendix A.3-A.5; TRUE MSRs if BASIC[55]).
    mov rax, [vmx_basic]
    bt rax, 55
    jnc .legacy_ctls
    STR esi, `# IA32_VMX_BASIC[55] = 1: using the TRUE capability MSRs 48DH-490H\n`
    call puts
    mov dword [msr_pin], MSR_VMX_TRUE_PIN
    mov dword [msr_proc], MSR_VMX_TRUE_PROC
    mov dword [msr_exit], MSR_VMX_TRUE_EXIT
    mov dword [msr_entry], MSR_VMX_TRUE_ENTRY
    jmp .ctls
.legacy_ctls:
    STR esi, `# IA32_VMX_BASIC[55] = 0: using the capability MSRs 481H-484H\n`
    call puts
    mov dword [msr_pin], MSR_VMX_PINBASED
    mov dword [msr_proc], MSR_VMX_PROCBASED
    mov dword [msr_exit], MSR_VMX_EXIT
    mov dword [msr_entry], MSR_VMX_ENTRY
.ctls:
    mov ecx, [msr_pin]
    xor esi, esi
    call adjust_controls
    mov [ctl_pin], eax
    mov r13d, edx                       ; r13 accumulates required-but-unsupported bits
    mov ecx, [msr_pin]                  ; the timer is switched on for one stretch of the guest only
    mov esi, PIN_PREEMPTION_TIMER
    call adjust_controls
    test edx, edx
    setz [timer_supported]              ; optional: processors before Westmere lack it
    mov ecx, [msr_proc]
    mov esi, PROC_HLT_EXITING | PROC_CR3_LOAD_EXIT | PROC_MOV_DR_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS
    call adjust_controls
    mov [ctl_proc], eax
    or r13d, edx
    ; EFER save/load are optional: ask only for what the processor allows.
    mov ecx, [msr_exit]
    call rdmsr64
    shr rax, 32
    and eax, EXIT_SAVE_EFER | EXIT_LOAD_EFER
    mov esi, eax
    or esi, EXIT_HOST_ADDR_64
    mov ecx, [msr_exit]
    call adjust_controls
    mov [ctl_exit], eax
    or r13d, edx
    mov ecx, [msr_entry]
    call rdmsr64
    shr rax, 32
    and eax, ENTRY_LOAD_EFER
    mov esi, eax
    or esi, ENTRY_IA32E_GUEST
    mov ecx, [msr_entry]
    call adjust_controls
    mov [ctl_entry], eax
    or r13d, edx
    ; no secondary controls: the primary's bit 31 must be allowed to be 0
    test dword [ctl_proc], 1 << 31
    jz .no_secondary
    or r13d, 1 << 31
.no_secondary:
    test r13d, r13d
    TAP z, "the processor allows every VMX control this test needs"
    test al, al
    jz .abort
    mov eax, [ctl_pin]
    STR esi, "pin-based controls"
    call diag_kv
    mov eax, [ctl_proc]
    STR esi, "primary processor-based controls"
    call diag_kv
    mov eax, [ctl_exit]
    STR esi, "VM-exit controls"
    call diag_kv
    mov eax, [ctl_entry]
    STR esi, "VM-entry controls"
    call diag_kv

    ; --- 9. Bitmaps: I/O bitmaps A (ports 0000H-7FFFH) and B (8000H-FFFFH), MSR bitmap
    ; (read-low at +0, read-high at +1024, write-low at +2048, write-high at +3072; SDM 25.6.4, 25.6.9).
    mov eax, PORT_A_IMM
    bts [io_bitmap_a], rax
    mov eax, PORT_A_DX
    bts [io_bitmap_a], rax
    mov eax, PORT_B_DX - 0x8000
    bts [io_bitmap_b], rax
    mov eax, PORT_SPAN + 1 - 0x8000
    bts [io_bitmap_b], rax
    mov eax, MSR_SYSENTER_ESP           ; read-low
    bts [msr_bitmap], rax
    mov eax, (MSR_EFER & 0x1FFF) + 1024 * 8 ; read-high
    bts [msr_bitmap], rax
    mov eax, MSR_SYSENTER_EIP + 2048 * 8 ; write-low
    bts [msr_bitmap], rax
    ; the same bits seen as bytes (bit n of a bitmap is bit n%8 of byte n/8)
    xor eax, eax
    cmp byte [io_bitmap_a + PORT_A_IMM / 8], 1 << (PORT_A_IMM % 8)
    setne al
    cmp byte [io_bitmap_a + PORT_A_DX / 8], 1 << (PORT_A_DX % 8)
    setne ah
    or al, ah
    cmp byte [io_bitmap_b + (PORT_B_DX - 0x8000) / 8], 1 << ((PORT_B_DX - 0x8000) % 8)
    setne ah
    or al, ah
    cmp byte [io_bitmap_b], 1                   ; port 8000H
    setne ah
    or al, ah
    cmp byte [msr_bitmap + MSR_SYSENTER_ESP / 8], (1 << (MSR_SYSENTER_ESP % 8)) | (0 << (MSR_SYSENTER_EIP % 8))
    setne ah
    or al, ah
    cmp byte [msr_bitmap + 1024 + (MSR_EFER & 0x1FFF) / 8], 1 << (MSR_EFER % 8)
    setne ah
    or al, ah
    cmp byte [msr_bitmap + 2048 + MSR_SYSENTER_EIP / 8], 1 << (MSR_SYSENTER_EIP % 8)
    setne ah
    or al, ah
    test al, al
    TAP z, "BTS with a register bit offset set the intended I/O- and MSR-bitmap bits"

    ; --- 10. Fill the VMCS.
    mov dword [vmwrite_failures], 0
    ; control fields
    mov eax, [ctl_pin]
    VMW VMCS_PIN_CTLS, rax
    mov eax, [ctl_proc]
    VMW VMCS_PROC_CTLS, rax
    mov eax, [ctl_exit]
    VMW VMCS_EXIT_CTLS, rax
    mov eax, [ctl_entry]
    VMW VMCS_ENTRY_CTLS, rax
    ; #UD exits; #PF exits only when its error code has W set (PFEC & mask == match with bit 14 set,
    ; SDM 26.2); everything else goes to the guest's IDT.
    VMW VMCS_EXC_BITMAP, (1 << 6) | (1 << 14)
    VMW VMCS_PF_EC_MASK, PFEC_W
    VMW VMCS_PF_EC_MATCH, PFEC_W
    ; one-entry MSR areas for IA32_SYSENTER_CS (16-byte entries: index, reserved, value; SDM 25.7.2,
    ; 25.8.2): loaded on entry, stored and then loaded on exit
    VMW VMCS_ENTRY_MSR_LOAD_ADDR, entry_msr_load
    VMW VMCS_ENTRY_MSR_LD_CNT, 1
    VMW VMCS_EXIT_MSR_STORE_ADDR, exit_msr_store
    VMW VMCS_EXIT_MSR_ST_CNT, 1
    VMW VMCS_EXIT_MSR_LOAD_ADDR, exit_msr_load
    VMW VMCS_EXIT_MSR_LD_CNT, 1
    VMW VMCS_ENTRY_INTR_INFO, 0
    VMW VMCS_TSC_OFFSET, 0
    VMW VMCS_IO_BITMAP_A, io_bitmap_a
    VMW VMCS_IO_BITMAP_B, io_bitmap_b
    VMW VMCS_MSR_BITMAP, msr_bitmap
    VMW VMCS_CR3_TARGET_CNT, 1
    VMW VMCS_CR3_TARGET0, pml4          ; MOV to CR3 of this value does not exit
    mov qword [cr3_target_value], pml4
    mov qword [cr3_other_value], pml4_alt
    ; CR0.TS and CR4.VMXE are owned by the host; the guest reads the shadows (TS=0, VMXE=0).
    VMW VMCS_CR0_MASK, CR0_TS
    mov rax, cr0
    and rax, ~CR0_TS
    mov cr0, rax
    VMW VMCS_CR0_SHADOW, rax
    VMW VMCS_CR4_MASK, CR4_VMXE
    mov rax, cr4
    and rax, ~CR4_VMXE
    VMW VMCS_CR4_SHADOW, rax

    ; host state (SDM 25.5, checked by 27.2.2-27.2.4)
    mov rax, cr0
    VMW VMCS_HOST_CR0, rax
    mov rax, cr3
    VMW VMCS_HOST_CR3, rax
    mov rax, cr4
    VMW VMCS_HOST_CR4, rax
    VMW VMCS_HOST_CS_SEL, SEL_CODE64
    VMW VMCS_HOST_SS_SEL, SEL_DATA
    VMW VMCS_HOST_DS_SEL, SEL_DATA
    VMW VMCS_HOST_ES_SEL, SEL_DATA
    VMW VMCS_HOST_FS_SEL, SEL_DATA
    VMW VMCS_HOST_GS_SEL, SEL_DATA
    VMW VMCS_HOST_TR_SEL, SEL_TSS
    VMW VMCS_HOST_FS_BASE, 0
    VMW VMCS_HOST_GS_BASE, 0
    VMW VMCS_HOST_TR_BASE, tss
    VMW VMCS_HOST_GDTR_BASE, gdt
    VMW VMCS_HOST_IDTR_BASE, idt
    VMW VMCS_HOST_SYSENTER_CS, 0
    VMW VMCS_HOST_SYSENTER_ESP, 0
    VMW VMCS_HOST_SYSENTER_EIP, 0
    VMW VMCS_HOST_RSP, exit_stack_top
    VMW VMCS_HOST_RIP, exit_entry
    test dword [ctl_exit], EXIT_LOAD_EFER
    jz .no_host_efer
    mov ecx, MSR_EFER
    call rdmsr64
    VMW VMCS_HOST_EFER, rax
.no_host_efer:

    ; guest state (SDM 25.4, checked by 27.3.1): 64-bit, CPL 0, the host's own GDT/IDT/page tables
    mov rax, cr0
    VMW VMCS_GUEST_CR0, rax
    mov rax, cr3
    VMW VMCS_GUEST_CR3, rax
    mov rax, cr4
    VMW VMCS_GUEST_CR4, rax
    VMW VMCS_GUEST_DR7, 0x400
    VMW VMCS_GUEST_DEBUGCTL, 0
    test dword [ctl_entry], ENTRY_LOAD_EFER
    jz .no_guest_efer
    mov ecx, MSR_EFER
    call rdmsr64
    VMW VMCS_GUEST_EFER, rax
.no_guest_efer:
    VMW VMCS_GUEST_CS_SEL, SEL_CODE64
    VMW VMCS_GUEST_CS_BASE, 0
    VMW VMCS_GUEST_CS_LIMIT, 0xFFFFFFFF
    VMW VMCS_GUEST_CS_AR, 0xA09B        ; code exec/read accessed, S, DPL0, P, L, G
    mov ebx, VMCS_GUEST_ES_SEL - VMCS_GUEST_CS_SEL ; ES, SS, DS, FS, GS: flat data
    call guest_data_segment
    mov ebx, VMCS_GUEST_SS_SEL - VMCS_GUEST_CS_SEL
    call guest_data_segment
    mov ebx, VMCS_GUEST_DS_SEL - VMCS_GUEST_CS_SEL
    call guest_data_segment
    mov ebx, VMCS_GUEST_FS_SEL - VMCS_GUEST_CS_SEL
    call guest_data_segment
    mov ebx, VMCS_GUEST_GS_SEL - VMCS_GUEST_CS_SEL
    call guest_data_segment
    VMW VMCS_GUEST_LDTR_SEL, 0
    VMW VMCS_GUEST_LDTR_BASE, 0
    VMW VMCS_GUEST_LDTR_LIMIT, 0
    VMW VMCS_GUEST_LDTR_AR, 0x10000     ; unusable
    VMW VMCS_GUEST_TR_SEL, SEL_TSS
    VMW VMCS_GUEST_TR_BASE, tss
    VMW VMCS_GUEST_TR_LIMIT, tss_end - tss - 1
    VMW VMCS_GUEST_TR_AR, 0x008B        ; busy 64-bit TSS, P
    VMW VMCS_GUEST_GDTR_BASE, gdt
    VMW VMCS_GUEST_GDTR_LIMIT, gdt_end - gdt - 1
    VMW VMCS_GUEST_IDTR_BASE, idt
    VMW VMCS_GUEST_IDTR_LIMIT, idt_end - idt - 1
    VMW VMCS_GUEST_RSP, guest_stack_top
    VMW VMCS_GUEST_RIP, guest_main
    VMW VMCS_GUEST_RFLAGS, 0x2
    VMW VMCS_GUEST_INTERRUPTIBILITY, 0
    VMW VMCS_GUEST_ACTIVITY, 0
    VMW VMCS_GUEST_PENDING_DBG, 0
    VMW VMCS_GUEST_SYSENTER_CS, 0
    VMW VMCS_GUEST_SYSENTER_ESP, 0
    VMW VMCS_GUEST_SYSENTER_EIP, 0
    mov rax, -1
    VMW VMCS_LINK_POINTER, rax          ; no shadow VMCS: all ones (SDM 27.3.1.5)

    cmp dword [vmwrite_failures], 0
    TAP e, "every VMWRITE of the VMCS set-up succeeds"

    mov edi, VMCS_GUEST_RIP
    vmread rax, rdi
    cmp rax, guest_main
    TAP e, "VMREAD of guest RIP returns the value VMWRITE stored"
    mov edi, VMCS_CR3_TARGET_CNT
    vmread rax, rdi
    cmp rax, 1
    TAP e, "VMREAD of the 32-bit CR3-target count returns the value VMWRITE stored"

    ; --- 11. VM entries that must fail, each from this valid VMCS with one field changed.
    ; A control-field check (SDM 27.2.1.1): CR3-target count above what IA32_VMX_MISC[24:16] allows.
    mov rax, [vmx_misc]
    shr rax, 16
    and eax, 0x1FF
    inc eax
    VMW VMCS_CR3_TARGET_CNT, rax
    vmlaunch
    mov edx, VMERR_ENTRY_BAD_CONTROLS
    STR esi, "VMLAUNCH with a CR3-target count above IA32_VMX_MISC's fails with error 7"
    call expect_vmfail_valid
    VMW VMCS_CR3_TARGET_CNT, 1
    ; A host-state check (SDM 27.2.3): the host TR selector cannot be 0000H.
    VMW VMCS_HOST_TR_SEL, 0
    vmlaunch
    mov edx, VMERR_ENTRY_BAD_HOST
    STR esi, "VMLAUNCH with host TR selector 0 fails with error 8"
    call expect_vmfail_valid
    VMW VMCS_HOST_TR_SEL, SEL_TSS
    ; A guest-state check (SDM 27.3.1.4): RFLAGS bit 1 must be 1. This is not a VMfail but a
    ; VM-entry failure: a VM exit to HOST_RIP with reason 33 and bit 31 set (SDM 27.8).
    VMW VMCS_GUEST_RFLAGS, 0
    mov [host_main_rsp], rsp
    mov byte [expect_entry_failure], 1
    vmlaunch
    ; reaching the next instruction means the entry did not even get to the guest-state checks
    mov byte [expect_entry_failure], 0
    pushfq
    pop rax
    xor eax, eax
    STR esi, "VMLAUNCH with guest RFLAGS bit 1 clear fails with exit reason 33 | 80000000H (got VMfail)"
    call tap
    call read_vm_instruction_error
    STR esi, "VM-instruction error"
    call diag_kv
..@entry_failed:                         ; handle_exit comes back here on the expected failure
    mov rsp, [host_main_rsp]
    VMW VMCS_GUEST_RFLAGS, 0x2

    ; --- 12. Launch. A successful VMLAUNCH does not return here: exits go to exit_entry, and the
    ; last one (VMCALL) comes back through guest_done with the main stack restored.
    mov [host_main_rsp], rsp
    mov dword [exit_cursor], 0
    STR esi, `# VMLAUNCH\n`
    call puts
    vmlaunch
    pushfq
    pop rax
    STR esi, "VMLAUNCH enters the guest"
    call report_vmx_success             ; prints "not ok" with the VM-instruction error
    jmp .after_guest

..@guest_done:                          ; (a ..@ label keeps vmx_test's local labels in scope)
    mov rsp, [host_main_rsp]
.after_guest:
    ; every expected exit must have happened
    call report_missing_exits

    ; --- 13. Leave VMX operation.
    ; VMCALL in VMX root operation, no dual-monitor treatment: VMfailValid(1) (SDM 31.3 VMCALL).
    ; Done last because some emulators (Bochs 2.7) do not implement it and stop here.
    vmcall
    mov edx, VMERR_VMCALL_IN_ROOT
    STR esi, "VMCALL in VMX root operation fails with VM-instruction error 1"
    call expect_vmfail_valid
    vmclear [vmcs_ptr]
    VMX_RESULT "VMCLEAR of the launched VMCS succeeds"
    vmxoff
    VMX_RESULT "VMXOFF succeeds"
    mov rax, cr4
    and rax, ~CR4_VMXE
    mov cr4, rax
    jmp .summary

.abort:
    vmxoff
.abort_no_vmxoff:
    STR esi, `# stopping: a prerequisite failed\n`
    call puts
.summary:
    STR esi, "# "
    call puts
    mov rax, [tests_run]
    sub rax, [tests_failed]
    call putdec
    STR esi, " passed, "
    call puts
    mov rax, [tests_failed]
    call putdec
    STR esi, ` failed\n1..`
    call puts
    mov rax, [tests_run]
    call putdec
    mov al, `\n`
    call putc
    cmp qword [tests_failed], 0
    mov al, EXIT_PASS
    je .ret
    mov al, EXIT_FAIL
.ret:
    ret

; guest_data_segment: EBX = offset of the segment's selector encoding from CS's. Flat 4 GiB data,
; type 3 (read/write, accessed), S, DPL 0, P, D/B, G.
guest_data_segment:
    lea edi, [VMCS_GUEST_CS_SEL + rbx]
    mov esi, SEL_DATA
    call vmwrite_checked
    lea edi, [VMCS_GUEST_CS_BASE + rbx]
    xor esi, esi
    call vmwrite_checked
    lea edi, [VMCS_GUEST_CS_LIMIT + rbx]
    mov esi, 0xFFFFFFFF
    call vmwrite_checked
    lea edi, [VMCS_GUEST_CS_AR + rbx]
    mov esi, 0xC093
    call vmwrite_checked
    ret

; adjust_controls: ECX = capability MSR, ESI = wanted bits. Returns EAX = wanted | allowed-0 settings,
; limited to the allowed-1 settings (SDM A.3.1); EDX = wanted bits the processor does not allow.
adjust_controls:
    push rbx
    call rdmsr64
    mov rdx, rax
    shr rdx, 32                         ; allowed-1 settings
    mov ebx, esi
    or ebx, eax                         ; must-be-1 settings
    and ebx, edx
    not edx
    and edx, esi
    mov eax, ebx
    pop rbx
    ret

; rdmsr64: ECX = MSR; returns RAX = EDX:EAX.
rdmsr64:
    push rdx
    rdmsr
    shl rdx, 32
    mov eax, eax
    or rax, rdx
    pop rdx
    ret

; vmwrite_checked: EDI = field encoding, RSI = value. Counts and logs failures.
vmwrite_checked:
    vmwrite rdi, rsi
    jbe .failed
    ret
.failed:
    push rax
    push rsi
    inc dword [vmwrite_failures]
    STR esi, "# VMWRITE failed for field "
    call puts
    mov eax, edi
    call puthex
    STR esi, ", VM-instruction error "
    call puts
    call read_vm_instruction_error
    call putdec
    mov al, `\n`
    call putc
    pop rsi
    pop rax
    ret

; read_vm_instruction_error: RAX = VM-instruction error field (0x4400).
read_vm_instruction_error:
    push rdi
    mov edi, VMCS_VM_INSTR_ERROR
    vmread rax, rdi
    pop rdi
    ret

; report_vmx_success: RAX = RFLAGS after a VMX instruction, RSI = description. Reports ok when it
; VMsucceeded (CF = ZF = 0); otherwise "not ok" and the failure kind (SDM 31.2). Returns AL = pass.
report_vmx_success:
    push rbx
    mov rbx, rax
    test ebx, 0x41
    setz al
    call tap
    test al, al
    jnz .done
    bt ebx, 0
    jnc .valid
    STR esi, `#   VMfailInvalid (CF = 1)\n`
    call puts
    jmp .fail
.valid:
    STR esi, `#   VMfailValid (ZF = 1), VM-instruction error `
    call puts
    call read_vm_instruction_error
    call putdec
    mov al, `\n`
    call putc
.fail:
    xor eax, eax
.done:
    pop rbx
    ret

; expect_vmfail_valid: call right after the VMX instruction. EDX = expected VM-instruction error,
; RSI = description. Passes if ZF = 1, CF = 0 and the error field holds EDX.
expect_vmfail_valid:
    pushfq
    push rbx
    push rcx
    mov rbx, [rsp + 16]                 ; the RFLAGS the instruction left
    and ebx, 0x41
    xor ecx, ecx
    cmp ebx, 0x40
    jne .report
    call read_vm_instruction_error
    cmp eax, edx
    jne .report
    mov ecx, 1
.report:
    mov eax, ecx
    call tap
    test ecx, ecx
    jnz .done
    STR esi, `#   RFLAGS.CF/ZF = `
    call puts
    mov eax, ebx
    call puthex
    STR esi, `, VM-instruction error `
    call puts
    call read_vm_instruction_error
    call putdec
    STR esi, `, expected ZF = 1 and error `
    call puts
    mov eax, edx
    call putdec
    mov al, `\n`
    call putc
.done:
    pop rcx
    pop rbx
    popfq
    ret

; ---------------------------------------------------------------------------------------------------
; VM-exit handling (VMX root operation, entered at HOST_RIP with RSP = HOST_RSP)
; ---------------------------------------------------------------------------------------------------

; The processor loaded host RIP/RSP/CR/segments; general registers still hold the guest's values.
exit_entry:
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rbp
    push rdi
    push rsi
    push rdx
    push rcx
    push rbx
    push rax
    mov rbp, rsp                        ; RBP -> saved guest registers
    call handle_exit
    test eax, eax
    jnz ..@guest_done
    pop rax
    pop rbx
    pop rcx
    pop rdx
    pop rsi
    pop rdi
    pop rbp
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
    vmresume
    ; VMRESUME returned: VMfail (SDM 31.3 VMLAUNCH/VMRESUME). Report it and stop.
    pushfq
    pop rax
    STR esi, "VMRESUME returns to the guest"
    call report_vmx_success
    jmp ..@guest_done

; handle_exit: RBP = saved guest registers. Returns EAX = 0 to resume the guest, 1 to stop.
handle_exit:
    mov edi, VMCS_EXIT_REASON
    vmread rax, rdi
    mov [exit_reason], rax
    cmp byte [expect_entry_failure], 0
    jne .entry_failure_test
    inc qword [exit_count]
    mov edi, VMCS_EXIT_QUAL
    vmread rax, rdi
    mov [exit_qual], rax
    mov edi, VMCS_EXIT_INSTR_LEN
    vmread rax, rdi
    mov [exit_len], rax
    mov edi, VMCS_EXIT_INTR_INFO
    vmread rax, rdi
    mov [exit_intr], rax
    mov edi, VMCS_GUEST_RIP
    vmread rax, rdi
    mov [exit_rip], rax

    ; A VM-entry failure (exit reason bit 31, SDM 27.8) means the guest never ran.
    test dword [exit_reason], EXIT_ENTRY_FAILURE
    jz .entered
    xor eax, eax
    STR esi, "VMLAUNCH enters the guest (VM-entry failure exit instead)"
    call tap
    call diag_exit
    mov eax, 1
    ret
.entered:
    cmp qword [exit_count], 1
    jne .find
    mov al, 1
    STR esi, "VMLAUNCH enters the guest"
    call tap

    ; Find the expectation whose RIP matches; expectations skipped over did not exit.
.find:
    mov ecx, [exit_cursor]
.scan:
    cmp ecx, EXIT_TABLE_COUNT
    jae .unexpected
    imul ebx, ecx, EX_SIZE
    add ebx, exit_table
    mov eax, [rbx + EX_RIP]
    cmp rax, [exit_rip]
    je .matched
    test dword [rbx + EX_FLAGS], EXF_RIP_RANGE
    jz .next
    cmp [exit_rip], rax
    jb .next
    mov eax, [rbx + EX_QUAL]
    cmp [exit_rip], rax
    jb .matched
.next:
    inc ecx
    jmp .scan

.unexpected:
    inc qword [unexpected_exits]
    xor eax, eax
    STR esi, "no VM exit other than the expected ones"
    call tap
    call diag_exit
    cmp qword [unexpected_exits], 8
    jae .stop
    ; Skip the instruction if the exit reports its length, else give up.
    mov eax, [exit_reason]
    cmp eax, EXIT_EXCEPTION_NMI
    je .stop
    mov rax, [exit_rip]
    add rax, [exit_len]
    mov edi, VMCS_GUEST_RIP
    vmwrite rdi, rax
    xor eax, eax
    ret

.matched:
    ; expectations before this one never exited
    mov edx, ecx
    mov ecx, [exit_cursor]
.missed:
    cmp ecx, edx
    jae .check
    push rdx
    imul ebx, ecx, EX_SIZE
    add ebx, exit_table
    call report_missing_exit
    pop rdx
    inc ecx
    jmp .missed
.check:
    lea eax, [rdx + 1]
    mov [exit_cursor], eax
    imul ebx, edx, EX_SIZE
    add ebx, exit_table
    mov [current_expect], rbx

    ; line 1: the exit reason
    mov eax, [rbx + EX_REASON]
    cmp rax, [exit_reason]
    sete al
    mov esi, [rbx + EX_DESC]
    call tap
    test al, al
    jnz .info
    STR esi, "exit reason"
    mov rax, [exit_reason]
    mov edx, [rbx + EX_REASON]
    call diag_expect
.info:
    ; line 2: qualification / interruption information / instruction length
    mov r8d, 1                          ; pass so far
    test dword [rbx + EX_FLAGS], EXF_CHECK_QUAL
    jz .no_qual
    mov eax, [rbx + EX_QUAL]
    cmp rax, [exit_qual]
    je .no_qual
    xor r8d, r8d
.no_qual:
    test dword [rbx + EX_FLAGS], EXF_CHECK_INTR
    jz .no_intr
    mov eax, [rbx + EX_INTR_INFO]
    cmp eax, [exit_intr]
    je .no_intr
    xor r8d, r8d
.no_intr:
    mov eax, [rbx + EX_LENGTH]
    test eax, eax
    jz .no_len
    cmp rax, [exit_len]
    je .no_len
    xor r8d, r8d
.no_len:
    mov eax, r8d
    mov esi, [rbx + EX_INFO_DESC]
    call tap
    test r8d, r8d
    jnz .action
    STR esi, "exit qualification"
    mov rax, [exit_qual]
    mov edx, [rbx + EX_QUAL]
    call diag_expect
    STR esi, "exit interruption information"
    mov eax, [exit_intr]
    mov edx, [rbx + EX_INTR_INFO]
    call diag_expect
    STR esi, "VM-exit instruction length"
    mov rax, [exit_len]
    mov edx, [rbx + EX_LENGTH]
    call diag_expect

.action:
    mov eax, [rbx + EX_ACTION]
    test eax, eax
    jz .advance
    call rax                            ; RBP = guest registers, RBX = expectation
.advance:
    mov rbx, [current_expect]
    test dword [rbx + EX_FLAGS], EXF_FINAL
    jnz .stop
    mov rax, [exit_rip]
    mov ecx, [rbx + EX_ADVANCE]
    add rax, rcx
    cmp qword [rip_override], 0         ; an action may name where the guest continues
    je .set_rip
    mov rax, [rip_override]
    mov qword [rip_override], 0
.set_rip:
    mov edi, VMCS_GUEST_RIP
    vmwrite rdi, rax
    xor eax, eax
    ret
.stop:
    mov eax, 1
    ret

    ; The deliberate VM-entry failure of step 11: check it and resume the main flow there.
.entry_failure_test:
    mov byte [expect_entry_failure], 0
    cmp dword [exit_reason], EXIT_ENTRY_FAILURE | EXIT_INVALID_GUEST
    TAP e, "VMLAUNCH with guest RFLAGS bit 1 clear fails with exit reason 33 | 80000000H"
    test al, al
    jnz .entry_failure_done
    STR esi, "exit reason"
    mov rax, [exit_reason]
    call diag_kv
.entry_failure_done:
    jmp ..@entry_failed

; report_missing_exit: RBX = an expectation that was passed over without its exit.
report_missing_exit:
    push rax
    push rsi
    test dword [rbx + EX_FLAGS], EXF_NEEDS_TIMER
    jz .missing
    cmp byte [timer_supported], 0
    jne .missing
    mov esi, [rbx + EX_DESC]
    call tap_skip_no_timer
    mov esi, [rbx + EX_INFO_DESC]
    call tap_skip_no_timer
    pop rsi
    pop rax
    ret
.missing:
    xor eax, eax
    mov esi, [rbx + EX_DESC]
    call tap
    STR esi, `#   no VM exit happened at this instruction\n`
    call puts
    xor eax, eax
    mov esi, [rbx + EX_INFO_DESC]
    call tap
    pop rsi
    pop rax
    ret

; report_missing_exits: after the run, every expectation not yet met.
report_missing_exits:
    mov ecx, [exit_cursor]
.loop:
    cmp ecx, EXIT_TABLE_COUNT
    jae .done
    imul ebx, ecx, EX_SIZE
    add ebx, exit_table
    call report_missing_exit
    inc ecx
    jmp .loop
.done:
    mov dword [exit_cursor], EXIT_TABLE_COUNT
    ret

; diag_exit: logs the raw exit information just read.
diag_exit:
    STR esi, "exit reason"
    mov rax, [exit_reason]
    call diag_kv
    STR esi, "exit qualification"
    mov rax, [exit_qual]
    call diag_kv
    STR esi, "guest RIP"
    mov rax, [exit_rip]
    call diag_kv
    STR esi, "instruction length"
    mov rax, [exit_len]
    call diag_kv
    STR esi, "exit interruption information"
    mov rax, [exit_intr]
    call diag_kv
    ret

; --- exit actions: what the host does for the guest beyond skipping the instruction -----------------

action_cpuid:
    ; the first exit after the entry: the MSR areas have done their work (SDM 28.4, 28.6)
    cmp qword [exit_msr_store + 8], SYSENTER_CS_GUEST
    TAP e, "VM-exit MSR-store area holds the guest's IA32_SYSENTER_CS (77H)"
    mov ecx, MSR_SYSENTER_CS
    rdmsr
    cmp eax, SYSENTER_CS_HOST
    TAP e, "VM-exit MSR-load area gave the host IA32_SYSENTER_CS 55H (after host state set it to 0)"
    mov qword [rbp + R_RAX], CPUID_FAKE_EAX
    mov qword [rbp + R_RBX], CPUID_FAKE_EBX
    mov qword [rbp + R_RCX], CPUID_FAKE_ECX
    mov qword [rbp + R_RDX], CPUID_FAKE_EDX
    ret

action_in_word:
    mov word [rbp + R_RAX], IN_FAKE_WORD
    ret

action_rdmsr_low:
    mov rax, [rbp + R_RCX]
    cmp eax, MSR_SYSENTER_ESP
    TAP e, "RDMSR exit: guest ECX holds the MSR number 175H"
    mov qword [rbp + R_RAX], RDMSR_FAKE_EAX
    mov qword [rbp + R_RDX], RDMSR_FAKE_EDX
    ret

action_wrmsr_low:
    mov rax, [rbp + R_RCX]
    cmp eax, MSR_SYSENTER_EIP
    jne .bad
    mov rax, [rbp + R_RAX]
    cmp eax, WRMSR_VALUE_EAX
    jne .bad
    mov rax, [rbp + R_RDX]
    cmp eax, WRMSR_VALUE_EDX
.bad:
    TAP e, "WRMSR exit: guest ECX = 176H and EDX:EAX = the value written"
    ret

action_rdmsr_efer:
    mov qword [rbp + R_RAX], EFER_FAKE_EAX
    mov qword [rbp + R_RDX], 0
    ret

action_rdmsr_zero:
    mov qword [rbp + R_RAX], 0
    mov qword [rbp + R_RDX], 0
    ret

action_outs:
    mov edi, VMCS_GUEST_LINEAR
    vmread rax, rdi
    cmp rax, outs_source
    TAP e, "OUTS exit: guest-linear address is the source operand's address"
    ; VM-exit instruction information for INS/OUTS exists if IA32_VMX_BASIC[54] (SDM A.1, 28.2.5)
    STR esi, "OUTS exit: instruction information gives 64-bit address size and DS"
    bt qword [vmx_basic], 54
    jc .info
    mov edi, msg_no_ins_outs_info
    call tap_skip
    ret
.info:
    mov edi, VMCS_EXIT_INSTR_INFO
    vmread rax, rdi
    and eax, (7 << 15) | (7 << 7)       ; segment register (17:15), address size (9:7)
    cmp eax, (3 << 15) | (2 << 7)       ; DS, 64-bit
    sete al
    call tap
    ret

action_lmsw:
    movzx eax, word [lmsw_source]
    shl eax, 16
    or eax, (3 << 4) | 0                ; LMSW, register operand, CR0
    cmp rax, [exit_qual]
    TAP e, "LMSW exit: qualification = source data << 16 | access type 3 (LMSW) | CR0"
    ret

action_vmread:
    mov edi, VMCS_EXIT_INSTR_INFO
    vmread rax, rdi
    and eax, 0xF0000478                 ; Reg2 (31:28), register operand (10), Reg1 (6:3)
    cmp eax, (7 << 28) | (1 << 10) | (0 << 3)
    TAP e, "VMREAD exit: instruction information names RDI (field) and RAX (register destination)"
    ; arm the VMX-preemption timer for the guest's spin loop that follows (SDM 26.5.1)
    cmp byte [timer_supported], 0
    je .no_timer
    mov eax, [ctl_pin]
    or eax, PIN_PREEMPTION_TIMER
    VMW VMCS_PIN_CTLS, rax
    VMW VMCS_PREEMPTION_TIMER, 200
.no_timer:
    ret

action_timer:
    mov eax, [ctl_pin]
    VMW VMCS_PIN_CTLS, rax
    mov qword [rip_override], g_timer_done
    ret

action_pf_write:
    mov edi, VMCS_EXIT_INTR_ERROR
    vmread rax, rdi
    cmp rax, PFEC_W
    TAP e, "#PF exit: exit interruption error code 2 (write to a not-present page)"
    ret

action_dr_read:
    mov qword [rbp + R_RAX], DR7_FAKE
    ret

; HLT: leave RIP at the HLT (advance 0) and inject #BP as a software exception of length 1, so the
; guest's handler returns past the HLT (SDM 27.6.1.1: RIP + instruction length is pushed).
action_hlt:
    mov edi, VMCS_ENTRY_INTR_INFO
    mov esi, (1 << 31) | (6 << 8) | 3
    call vmwrite_checked
    mov edi, VMCS_ENTRY_INSTR_LEN
    mov esi, 1
    call vmwrite_checked
    ret

action_vmcall:
    ; every VM exit clears the valid bit of the VM-entry interruption information (SDM 28.2)
    mov edi, VMCS_ENTRY_INTR_INFO
    vmread rax, rdi
    bt eax, 31
    TAP nc, "VM exit cleared the valid bit of the VM-entry interruption-information field"
    mov rax, [rbp + R_RAX]
    test rax, rax
    TAP z, "VMCALL exit: guest RAX carries the hypercall number 0 (done)"
    ret

; ---------------------------------------------------------------------------------------------------
; The nested guest (VMX non-root operation, CPL 0, 64-bit, same page tables and IDT as the host)
; ---------------------------------------------------------------------------------------------------
; Each labelled instruction below must exit; exit_table lists them in order. Between them the guest
; checks, itself, instructions that must not exit (exit_count, kept by the host in shared memory,
; must not move) and the values the host emulated.

guest_main:
    ; The VM-entry MSR-load area ran after the guest-state area was loaded (SDM 27.4).
    mov ecx, MSR_SYSENTER_CS
    rdmsr
    cmp eax, SYSENTER_CS_GUEST
    TAP e, "guest: VM-entry MSR-load area set IA32_SYSENTER_CS to 77H"

    ; CPUID always exits (SDM 26.1.2).
    xor eax, eax
    xor ecx, ecx
g_cpuid:
    cpuid
    cmp eax, CPUID_FAKE_EAX
    jne .cpuid_bad
    cmp ebx, CPUID_FAKE_EBX
    jne .cpuid_bad
    cmp ecx, CPUID_FAKE_ECX
    jne .cpuid_bad
    cmp edx, CPUID_FAKE_EDX
.cpuid_bad:
    TAP e, "guest: CPUID returns the registers the host emulated"

    ; I/O bitmaps (SDM 26.1.3): port 80H (bitmap A) by immediate, 1234H (A) by DX for 2 bytes,
    ; 9000H (bitmap B) by DX for 4 bytes; a port whose bit is clear does not exit.
    mov al, 0x42
g_out_a:
    out PORT_A_IMM, al
    mov dx, PORT_A_DX
    xor eax, eax
g_in_a:
    in ax, dx
    cmp ax, IN_FAKE_WORD
    TAP e, "guest: IN AX from port 1234H returns the word the host emulated"
    mov dx, PORT_B_DX
    mov eax, 0x12345678
g_out_b:
    out dx, eax
    NOEXIT_BEGIN
    mov dx, PORT_PASS
    in al, dx
    NOEXIT_END "guest: IN from port 3FDH (bitmap A bit clear) does not exit"
    ; A 2-byte access exits when any port it touches has its bit set: 7FFFH (A, clear) + 8000H (B, set).
    NOEXIT_BEGIN
    mov dx, PORT_SPAN
    in al, dx
    NOEXIT_END "guest: 1-byte IN from port 7FFFH (bit clear) does not exit"
g_in_span:
    in ax, dx
    ; Accesses that wrap from FFFFH to 0000H always exit when I/O bitmaps are used.
    NOEXIT_BEGIN
    mov dx, PORT_WRAP
    in al, dx
    NOEXIT_END "guest: 1-byte IN from port FFFFH (bit clear) does not exit"
g_in_wrap:
    in ax, dx
    ; String I/O: REP OUTSB to port 80H (bitmap A).
    mov esi, outs_source
    mov ecx, 1
    mov dx, PORT_A_IMM
g_outs:
    rep outsb

    ; MSR bitmap (SDM 26.1.3): read-low 175H, write-low 176H, read-high C0000080H are intercepted;
    ; 174H in both directions and 176H for reading are not; MSRs outside both ranges always exit.
    mov ecx, MSR_SYSENTER_ESP
g_rdmsr_low:
    rdmsr
    cmp eax, RDMSR_FAKE_EAX
    jne .rdmsr_bad
    cmp edx, RDMSR_FAKE_EDX
.rdmsr_bad:
    TAP e, "guest: RDMSR 175H returns the value the host emulated"
    mov ecx, MSR_SYSENTER_EIP
    mov eax, WRMSR_VALUE_EAX
    mov edx, WRMSR_VALUE_EDX
g_wrmsr_low:
    wrmsr
    mov ecx, MSR_EFER
g_rdmsr_high:
    rdmsr
    cmp eax, EFER_FAKE_EAX
    TAP e, "guest: RDMSR C0000080H returns the value the host emulated"
    mov ecx, MSR_OUT_OF_RANGE
g_rdmsr_out:
    rdmsr
    NOEXIT_BEGIN
    mov ecx, MSR_SYSENTER_CS
    rdmsr
    NOEXIT_END "guest: RDMSR 174H (read bit clear) does not exit"
    NOEXIT_BEGIN
    mov ecx, MSR_SYSENTER_CS
    rdmsr
    wrmsr                               ; writes back the value just read
    NOEXIT_END "guest: WRMSR 174H (write bit clear) does not exit"
    NOEXIT_BEGIN
    mov ecx, MSR_SYSENTER_EIP
    rdmsr
    NOEXIT_END "guest: RDMSR 176H (only its write bit set) does not exit"

    ; CR0 under the guest/host mask (SDM 26.1.3, 26.3): TS is masked with shadow 0.
    mov rcx, cr0
    bt rcx, 3
    TAP nc, "guest: MOV from CR0 shows the read shadow for the masked TS bit"
    NOEXIT_BEGIN
    mov cr0, rcx
    NOEXIT_END "guest: MOV to CR0 keeping masked bits equal to the shadow does not exit"
    or rcx, CR0_TS
g_mov_cr0:
    mov cr0, rcx

    ; CR4: VMXE is masked with shadow 0, so the guest sees it clear and setting it exits.
    mov rdx, cr4
    bt rdx, 13
    TAP nc, "guest: MOV from CR4 shows the read shadow for the masked VMXE bit"
    or rdx, CR4_VMXE
g_mov_cr4:
    mov cr4, rdx

    ; CR3 with "CR3-load exiting": the CR3-target value does not exit, another value does.
    NOEXIT_BEGIN
    mov rax, [cr3_target_value]
    mov cr3, rax
    NOEXIT_END "guest: MOV to CR3 of CR3-target value 0 does not exit"
    mov rbx, [cr3_other_value]
g_mov_cr3:
    mov cr3, rbx
    ; MOV from CR3 reads CR3 when "CR3-store exiting" is 0 (it is, with TRUE controls).
    test dword [ctl_proc], 1 << 16
    jnz .skip_cr3_store
    NOEXIT_BEGIN
    mov rax, cr3
    cmp rax, [cr3_target_value]
    sete r13b
    cmp r12, [exit_count]
    sete al
    and al, r13b
    STR esi, "guest: MOV from CR3 does not exit and reads the CR3-target value loaded before"
    call tap
.skip_cr3_store:

    ; CLTS exits only if TS is set in both the mask and the shadow (SDM 26.1.3); the shadow has 0.
    NOEXIT_BEGIN
    clts
    NOEXIT_END "guest: CLTS with CR0.TS masked but clear in the shadow does not exit"
    ; LMSW setting the masked TS bit, which the shadow has clear, exits with access type 3.
    smsw eax
    or eax, CR0_TS
    mov [lmsw_source], ax
g_lmsw:
    lmsw ax

    ; VMX instructions always exit in non-root operation (no VMCS shadowing).
    mov edi, VMCS_GUEST_RIP
g_vmread:
    vmread rax, rdi

    ; The host armed the VMX-preemption timer at that exit: spin until it expires.
    cmp byte [timer_supported], 0
    je g_timer_done
    xor ecx, ecx
g_timer_loop:
    inc rcx
    jmp g_timer_loop
g_timer_loop_end:
g_timer_done:

    ; Exceptions: #BP is not in the exception bitmap and reaches the guest's IDT; #UD is and exits.
    NOEXIT_BEGIN
    mov r13, [breakpoints]
    int3
    cmp r13, [breakpoints]
    setne al
    cmp r12, [exit_count]
    sete ah
    and al, ah
    STR esi, "guest: INT3 (#BP not in the exception bitmap) is delivered through the guest IDT"
    call tap
g_ud2:
    ud2

    ; #PF with the error-code mask/match rule: a write fault (W=1) matches and exits; a read fault
    ; (error code 0) does not and is delivered through the guest IDT, whose handler skips the load.
g_pf_write:
    mov dword [UNMAPPED], eax
g_pf_write_end:
    NOEXIT_BEGIN
    mov r13, [page_faults]
    mov qword [pf_skip], g_pf_read_end - g_pf_read
    mov byte [pf_expected], 1
g_pf_read:
    mov eax, dword [UNMAPPED]
g_pf_read_end:
    mov byte [pf_expected], 0
    cmp r13, [page_faults]
    setne al
    cmp r12, [exit_count]
    sete ah
    and al, ah
    cmp qword [pf_error], 0
    sete ah
    and al, ah
    STR esi, "guest: read #PF (error code 0 does not match) is delivered through the guest IDT"
    call tap

    ; MOV DR with "MOV-DR exiting".
g_mov_from_dr7:
    mov rax, dr7
    cmp rax, DR7_FAKE
    TAP e, "guest: MOV from DR7 returns the value the host emulated"
    mov ebx, 0x400
g_mov_to_dr7:
    mov dr7, rbx

    ; HLT with "HLT exiting". The host answers by injecting a #BP (software exception, instruction
    ; length 1) at the HLT: the guest's handler returns to the instruction after it.
    mov r14, [breakpoints]
g_hlt:
    hlt
    cmp r14, [breakpoints]
    TAP ne, "guest: #BP injected by VM entry (type 6, length 1) reached the guest IDT and returned after HLT"

    ; VMCALL always exits (SDM 26.1.2). Function 0: the guest is done.
    xor eax, eax
g_vmcall:
    vmcall
    ; not reached: the host does not resume after the final VMCALL
    jmp g_vmcall

; Vector 3 in the shared IDT: only the guest ever raises it.
breakpoint_handler:
    inc qword [breakpoints]
    iretq

; Vector 14 in the shared IDT: a page fault the guest provoked on purpose skips the faulting
; instruction (pf_skip bytes); any other is unexpected.
page_fault_handler:
    cmp byte [pf_expected], 0
    je isr14
    push rax
    mov rax, [rsp + 8]                  ; error code
    mov [pf_error], rax
    mov rax, [pf_skip]
    add [rsp + 16], rax                 ; saved RIP
    inc qword [page_faults]
    pop rax
    add rsp, 8                          ; drop the error code
    iretq

; ---------------------------------------------------------------------------------------------------
; Exceptions in host or guest that nobody expects: bail out with status 7
; ---------------------------------------------------------------------------------------------------

%assign v 0
%rep 32
isr%[v]:
  %if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
    push v                              ; the processor pushed an error code
  %else
    push 0
    push v
  %endif
    jmp isr_common
  %assign v v + 1
%endrep

isr_common:
    STR esi, `Bail out! unexpected exception, vector `
    call puts
    mov rax, [rsp]
    call putdec
    STR esi, `, error code `
    call puts
    mov rax, [rsp + 8]
    call puthex
    STR esi, `, RIP `
    call puts
    mov rax, [rsp + 16]
    call puthex
    mov al, `\n`
    call putc
    mov al, EXIT_CRASH
    jmp exit_with

; setup_idt: 64-bit interrupt gates for vectors 0-31; vectors 3 and 14 go to the handlers the guest uses.
setup_idt:
    xor ecx, ecx
.loop:
    mov eax, [isr_table + rcx * 4]
    cmp ecx, 3
    jne .not_bp
    mov eax, breakpoint_handler
.not_bp:
    cmp ecx, 14
    jne .gate
    mov eax, page_fault_handler
.gate:
    mov rdi, rcx
    shl rdi, 4
    add rdi, idt
    mov [rdi], ax                       ; offset 15:0
    mov word [rdi + 2], SEL_CODE64
    mov word [rdi + 4], 0x8E00          ; present, DPL 0, 64-bit interrupt gate
    shr eax, 16
    mov [rdi + 6], ax                   ; offset 31:16
    mov dword [rdi + 8], 0              ; offset 63:32, reserved
    mov dword [rdi + 12], 0
    inc ecx
    cmp ecx, 32
    jb .loop
    lidt [idt_pointer]
    ret

; setup_tss: fills the 16-byte TSS descriptor's base and loads TR (VM exits need a non-null TR).
setup_tss:
    mov eax, tss
    mov edi, gdt + SEL_TSS
    mov [rdi + 2], ax                   ; base 15:0
    shr eax, 16
    mov [rdi + 4], al                   ; base 23:16
    mov [rdi + 7], ah                   ; base 31:24
    mov dword [rdi + 8], 0              ; base 63:32
    mov word [tss + 102], tss_end - tss ; I/O map base beyond the limit: no I/O permission map
    mov ax, SEL_TSS
    ltr ax
    ret

; ---------------------------------------------------------------------------------------------------
; Output: 16550 UART and TAP
; ---------------------------------------------------------------------------------------------------

uart_init:
    push rax
    push rdx
    mov dx, COM1 + 1
    xor al, al
    out dx, al                          ; IER: no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                          ; LCR: DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                          ; divisor 1: 115200 baud
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                          ; 8N1
    mov dx, COM1 + 2
    mov al, 0xC7
    out dx, al                          ; FIFO on, cleared
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al                          ; DTR, RTS
    pop rdx
    pop rax
    ret

%include "../include/console64.inc"   ; putc, puts, putdec, puthex

; tap: AL = pass (nonzero) or fail, RSI = description. Prints one TAP line; returns AL = 0/1.
tap:
    push rsi
    push rax
    inc qword [tests_run]
    test al, al
    jnz .ok
    inc qword [tests_failed]
    STR esi, "not "
    call puts
.ok:
    STR esi, "ok "
    call puts
    mov rax, [tests_run]
    call putdec
    STR esi, " - "
    call puts
    pop rax
    pop rsi
    call puts
    push rax
    mov al, `\n`
    call putc
    pop rax
    test al, al
    setnz al
    ret

; tap_skip_no_timer: RSI = description: a TAP skip for lack of the VMX-preemption timer.
tap_skip_no_timer:
    push rdi
    mov edi, msg_no_timer
    call tap_skip
    pop rdi
    ret

; tap_skip: RSI = description, RDI = reason. "ok N - <RSI> # SKIP <RDI>" (a TAP skip).
tap_skip:
    push rsi
    inc qword [tests_run]
    STR esi, "ok "
    call puts
    mov rax, [tests_run]
    call putdec
    STR esi, " - "
    call puts
    pop rsi
    call puts
    push rsi
    STR esi, " # SKIP "
    call puts
    mov rsi, rdi
    call puts
    mov al, `\n`
    call putc
    pop rsi
    ret

; diag_kv: "#   <RSI>: <RAX hex>"
diag_kv:
    push rsi
    push rax
    STR esi, "#   "
    call puts
    mov rsi, [rsp + 8]
    call puts
    STR esi, ": "
    call puts
    mov rax, [rsp]
    call puthex
    mov al, `\n`
    call putc
    pop rax
    pop rsi
    ret

; diag_expect: "#   <RSI>: got <RAX>, expected <RDX>"
diag_expect:
    push rsi
    push rax
    STR esi, "#   "
    call puts
    mov rsi, [rsp + 8]
    call puts
    STR esi, ": got "
    call puts
    mov rax, [rsp]
    call puthex
    STR esi, ", expected "
    call puts
    mov rax, rdx
    call puthex
    mov al, `\n`
    call putc
    pop rax
    pop rsi
    ret

; ---------------------------------------------------------------------------------------------------
; Read-only data: the exits the guest must cause, in order
; ---------------------------------------------------------------------------------------------------

section .rodata

outs_source:    db 0x5A
msg_no_ins_outs_info: db "IA32_VMX_BASIC[54] = 0: no instruction information for INS/OUTS", 0
msg_no_timer:   db "the processor has no VMX-preemption timer", 0
msg_no_long_mode: db "Bail out! the processor has no long mode", 10, 0

%define Q_OUT_A   (PORT_A_IMM << 16) | (1 << 6) | (0 << 3) | 0  ; imm operand, OUT, 1 byte
%define Q_IN_A    (PORT_A_DX << 16) | (0 << 6) | (1 << 3) | 1   ; DX operand, IN, 2 bytes
%define Q_OUT_B   (PORT_B_DX << 16) | (0 << 6) | (0 << 3) | 3   ; DX operand, OUT, 4 bytes
%define Q_IN_SPAN (PORT_SPAN << 16) | (1 << 3) | 1                ; DX operand, IN, 2 bytes
%define Q_IN_WRAP (PORT_WRAP << 16) | (1 << 3) | 1
%define Q_OUTS    (PORT_A_IMM << 16) | (1 << 5) | (1 << 4) | 0     ; REP, string, OUT, 1 byte
%define Q_CR0_RCX (1 << 8) | (0 << 4) | 0   ; register RCX, MOV to CR, CR0
%define Q_CR4_RDX (2 << 8) | (0 << 4) | 4   ; register RDX, MOV to CR, CR4
%define Q_CR3_RBX (3 << 8) | (0 << 4) | 3   ; register RBX, MOV to CR, CR3
%define INTR_UD   (1 << 31) | (3 << 8) | 6  ; valid, hardware exception, vector 6, no error code
%define INTR_PF   (1 << 31) | (1 << 11) | (3 << 8) | 14  ; valid, error code, hardware exception, 14
%define Q_DR7_FROM_RAX (0 << 8) | (1 << 4) | 7  ; RAX, MOV from DR, DR7
%define Q_DR7_TO_RBX   (3 << 8) | (0 << 4) | 7  ; RBX, MOV to DR, DR7

s_cpuid:      db "CPUID exits with reason 10", 0
s_cpuid_i:    db "CPUID exit: instruction length 2", 0
s_out_a:      db "OUT 80H (I/O bitmap A) exits with reason 30", 0
s_out_a_i:    db "OUT 80H exit: qualification 00800040H (1 byte, OUT, immediate, port 80H), length 2", 0
s_in_a:       db "IN AX,DX port 1234H (I/O bitmap A) exits with reason 30", 0
s_in_a_i:     db "IN 1234H exit: qualification 12340009H (2 bytes, IN, DX, port 1234H), length 2", 0
s_out_b:      db "OUT DX,EAX port 9000H (I/O bitmap B) exits with reason 30", 0
s_out_b_i:    db "OUT 9000H exit: qualification 90000003H (4 bytes, OUT, DX, port 9000H), length 1", 0
s_in_span:    db "IN AX,DX port 7FFFH (touches 8000H, bit set in bitmap B) exits with reason 30", 0
s_in_span_i:  db "IN 7FFFH exit: qualification 7FFF0009H (2 bytes, IN, DX, port 7FFFH), length 2", 0
s_in_wrap:    db "IN AX,DX port FFFFH (wraps to port 0) exits with reason 30", 0
s_in_wrap_i:  db "IN FFFFH exit: qualification FFFF0009H (2 bytes, IN, DX, port FFFFH), length 2", 0
s_outs:       db "REP OUTSB to port 80H exits with reason 30", 0
s_outs_i:     db "REP OUTSB exit: qualification 00800030H (1 byte, OUT, string, REP, DX, port 80H), length 2", 0
s_lmsw:       db "LMSW setting masked TS exits with reason 28", 0
s_lmsw_i:     db "LMSW AX exit: instruction length 3", 0
s_vmread:     db "VMREAD in VMX non-root operation exits with reason 23", 0
s_vmread_i:   db "VMREAD exit: instruction length 3", 0
s_rdmsr_l:    db "RDMSR 175H (read-low bitmap bit set) exits with reason 31", 0
s_rdmsr_l_i:  db "RDMSR 175H exit: instruction length 2", 0
s_wrmsr_l:    db "WRMSR 176H (write-low bitmap bit set) exits with reason 32", 0
s_wrmsr_l_i:  db "WRMSR 176H exit: instruction length 2", 0
s_rdmsr_h:    db "RDMSR C0000080H (read-high bitmap bit set) exits with reason 31", 0
s_rdmsr_h_i:  db "RDMSR C0000080H exit: instruction length 2", 0
s_rdmsr_o:    db "RDMSR 40000000H (outside the bitmap ranges) exits with reason 31", 0
s_rdmsr_o_i:  db "RDMSR 40000000H exit: instruction length 2", 0
s_cr0:        db "MOV to CR0 setting masked TS exits with reason 28", 0
s_cr0_i:      db "MOV CR0,RCX exit: qualification 100H (CR0, MOV to CR, RCX), length 3", 0
s_cr4:        db "MOV to CR4 setting masked VMXE exits with reason 28", 0
s_cr4_i:      db "MOV CR4,RDX exit: qualification 204H (CR4, MOV to CR, RDX), length 3", 0
s_cr3:        db "MOV to CR3 of a non-target value exits with reason 28", 0
s_cr3_i:      db "MOV CR3,RBX exit: qualification 303H (CR3, MOV to CR, RBX), length 3", 0
s_ud:         db "UD2 (#UD in the exception bitmap) exits with reason 0", 0
s_ud_i:       db "UD2 exit: interruption information 80000306H (valid, hardware exception, vector 6)", 0
s_timer:      db "VMX-preemption timer expiry exits with reason 52", 0
s_timer_i:    db "VMX-preemption timer exit: guest RIP inside the spin loop", 0
s_pf:         db "write #PF (error code matches mask/match) exits with reason 0", 0
s_pf_i:       db "#PF exit: qualification = faulting address 40000000H, interruption information 80000B0EH", 0
s_dr_from:    db "MOV RAX,DR7 with MOV-DR exiting exits with reason 29", 0
s_dr_from_i:  db "MOV RAX,DR7 exit: qualification 17H (DR7, MOV from DR, RAX), length 3", 0
s_dr_to:      db "MOV DR7,RBX with MOV-DR exiting exits with reason 29", 0
s_dr_to_i:    db "MOV DR7,RBX exit: qualification 307H (DR7, MOV to DR, RBX), length 3", 0
s_hlt:        db "HLT exits with reason 12", 0
s_hlt_i:      db "HLT exit: instruction length 1", 0
s_vmcall:     db "VMCALL exits with reason 18", 0
s_vmcall_i:   db "VMCALL exit: instruction length 3", 0

align 4
exit_table:
    ;  rip            reason           len adv qualification flags                intr      desc         info desc      action
    dd g_cpuid,       EXIT_CPUID,      2,  2,  0,            0,                   0,        s_cpuid,     s_cpuid_i,     action_cpuid
    dd g_out_a,       EXIT_IO,         2,  2,  Q_OUT_A,      EXF_CHECK_QUAL,      0,        s_out_a,     s_out_a_i,     0
    dd g_in_a,        EXIT_IO,         2,  2,  Q_IN_A,       EXF_CHECK_QUAL,      0,        s_in_a,      s_in_a_i,      action_in_word
    dd g_out_b,       EXIT_IO,         1,  1,  Q_OUT_B,      EXF_CHECK_QUAL,      0,        s_out_b,     s_out_b_i,     0
    dd g_in_span,     EXIT_IO,         2,  2,  Q_IN_SPAN,    EXF_CHECK_QUAL,      0,        s_in_span,   s_in_span_i,   0
    dd g_in_wrap,     EXIT_IO,         2,  2,  Q_IN_WRAP,    EXF_CHECK_QUAL,      0,        s_in_wrap,   s_in_wrap_i,   0
    dd g_outs,        EXIT_IO,         2,  2,  Q_OUTS,       EXF_CHECK_QUAL,      0,        s_outs,      s_outs_i,      action_outs
    dd g_rdmsr_low,   EXIT_MSR_READ,   2,  2,  0,            0,                   0,        s_rdmsr_l,   s_rdmsr_l_i,   action_rdmsr_low
    dd g_wrmsr_low,   EXIT_MSR_WRITE,  2,  2,  0,            0,                   0,        s_wrmsr_l,   s_wrmsr_l_i,   action_wrmsr_low
    dd g_rdmsr_high,  EXIT_MSR_READ,   2,  2,  0,            0,                   0,        s_rdmsr_h,   s_rdmsr_h_i,   action_rdmsr_efer
    dd g_rdmsr_out,   EXIT_MSR_READ,   2,  2,  0,            0,                   0,        s_rdmsr_o,   s_rdmsr_o_i,   action_rdmsr_zero
    dd g_mov_cr0,     EXIT_CR_ACCESS,  3,  3,  Q_CR0_RCX,    EXF_CHECK_QUAL,      0,        s_cr0,       s_cr0_i,       0
    dd g_mov_cr4,     EXIT_CR_ACCESS,  3,  3,  Q_CR4_RDX,    EXF_CHECK_QUAL,      0,        s_cr4,       s_cr4_i,       0
    dd g_mov_cr3,     EXIT_CR_ACCESS,  3,  3,  Q_CR3_RBX,    EXF_CHECK_QUAL,      0,        s_cr3,       s_cr3_i,       0
    dd g_lmsw,        EXIT_CR_ACCESS,  3,  3,  0,            0,                   0,        s_lmsw,      s_lmsw_i,      action_lmsw
    dd g_vmread,      EXIT_VMREAD,     3,  3,  0,            0,                   0,        s_vmread,    s_vmread_i,    action_vmread
    dd g_timer_loop,  EXIT_PREEMPTION_TIMER, 0, 0, g_timer_loop_end, EXF_RIP_RANGE | EXF_NEEDS_TIMER, 0,  s_timer,     s_timer_i,     action_timer
    dd g_ud2,         EXIT_EXCEPTION_NMI, 0, 2, 0,           EXF_CHECK_INTR,      INTR_UD,  s_ud,        s_ud_i,        0
    dd g_pf_write,    EXIT_EXCEPTION_NMI, 0, g_pf_write_end - g_pf_write, UNMAPPED, EXF_CHECK_QUAL | EXF_CHECK_INTR, INTR_PF, s_pf, s_pf_i, action_pf_write
    dd g_mov_from_dr7, EXIT_DR_ACCESS, 3,  3,  Q_DR7_FROM_RAX, EXF_CHECK_QUAL,    0,        s_dr_from,   s_dr_from_i,   action_dr_read
    dd g_mov_to_dr7,  EXIT_DR_ACCESS,  3,  3,  Q_DR7_TO_RBX, EXF_CHECK_QUAL,      0,        s_dr_to,     s_dr_to_i,     0
    dd g_hlt,         EXIT_HLT,        1,  0,  0,            0,                   0,        s_hlt,       s_hlt_i,       action_hlt
    dd g_vmcall,      EXIT_VMCALL,     3,  3,  0,            EXF_FINAL,           0,        s_vmcall,    s_vmcall_i,    action_vmcall
exit_table_end:
EXIT_TABLE_COUNT equ (exit_table_end - exit_table) / EX_SIZE

isr_table:
%assign v 0
%rep 32
    dd isr%[v]
  %assign v v + 1
%endrep

; ---------------------------------------------------------------------------------------------------
; Data
; ---------------------------------------------------------------------------------------------------

section .data
align 16
gdt:
    dq 0                                ; 00: null
    dq 0x00AF9B000000FFFF               ; 08: 64-bit code, DPL 0, accessed
    dq 0x00CF93000000FFFF               ; 10: flat data, read/write, accessed
    dq 0x00CF9B000000FFFF               ; 18: 32-bit code (boot stage only)
    dq 0x0000890000000067               ; 20: 64-bit TSS (available), base filled in by setup_tss
    dq 0
gdt_end:
gdt_pointer:
    dw gdt_end - gdt - 1
    dd gdt
    dd 0
idt_pointer:
    dw idt_end - idt - 1
    dd idt
    dd 0
align 16
entry_msr_load: dd MSR_SYSENTER_CS, 0
                dq SYSENTER_CS_GUEST
exit_msr_store: dd MSR_SYSENTER_CS, 0
                dq -1
exit_msr_load:  dd MSR_SYSENTER_CS, 0
                dq SYSENTER_CS_HOST

; ---------------------------------------------------------------------------------------------------
; Zeroed memory
; ---------------------------------------------------------------------------------------------------

section .bss
alignb 4096
pml4:           resb 4096
pml4_alt:       resb 4096
pdpt:           resb 4096
page_dir:       resb 4096
vmxon_region:   resb 4096
vmcs_region:    resb 4096
io_bitmap_a:    resb 4096
io_bitmap_b:    resb 4096
msr_bitmap:     resb 4096
idt:            resb 32 * 16
idt_end:
alignb 16
tss:            resb 104
tss_end:
alignb 16
                resb 16384
main_stack_top:
                resb 16384
exit_stack_top:
                resb 16384
guest_stack_top:
alignb 8
boot_magic:     resq 1
vmx_basic:      resq 1
vmx_misc:       resq 1
vmxon_ptr:      resq 1
vmcs_ptr:       resq 1
scratch:        resq 1
msr_pin:        resd 1
msr_proc:       resd 1
msr_exit:       resd 1
msr_entry:      resd 1
ctl_pin:        resd 1
ctl_proc:       resd 1
ctl_exit:       resd 1
ctl_entry:      resd 1
vmwrite_failures: resd 1
exit_cursor:    resd 1
host_main_rsp:  resq 1
current_expect: resq 1
cr3_target_value: resq 1
cr3_other_value: resq 1
exit_count:     resq 1
unexpected_exits: resq 1
exit_reason:    resq 1
exit_qual:      resq 1
exit_len:       resq 1
exit_intr:      resq 1
exit_rip:       resq 1
breakpoints:    resq 1
expect_entry_failure: resb 1
alignb 8
lmsw_source:    resq 1
rip_override:   resq 1
page_faults:    resq 1
pf_skip:        resq 1
pf_error:       resq 1
pf_expected:    resb 1
timer_supported: resb 1
alignb 8
tests_run:      resq 1
tests_failed:   resq 1
