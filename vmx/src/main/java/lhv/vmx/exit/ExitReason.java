package lhv.vmx.exit;

/**
 * Basic exit reasons (bits 15:0 of the exit-reason field), SDM Vol. 3C Appendix C, Table C-1.
 * Each constant's name is the widely used Linux spelling ({@code arch/x86/include/uapi/asm/vmx.h},
 * with {@code EXIT_REASON_} dropped); where Linux defines no name, the SDM's wording in the same style
 * (IO_SMI, GETSEC, RSM, PCONFIG, SPP_EVENT, ENQCMD_PASID_FAIL, ...).
 *
 * <p>Context: static specification data, used when a VM exit is recorded and when traces are written.
 */
public enum ExitReason {
    EXCEPTION_NMI(0, "exception or non-maskable interrupt"),
    EXTERNAL_INTERRUPT(1, "external interrupt"),
    TRIPLE_FAULT(2, "triple fault"),
    INIT_SIGNAL(3, "INIT signal"),
    SIPI_SIGNAL(4, "start-up IPI"),
    IO_SMI(5, "I/O system-management interrupt"),
    OTHER_SMI(6, "other SMI"),
    INTERRUPT_WINDOW(7, "interrupt window"),
    NMI_WINDOW(8, "NMI window"),
    TASK_SWITCH(9, "task switch"),
    CPUID(10, "CPUID"),
    GETSEC(11, "GETSEC"),
    HLT(12, "HLT"),
    INVD(13, "INVD"),
    INVLPG(14, "INVLPG"),
    RDPMC(15, "RDPMC"),
    RDTSC(16, "RDTSC"),
    RSM(17, "RSM in SMM"),
    VMCALL(18, "VMCALL"),
    VMCLEAR(19, "VMCLEAR"),
    VMLAUNCH(20, "VMLAUNCH"),
    VMPTRLD(21, "VMPTRLD"),
    VMPTRST(22, "VMPTRST"),
    VMREAD(23, "VMREAD"),
    VMRESUME(24, "VMRESUME"),
    VMWRITE(25, "VMWRITE"),
    VMOFF(26, "VMXOFF"),
    VMON(27, "VMXON"),
    CR_ACCESS(28, "control-register accesses"),
    DR_ACCESS(29, "MOV DR"),
    IO_INSTRUCTION(30, "I/O instruction"),
    MSR_READ(31, "RDMSR"),
    MSR_WRITE(32, "WRMSR"),
    INVALID_STATE(33, "VM-entry failure due to invalid guest state"),
    MSR_LOAD_FAIL(34, "VM-entry failure due to MSR loading"),
    MWAIT_INSTRUCTION(36, "MWAIT"),
    MONITOR_TRAP_FLAG(37, "monitor trap flag"),
    MONITOR_INSTRUCTION(39, "MONITOR"),
    PAUSE_INSTRUCTION(40, "PAUSE"),
    MCE_DURING_VMENTRY(41, "VM-entry failure due to machine-check event"),
    TPR_BELOW_THRESHOLD(43, "TPR below threshold"),
    APIC_ACCESS(44, "APIC access"),
    EOI_INDUCED(45, "virtualized EOI"),
    GDTR_IDTR(46, "access to GDTR or IDTR"),
    LDTR_TR(47, "access to LDTR or TR"),
    EPT_VIOLATION(48, "EPT violation"),
    EPT_MISCONFIG(49, "EPT misconfiguration"),
    INVEPT(50, "INVEPT"),
    RDTSCP(51, "RDTSCP"),
    PREEMPTION_TIMER(52, "VMX-preemption timer expired"),
    INVVPID(53, "INVVPID"),
    WBINVD(54, "WBINVD or WBNOINVD"),
    XSETBV(55, "XSETBV"),
    APIC_WRITE(56, "APIC write"),
    RDRAND(57, "RDRAND"),
    INVPCID(58, "INVPCID"),
    VMFUNC(59, "VMFUNC"),
    ENCLS(60, "ENCLS"),
    RDSEED(61, "RDSEED"),
    PML_FULL(62, "page-modification log full"),
    XSAVES(63, "XSAVES"),
    XRSTORS(64, "XRSTORS"),
    PCONFIG(65, "PCONFIG"),
    SPP_EVENT(66, "SPP-related event"),
    UMWAIT(67, "UMWAIT"),
    TPAUSE(68, "TPAUSE"),
    LOADIWKEY(69, "LOADIWKEY"),
    ENCLV(70, "ENCLV"),
    SGX_CONFLICT(71, "SGX conflict"),
    ENQCMD_PASID_FAIL(72, "ENQCMD PASID translation failure"),
    ENQCMDS_PASID_FAIL(73, "ENQCMDS PASID translation failure"),
    BUS_LOCK(74, "bus lock"),
    NOTIFY(75, "instruction timeout"),
    SEAMCALL(76, "SEAMCALL"),
    TDCALL(77, "TDCALL"),
    RDMSRLIST(78, "RDMSRLIST"),
    WRMSRLIST(79, "WRMSRLIST"),
    ;

    /** Bit 31 of the exit-reason field: set when the exit is a VM-entry failure (SDM 25.9.1). */
    public static final int ENTRY_FAILURE_BIT = 1 << 31;

    private static final ExitReason[] BY_NUMBER = new ExitReason[128];
    static {
        for (ExitReason r : values()) BY_NUMBER[r.number] = r;
    }

    /** The basic exit reason number. */
    public final int number;
    /** The SDM's description of the reason (Table C-1). */
    public final String description;

    ExitReason(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** The reason for basic exit reason {@code number} (bits 15:0 are used), or null if none is defined. */
    public static ExitReason of(int number) {
        int basic = number & 0xFFFF;
        return basic < BY_NUMBER.length ? BY_NUMBER[basic] : null;
    }

    /** True for the reasons that only occur as VM-entry failures (33, 34, 41; SDM 27.8). */
    public boolean isEntryFailure() {
        return this == INVALID_STATE || this == MSR_LOAD_FAIL || this == MCE_DURING_VMENTRY;
    }

    /** The value of the exit-reason field for this reason; with bit 31 set when {@code entryFailure}. */
    public int exitReasonField(boolean entryFailure) {
        return number | (entryFailure ? ENTRY_FAILURE_BIT : 0);
    }
}
