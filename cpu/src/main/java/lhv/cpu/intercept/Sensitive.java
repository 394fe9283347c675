package lhv.cpu.intercept;

/**
 * Actions that may cause a VM exit in VMX non-root operation (SDM Vol. 3C 26.1-26.2) or whose result
 * VMX changes there (CR read shadows, TSC offset). The meaning of the two long arguments of
 * {@link Virtualization#intercept} is given per constant; "insn" is the decoded instruction.
 */
public enum Sensitive {
    /** a = EAX, b = ECX. */
    CPUID, GETSEC, INVD, WBINVD, XSETBV, HLT, PAUSE, RDPMC, MONITOR, MWAIT, RDRAND, RDSEED,
    /** Result transform: a = TSC value before offsetting; returns the value the guest reads. */
    RDTSC, RDTSCP,
    /** a = linear address. */
    INVLPG,
    /**
     * MOV to CR: a = CR number, b = new value (already read from the register). Returns the value to
     * write: a MOV to CR0/CR4 that does not exit leaves the bits set in the guest/host mask unchanged
     * (SDM Vol. 3C 26.3), so the interpreter must write the returned value, not b.
     */
    CR_WRITE,
    /** MOV from CR: a = CR number, b = architectural value; returns the value the guest reads. */
    CR_READ,
    /** a = 0. Returns 1 when CLTS clears CR0.TS, 0 when the host owns CR0.TS and it must stay (SDM 26.3). */
    CLTS,
    /**
     * a = the 16-bit LMSW source operand; b = linear address of a memory operand or -1. Returns the
     * operand to apply: host-owned bits among CR0[3:0] replaced by CR0's current values (SDM 26.3).
     */
    LMSW,
    /** SMSW: b = architectural CR0; returns the value the guest reads (read shadow). */
    SMSW,
    /** a = DR number, b = 1 for MOV from DR, 0 for MOV to DR. */
    MOV_DR,
    /** a = port, b = size | (in ? 0x100 : 0) | (string ? 0x200 : 0) | (rep ? 0x400 : 0). */
    IO,
    /** a = ECX. */
    RDMSR,
    /** a = ECX, b = EDX:EAX. */
    WRMSR,
    /** LGDT, LIDT, SGDT, SIDT (a = 0..3 in that order as the SDM's instruction-identity field). */
    DESCRIPTOR_TABLE,
    /** LLDT, LTR, SLDT, STR (a = instruction identity per SDM Table 28-11 ordering: SLDT 0, STR 1, LLDT 2, LTR 3). */
    LDTR_TR,
    /**
     * Delivery of an event about to happen: a = vector | (interruption type << 8) (SDM 25.8.3
     * types: 0 external interrupt, 2 NMI, 3 hardware exception, 4 software interrupt,
     * 5 privileged software exception, 6 software exception); b = error code or -1.
     */
    EVENT,
    /**
     * A task switch about to happen (always a VM exit, SDM Vol. 3C 26.1.2): a = the new TSS selector,
     * b = source per SDM Table 28-2 (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT). Called before
     * anything of the switch is done.
     */
    TASK_SWITCH,
    /**
     * IRET about to execute (before any of its checks): a = 0. Returns 1 when the IRET ends the
     * processor's blocking of NMIs, 0 when it must leave it ("NMI exiting" = 1, SDM Vol. 3C 26.3;
     * VMX then ends virtual-NMI blocking instead).
     */
    IRET,
    /** Triple fault: the processor would shut down. */
    TRIPLE_FAULT,
    /** INIT signal. */
    INIT
}
