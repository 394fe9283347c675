package lhv.vmx.controls;

/**
 * The VM-entry controls (SDM Vol. 3C 25.8.1, Table 25-15): they govern what a VM entry loads and the mode it enters.
 *
 * <p>Context: static specification data; each constant is one bit of the word (SDM Vol. 3C 25.8.1).
 */
public enum EntryControl implements ControlBit {
    LOAD_DEBUG_CONTROLS(2, "load debug controls"),
    IA32E_MODE_GUEST(9, "IA-32e mode guest"),
    ENTRY_TO_SMM(10, "entry to SMM"),
    DEACTIVATE_DUAL_MONITOR_TREATMENT(11, "deactivate dual-monitor treatment"),
    LOAD_IA32_PERF_GLOBAL_CTRL(13, "load IA32_PERF_GLOBAL_CTRL"),
    LOAD_IA32_PAT(14, "load IA32_PAT"),
    LOAD_IA32_EFER(15, "load IA32_EFER"),
    LOAD_IA32_BNDCFGS(16, "load IA32_BNDCFGS"),
    CONCEAL_VMX_FROM_PT(17, "conceal VMX from PT"),
    LOAD_IA32_RTIT_CTL(18, "load IA32_RTIT_CTL"),
    LOAD_UINV(19, "load UINV"),
    LOAD_CET_STATE(20, "load CET state"),
    LOAD_GUEST_IA32_LBR_CTL(21, "load guest IA32_LBR_CTL"),
    LOAD_PKRS(22, "load PKRS"),
    LOAD_FRED(23, "load FRED");

    private final int bit;
    private final String sdmName;

    EntryControl(int bit, String sdmName) {
        this.bit = bit;
        this.sdmName = sdmName;
    }

    @Override public int bit() { return bit; }
    @Override public String sdmName() { return sdmName; }
    @Override public String section() { return "25.8.1"; }
    @Override public ControlWord word() { return ControlWord.ENTRY; }
}
