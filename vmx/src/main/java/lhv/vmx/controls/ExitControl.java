package lhv.vmx.controls;

/**
 * The primary VM-exit controls (SDM Vol. 3C 25.7.1, Table 25-13): they govern what a VM exit saves and loads.
 *
 * <p>Context: static specification data; each constant is one bit of the word (SDM Vol. 3C 25.7.1).
 */
public enum ExitControl implements ControlBit {
    SAVE_DEBUG_CONTROLS(2, "save debug controls"),
    HOST_ADDRESS_SPACE_SIZE(9, "host address-space size"),
    LOAD_IA32_PERF_GLOBAL_CTRL(12, "load IA32_PERF_GLOBAL_CTRL"),
    ACKNOWLEDGE_INTERRUPT_ON_EXIT(15, "acknowledge interrupt on exit"),
    SAVE_IA32_PAT(18, "save IA32_PAT"),
    LOAD_IA32_PAT(19, "load IA32_PAT"),
    SAVE_IA32_EFER(20, "save IA32_EFER"),
    LOAD_IA32_EFER(21, "load IA32_EFER"),
    SAVE_VMX_PREEMPTION_TIMER_VALUE(22, "save VMX-preemption timer value"),
    CLEAR_IA32_BNDCFGS(23, "clear IA32_BNDCFGS"),
    CONCEAL_VMX_FROM_PT(24, "conceal VMX from PT"),
    CLEAR_IA32_RTIT_CTL(25, "clear IA32_RTIT_CTL"),
    CLEAR_IA32_LBR_CTL(26, "clear IA32_LBR_CTL"),
    CLEAR_UINV(27, "clear UINV"),
    LOAD_CET_STATE(28, "load CET state"),
    LOAD_PKRS(29, "load PKRS"),
    SAVE_IA32_PERF_GLOBAL_CTRL(30, "save IA32_PERF_GLOBAL_CTRL"),
    ACTIVATE_SECONDARY_CONTROLS(31, "activate secondary controls");

    private final int bit;
    private final String sdmName;

    ExitControl(int bit, String sdmName) {
        this.bit = bit;
        this.sdmName = sdmName;
    }

    @Override public int bit() { return bit; }
    @Override public String sdmName() { return sdmName; }
    @Override public String section() { return "25.7.1"; }
    @Override public ControlWord word() { return ControlWord.EXIT; }
}
