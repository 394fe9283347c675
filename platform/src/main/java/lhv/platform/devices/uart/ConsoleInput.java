package lhv.platform.devices.uart;

/**
 * Where a UART's received characters come from. Non-blocking: the device asks only when it has room.
 *
 * <p>Context: called by the UART during guest execution (register reads) and by the machine's run
 * loop between slices.
 */
@FunctionalInterface
public interface ConsoleInput {
    /** The next received byte (0..255), or -1 when none is available now. */
    int poll();

    /** An unplugged line: nothing is ever received. */
    ConsoleInput NONE = () -> -1;
}
