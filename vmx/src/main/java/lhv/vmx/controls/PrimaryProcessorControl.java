package lhv.vmx.controls;

/**
 * The primary processor-based VM-execution controls (SDM Vol. 3C 25.6.2, Table 25-6): they govern the handling of synchronous events, mainly those caused by executing specific instructions.
 *
 * <p>Context: static specification data; each constant is one bit of the word (SDM Vol. 3C 25.6.2).
 */
public enum PrimaryProcessorControl implements ControlBit {
    INTERRUPT_WINDOW_EXITING(2, "interrupt-window exiting"),
    USE_TSC_OFFSETTING(3, "use TSC offsetting"),
    HLT_EXITING(7, "HLT exiting"),
    INVLPG_EXITING(9, "INVLPG exiting"),
    MWAIT_EXITING(10, "MWAIT exiting"),
    RDPMC_EXITING(11, "RDPMC exiting"),
    RDTSC_EXITING(12, "RDTSC exiting"),
    CR3_LOAD_EXITING(15, "CR3-load exiting"),
    CR3_STORE_EXITING(16, "CR3-store exiting"),
    ACTIVATE_TERTIARY_CONTROLS(17, "activate tertiary controls"),
    CR8_LOAD_EXITING(19, "CR8-load exiting"),
    CR8_STORE_EXITING(20, "CR8-store exiting"),
    USE_TPR_SHADOW(21, "use TPR shadow"),
    NMI_WINDOW_EXITING(22, "NMI-window exiting"),
    MOV_DR_EXITING(23, "MOV-DR exiting"),
    UNCONDITIONAL_IO_EXITING(24, "unconditional I/O exiting"),
    USE_IO_BITMAPS(25, "use I/O bitmaps"),
    MONITOR_TRAP_FLAG(27, "monitor trap flag"),
    USE_MSR_BITMAPS(28, "use MSR bitmaps"),
    MONITOR_EXITING(29, "MONITOR exiting"),
    PAUSE_EXITING(30, "PAUSE exiting"),
    ACTIVATE_SECONDARY_CONTROLS(31, "activate secondary controls");

    private final int bit;
    private final String sdmName;

    PrimaryProcessorControl(int bit, String sdmName) {
        this.bit = bit;
        this.sdmName = sdmName;
    }

    @Override public int bit() { return bit; }
    @Override public String sdmName() { return sdmName; }
    @Override public String section() { return "25.6.2"; }
    @Override public ControlWord word() { return ControlWord.PRIMARY_PROCESSOR_BASED; }
}
