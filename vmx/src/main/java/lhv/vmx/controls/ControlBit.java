package lhv.vmx.controls;

/**
 * One bit of a VMX control word: its position, the SDM's name for it and the section defining it.
 * Implemented by the one-enum-per-word tables ({@link PinBasedControl}, {@link PrimaryProcessorControl},
 * {@link SecondaryProcessorControl}, {@link ExitControl}, {@link EntryControl}).
 *
 * <p>Context: static specification data.
 */
public interface ControlBit {
    /** Bit position within the 32-bit control word. */
    int bit();

    /** The SDM's name of the control, e.g. "HLT exiting". */
    String sdmName();

    /** The SDM Vol. 3C section (2025 numbering) that defines the control. */
    String section();

    ControlWord word();

    default int mask() {
        return 1 << bit();
    }

    /** True when the control is set in {@code controlWordValue}. */
    default boolean isSet(int controlWordValue) {
        return (controlWordValue & mask()) != 0;
    }
}
