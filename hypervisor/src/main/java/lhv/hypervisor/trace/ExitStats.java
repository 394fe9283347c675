package lhv.hypervisor.trace;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * What {@code --stats} prints at the end of a run: VM exits by reason, exits per second of wall time
 * spent running the guest, guest instructions retired and the resulting MIPS; and the exit rate in
 * the steady state, without the JIT's warm-up: the clocks are read when the exit count reaches
 * each power of two from 2^16 on, and the steady window runs from the last such count at or below
 * half the run's exits to the end (so it covers at least the second half of the run).
 *
 * <p>Context: Java host; the exit loop counts, the run command prints.
 */
public final class ExitStats {
    private static final int FIRST_SAMPLE = 1 << 16;
    private final LongSupplier wallClock, cpuClock;
    /** The exit count at which the clocks are read next, and the readings so far (exits, wall, CPU). */
    private long nextSample = FIRST_SAMPLE;
    private final long[] sampleExits = new long[64], sampleWall = new long[64], sampleCpu = new long[64];
    private int samples;
    private long endWall, endCpu;

    /** Statistics whose steady-state window reads System.nanoTime and this thread's CPU time. */
    public ExitStats() {
        this(System::nanoTime, ExitStats::threadCpuNanos);
    }

    /** {@code cpuClock} yields -1 where CPU time is not available. */
    public ExitStats(LongSupplier wallClock, LongSupplier cpuClock) {
        this.wallClock = wallClock;
        this.cpuClock = cpuClock;
    }

    /** CPU time of the calling thread in nanoseconds, or -1 where the JVM cannot tell. */
    public static long threadCpuNanos() {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : -1;
    }

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
        if (++exits == nextSample) sample();
        long[] c = reason >= 0 && reason < counters.length ? counters[reason] : null;
        if (c == null) c = counter(reason, nameOf);
        c[0]++;
    }

    private void sample() {
        if (samples < sampleExits.length) {
            sampleExits[samples] = exits;
            sampleWall[samples] = wallClock.getAsLong();
            sampleCpu[samples] = cpuClock.getAsLong();
            samples++;
        }
        nextSample <<= 1;
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
        this.endWall = wallClock.getAsLong();
        this.endCpu = cpuClock.getAsLong();
    }

    /** The reading that starts the steady window, or -1 when the run was too short (under 2^17 exits). */
    private int steadyStart() {
        int k = -1;
        for (int i = 0; i < samples; i++) if (sampleExits[i] <= exits / 2) k = i;
        return k;
    }

    /** Exits per second of wall time in the steady window, or 0 when the run was too short for one. */
    public double steadyExitsPerSecond() {
        int k = steadyStart();
        return k < 0 || endWall == sampleWall[k] ? 0 : (exits - sampleExits[k]) * 1e9 / (endWall - sampleWall[k]);
    }

    /** Exits per CPU-second in the steady window, or 0 when unknown or the run was too short. */
    public double steadyExitsPerCpuSecond() {
        int k = steadyStart();
        return k < 0 || sampleCpu[k] < 0 || endCpu <= sampleCpu[k] ? 0 : (exits - sampleExits[k]) * 1e9 / (endCpu - sampleCpu[k]);
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
        int k = steadyStart();
        if (k >= 0) {
            out.printf("steady state (exits %d-%d, after JIT warm-up): %.0f exits/s", sampleExits[k] + 1, exits, steadyExitsPerSecond());
            double cpu = steadyExitsPerCpuSecond();
            out.printf(cpu > 0 ? ", %.0f exits per CPU-second%n" : "%n", cpu);
        }
    }
}
