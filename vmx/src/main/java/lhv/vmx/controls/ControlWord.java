package lhv.vmx.controls;

import lhv.cpu.Msr;

/**
 * The five 32-bit VMX control words of the VMCS and the capability MSRs that report, for each of
 * them, which bits may be 0 (allowed-0 settings, bits 31:0 of the MSR) and which may be 1 (allowed-1
 * settings, bits 63:32), SDM Vol. 3C Appendix A.3-A.5.
 *
 * <p>Context: static specification data, read by the capability model, the VM-entry control checks
 * and the {@code hv caps} decoder.
 */
public enum ControlWord {
    PIN_BASED("pin-based VM-execution controls", "25.6.1",
            Msr.IA32_VMX_PINBASED_CTLS, Msr.IA32_VMX_TRUE_PINBASED_CTLS, 0x0000_0016),
    PRIMARY_PROCESSOR_BASED("primary processor-based VM-execution controls", "25.6.2",
            Msr.IA32_VMX_PROCBASED_CTLS, Msr.IA32_VMX_TRUE_PROCBASED_CTLS, 0x0401_E172),
    SECONDARY_PROCESSOR_BASED("secondary processor-based VM-execution controls", "25.6.2",
            Msr.IA32_VMX_PROCBASED_CTLS2, -1, 0),
    EXIT("primary VM-exit controls", "25.7.1",
            Msr.IA32_VMX_EXIT_CTLS, Msr.IA32_VMX_TRUE_EXIT_CTLS, 0x0003_6DFF),
    ENTRY("VM-entry controls", "25.8.1",
            Msr.IA32_VMX_ENTRY_CTLS, Msr.IA32_VMX_TRUE_ENTRY_CTLS, 0x0000_11FF);

    public final String sdmName;
    public final String section;
    /** The capability MSR reporting the allowed settings. */
    public final int capabilityMsr;
    /** The TRUE_ capability MSR (SDM A.3.1, A.3.2, A.4, A.5), or -1 when the word has none. */
    public final int trueCapabilityMsr;
    /**
     * The "default1" class: bits the first VMX processors supported only as 1, which the non-TRUE
     * capability MSR therefore always reports as must-be-1 (SDM A.2).
     */
    public final int default1;

    ControlWord(String sdmName, String section, int capabilityMsr, int trueCapabilityMsr, int default1) {
        this.sdmName = sdmName;
        this.section = section;
        this.capabilityMsr = capabilityMsr;
        this.trueCapabilityMsr = trueCapabilityMsr;
        this.default1 = default1;
    }

    /** The enum constants naming the defined bits of this word. */
    public ControlBit[] bits() {
        return switch (this) {
            case PIN_BASED -> PinBasedControl.values();
            case PRIMARY_PROCESSOR_BASED -> PrimaryProcessorControl.values();
            case SECONDARY_PROCESSOR_BASED -> SecondaryProcessorControl.values();
            case EXIT -> ExitControl.values();
            case ENTRY -> EntryControl.values();
        };
    }

    /** The named bit at position {@code bit}, or null when the SDM defines none there. */
    public ControlBit bit(int bit) {
        for (ControlBit b : bits()) {
            if (b.bit() == bit) return b;
        }
        return null;
    }

    /** Mask of every bit position the SDM defines for this word. */
    public int definedMask() {
        int m = 0;
        for (ControlBit b : bits()) m |= b.mask();
        return m;
    }

    /**
     * Names of the bits set in {@code value}, in bit order; an undefined bit appears as
     * {@code "bit N"} (for default1 bits: {@code "bit N (default1)"}).
     */
    public java.util.List<String> decode(int value) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if ((value & (1 << i)) == 0) continue;
            ControlBit b = bit(i);
            if (b != null) names.add(b.sdmName());
            else names.add("bit " + i + ((default1 & (1 << i)) != 0 ? " (default1)" : ""));
        }
        return names;
    }
}
