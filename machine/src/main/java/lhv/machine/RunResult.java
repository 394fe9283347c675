package lhv.machine;

import java.util.Locale;

/**
 * The end of a bare-metal run: outcome, process exit status, how much ran and for how long.
 *
 * <p>Context: Java host, returned by {@link Machine#run}.
 *
 * @param detail extra text for the summary (the not-implemented message, the debug-exit value), or ""
 */
public record RunResult(Outcome outcome, int exitStatus, long instructions, long nanos, String detail) {

    /** Guest instructions per wall-clock microsecond. */
    public double mips() {
        return nanos == 0 ? 0 : instructions * 1000.0 / nanos;
    }

    /** The one-line summary {@code hv boot} prints on standard error. */
    public String summary() {
        String what = outcome == Outcome.DEBUG_EXIT ? "debug-exit, status " + exitStatus : outcome.text;
        if (!detail.isEmpty()) what += " (" + detail + ")";
        return String.format(Locale.ROOT, "hv: %s; %d instructions in %.3f s (%.1f MIPS)",
                what, instructions, nanos / 1e9, mips());
    }
}
