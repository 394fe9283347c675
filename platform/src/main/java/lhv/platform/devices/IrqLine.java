package lhv.platform.devices;

/**
 * The interrupt request output of a device, wired to an interrupt controller input. Level
 * semantics: {@code set(true)} while the device requests service.
 *
 * <p>Context: called by devices during guest execution. No interrupt controller delivers interrupts
 * yet (a later issue adds PIC/APIC delivery), so {@link #NONE} is the default wire.
 */
@FunctionalInterface
public interface IrqLine {
    void set(boolean asserted);

    IrqLine NONE = asserted -> { };
}
