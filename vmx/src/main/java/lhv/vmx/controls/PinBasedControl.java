package lhv.vmx.controls;

/**
 * The pin-based VM-execution controls (SDM Vol. 3C 25.6.1, Table 25-5): they govern the handling of asynchronous events (interrupts, NMIs, the VMX-preemption timer).
 *
 * <p>Context: static specification data; each constant is one bit of the word (SDM Vol. 3C 25.6.1).
 */
public enum PinBasedControl implements ControlBit {
    EXTERNAL_INTERRUPT_EXITING(0, "external-interrupt exiting"),
    NMI_EXITING(3, "NMI exiting"),
    VIRTUAL_NMIS(5, "virtual NMIs"),
    ACTIVATE_VMX_PREEMPTION_TIMER(6, "activate VMX-preemption timer"),
    PROCESS_POSTED_INTERRUPTS(7, "process posted interrupts");

    private final int bit;
    private final String sdmName;

    PinBasedControl(int bit, String sdmName) {
        this.bit = bit;
        this.sdmName = sdmName;
    }

    @Override public int bit() { return bit; }
    @Override public String sdmName() { return sdmName; }
    @Override public String section() { return "25.6.1"; }
    @Override public ControlWord word() { return ControlWord.PIN_BASED; }
}
