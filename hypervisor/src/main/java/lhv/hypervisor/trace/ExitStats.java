package lhv.hypervisor.trace;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * What {@code --stats} prints at the end of a run: VM exits by reason, exits per second of wall time
 * spent running the guest, guest instructions retired and the resulting MIPS.
 *
 * <p>Context: Java host; the exit loop counts, the run command prints.
 */
public final class ExitStats {
    private final Map<Integer, long[]> byReason = new TreeMap<>();
    private final Map<Integer, String> names = new TreeMap<>();
    private long exits;
    private long instructions;
    private long nanos;
    private long cpuNanos;

    /**
     * The counters of basic reasons below 128 (every reason the SDM defines), by reason, once a reason
     * has been seen: the exit loop counts each exit with one array load, no map lookup.
     */
    private final long[][] counters = new long[128][];

    /** Counts an exit of basic reason {@code reason} called {@code name}. */
    public void count(int reason, String name) {
        count(reason, r -> name);
    }

    /** Counts an exit of basic reason {@code reason}; {@code nameOf} names a reason when it is first seen. */
    public void count(int reason, IntFunction<String> nameOf) {
        exits++;
        long[] c = reason >= 0 && reason < counters.length ? counters[reason] : null;
        if (c == null) c = counter(reason, nameOf);
        c[0]++;
    }

    private long[] counter(int reason, IntFunction<String> nameOf) {
        long[] c = byReason.get(reason);
        if (c == null) {
            c = new long[1];
            byReason.put(reason, c);
            names.put(reason, nameOf.apply(reason));
        }
        if (reason >= 0 && reason < counters.length) counters[reason] = c;
        return c;
    }

    /** {@code cpuNanos}: CPU time of the running thread (-1 if unknown): on a busy host it shows the rate without waiting. */
    public void finish(long guestInstructions, long wallNanos, long cpuNanos) {
        this.instructions = guestInstructions;
        this.nanos = wallNanos;
        this.cpuNanos = cpuNanos;
    }

    public long exits() {
        return exits;
    }

    public long count(int reason) {
        long[] c = byReason.get(reason);
        return c == null ? 0 : c[0];
    }

    public long instructions() {
        return instructions;
    }

    public double exitsPerSecond() {
        return nanos == 0 ? 0 : exits * 1e9 / nanos;
    }

    public double mips() {
        return nanos == 0 ? 0 : instructions * 1e3 / nanos;
    }

    public void print(PrintStream out) {
        out.println("VM exits by reason:");
        for (Map.Entry<Integer, long[]> e : byReason.entrySet()) {
            out.printf("  %3d %-22s %d%n", e.getKey(), names.get(e.getKey()), e.getValue()[0]);
        }
        out.printf("total exits %d in %.3f s: %.0f exits/s%n", exits, nanos / 1e9, exitsPerSecond());
        out.printf("guest instructions %d: %.1f MIPS%n", instructions, mips());
        if (cpuNanos > 0) {
            out.printf("CPU time %.3f s: %.0f exits per CPU-second, %.1f MIPS per CPU-second%n", cpuNanos / 1e9,
                    exits * 1e9 / cpuNanos, instructions * 1e3 / cpuNanos);
        }
    }
}
