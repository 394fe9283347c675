package lhv.cli;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code hv run [IMAGE]}: the seed's hypervisor brings up VMX, runs the guest (the built-in demo
 * when no IMAGE is given) handling its VM exits, and goes down cleanly. The exit status is the
 * guest's (exit hypercall, debug-exit) or one of the hypervisor's failure statuses (README).
 *
 * <p>Context: Java host, the user's command line.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a guest under the seed's VT-x hypervisor (the built-in demo when no IMAGE is given).")
public final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE", description = "Guest image: flat 64-bit binary or ELF64.")
    Path image;

    @Mixin
    VmSelection vm;

    @Option(names = "--trace", paramLabel = "FILE", description = "Write the exit trace (JSON Lines) to FILE.")
    Path trace;

    @Option(names = "--stats", description = "Print exit counts by reason, exits/s, guest instructions and MIPS.")
    boolean stats;

    @Option(names = "--dump-state", paramLabel = "FILE", description = "Write the guest's final state (JSON) to FILE.")
    Path dumpState;

    @Option(names = "--max-instructions", paramLabel = "N", description = "Stop after N guest instructions.")
    long maxInstructions;

    @Option(names = "--timeout", paramLabel = "TIME", description = "Stop after TIME of wall-clock time (e.g. 500ms, 2s).")
    String timeout;

    @Option(names = {"-v", "--verbose"}, description = "One line per set-up step and per exit.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "Only the guest's output and errors.")
    boolean quiet;

    @Override
    public Integer call() {
        Console console = console(verbose, quiet);
        long[] timeoutMillis = {0};
        VmConfig cfg = vm.load(console, () -> {
            timeoutMillis[0] = timeout == null ? 0 : parseDuration(timeout);
            if (maxInstructions < 0) throw new IllegalArgumentException("--max-instructions must not be negative");
            if (image != null && !Files.isRegularFile(image)) throw new IllegalArgumentException("guest image not found: " + image);
        });
        if (cfg == null) return 2;
        OutputStream traceOut = null;
        try {
            if (trace != null) traceOut = new BufferedOutputStream(Files.newOutputStream(trace));
            RunOptions o = RunOptions.of(cfg, console).withImage(image).withCpuModel(vm.cpu).withTrace(traceOut)
                    .withDumpState(dumpState).withLimits(maxInstructions, timeoutMillis[0]);
            RunResult r = VmSelection.run(o, console);
            if (r == null) return 2;
            if (stats) r.stats().print(System.out);
            return r.status();
        } catch (IOException e) {
            console.error("hv: cannot write " + trace + ": " + e.getMessage());
            return 2;
        } finally {
            if (traceOut != null) {
                try {
                    traceOut.close();
                } catch (IOException ignored) {
                    // already reported by the writer
                }
            }
        }
    }

    static Console console(boolean verbose, boolean quiet) {
        return new Console(System.out, System.err, quiet ? Console.Verbosity.QUIET
                : verbose ? Console.Verbosity.VERBOSE : Console.Verbosity.NORMAL);
    }

    /** "500ms", "2s", "1.5s", "1m" or a plain number of seconds. */
    static long parseDuration(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        double ms;
        try {
            if (t.endsWith("ms")) ms = Long.parseLong(t.substring(0, t.length() - 2).trim());
            else if (t.endsWith("s")) ms = Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 1000;
            else if (t.endsWith("m")) ms = Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 60_000;
            else ms = Double.parseDouble(t) * 1000;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--timeout: '" + text + "' is not a duration (e.g. 500ms, 2s)");
        }
        // NaN, negative, zero or absurdly long values would silently disable the bound or overflow
        // the deadline in nanoseconds.
        if (!(ms >= 1 && ms <= MAX_TIMEOUT_MS)) {
            throw new IllegalArgumentException("--timeout: '" + text + "' must be between 1ms and " + MAX_TIMEOUT_MS / 1000 + "s");
        }
        return Math.round(ms);
    }

    /** About 11.5 days: far beyond any run, far below what overflows a nanosecond deadline. */
    static final long MAX_TIMEOUT_MS = 1_000_000_000L;
}
