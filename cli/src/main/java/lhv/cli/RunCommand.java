package lhv.cli;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import picocli.CommandLine.Model.CommandSpec;

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
public final class RunCommand implements Callable<Integer> {
    /** The command's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "run",
            "Run a guest under the seed's VT-x hypervisor (the built-in demo when no IMAGE is given).");

    {
        spec.addPositional(CommandModel.positional(0, "0..1", "IMAGE", Path.class, "Guest image: flat 64-bit binary or ELF64."));
        VmSelection.addTo(spec);
        spec.addOption(CommandModel.option("FILE", Path.class, "Write the exit trace (JSON Lines) to FILE.", "--trace").build());
        spec.addOption(CommandModel.flag("Print exit counts by reason, exits/s, guest instructions and MIPS.", "--stats"));
        spec.addOption(CommandModel.option("FILE", Path.class, "Write the guest's final state (JSON) to FILE.", "--dump-state").build());
        spec.addOption(CommandModel.option("N", long.class, "Stop after N guest instructions.", "--max-instructions").build());
        spec.addOption(CommandModel.option("TIME", String.class, "Stop after TIME of wall-clock time (e.g. 500ms, 2s).", "--timeout").build());
        spec.addOption(CommandModel.flag("One line per set-up step and per exit.", "-v", "--verbose"));
        spec.addOption(CommandModel.flag("Only the guest's output and errors.", "-q", "--quiet"));
    }

    Path image;
    VmSelection vm;
    Path trace;
    boolean stats;
    Path dumpState;
    long maxInstructions;
    String timeout;
    boolean verbose;
    boolean quiet;

    /** Takes the parsed values out of the model. */
    private void read() {
        image = CommandModel.positionalValue(spec, 0);
        vm = VmSelection.of(spec);
        trace = CommandModel.value(spec, "--trace");
        stats = CommandModel.given(spec, "--stats");
        dumpState = CommandModel.value(spec, "--dump-state");
        Long n = CommandModel.value(spec, "--max-instructions");
        maxInstructions = n == null ? 0 : n;
        timeout = CommandModel.value(spec, "--timeout");
        verbose = CommandModel.given(spec, "--verbose");
        quiet = CommandModel.given(spec, "--quiet");
    }

    @Override
    public Integer call() {
        read();
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
