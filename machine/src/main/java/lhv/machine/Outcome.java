package lhv.machine;

/**
 * How a bare-metal run ({@code hv boot}) ended, with the process exit status each outcome gives.
 * The guest's own status (isa-debug-exit) is always odd, {@code (v << 1) | 1}; every other outcome
 * has an even status so the two can never be confused.
 *
 * <p>Context: Java host, after {@link Machine#run}.
 */
public enum Outcome {
    /** The guest wrote to isa-debug-exit: status {@code (value << 1) | 1}, as QEMU. */
    DEBUG_EXIT(-1, "debug-exit"),
    /** HLT and nothing can wake the processor (no interrupt source on this board yet). */
    HALTED(0, "halted"),
    /** Usage error or an image that cannot be loaded (not a run outcome; listed for the table). */
    BAD_INPUT(2, "bad input"),
    /** Triple fault or another shutdown condition. */
    SHUTDOWN(4, "shutdown (triple fault)"),
    /** {@code --max-instructions} retired. */
    INSTRUCTION_LIMIT(6, "instruction limit reached"),
    /** {@code --timeout} seconds of wall-clock time passed. */
    TIMEOUT(8, "timeout"),
    /** The guest used an instruction or feature this processor does not implement. */
    NOT_IMPLEMENTED(10, "not implemented"),
    /** A defect of the emulator itself. */
    INTERNAL_ERROR(12, "internal error");

    /** Process exit status ({@link #DEBUG_EXIT} takes the guest's). */
    public final int status;
    public final String text;

    Outcome(int status, String text) {
        this.status = status;
        this.text = text;
    }
}
