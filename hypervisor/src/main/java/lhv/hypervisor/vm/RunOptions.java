package lhv.hypervisor.vm;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.CheckedVmcs;
import lhv.hypervisor.trace.Console;

import java.io.OutputStream;
import java.nio.file.Path;
import java.util.function.Predicate;

/**
 * How one {@code hv run} (or {@code hv check}/{@code hv vmcs}) should go.
 *
 * @param config        the VM configuration (defaults when no --config)
 * @param image         guest image path overriding the config's, or null
 * @param cpuModel      processor model name ({@code --cpu}), or null for the default
 * @param trace         where to write the exit trace (JSON Lines), or null
 * @param dumpState     where to write the final guest state, or null
 * @param maxInstructions guest instruction budget (0 = unlimited)
 * @param timeoutMillis wall-clock budget (0 = unlimited)
 * @param afterSetup    called with the built VMCS before VMLAUNCH; returning false stops there
 *                      ({@code hv check}, {@code hv vmcs})
 * @param atExit        when > 0, {@code atExitHook} runs at that exit and the run stops
 * @param atExitHook    called with the VMCS at exit {@code atExit}
 *
 * <p>Context: Java host.
 */
public record RunOptions(VmConfig config, Path image, String cpuModel, OutputStream trace, Path dumpState,
                         long maxInstructions, long timeoutMillis, Console console,
                         Predicate<CheckedVmcs> afterSetup, long atExit, java.util.function.Consumer<CheckedVmcs> atExitHook) {

    public static RunOptions of(VmConfig config, Console console) {
        return new RunOptions(config, null, null, null, null, 0, 0, console, v -> true, 0, v -> { });
    }

    public RunOptions withImage(Path p) {
        return new RunOptions(config, p, cpuModel, trace, dumpState, maxInstructions, timeoutMillis, console, afterSetup, atExit, atExitHook);
    }

    public RunOptions withCpuModel(String m) {
        return new RunOptions(config, image, m, trace, dumpState, maxInstructions, timeoutMillis, console, afterSetup, atExit, atExitHook);
    }

    public RunOptions withTrace(OutputStream t) {
        return new RunOptions(config, image, cpuModel, t, dumpState, maxInstructions, timeoutMillis, console, afterSetup, atExit, atExitHook);
    }

    public RunOptions withDumpState(Path p) {
        return new RunOptions(config, image, cpuModel, trace, p, maxInstructions, timeoutMillis, console, afterSetup, atExit, atExitHook);
    }

    public RunOptions withLimits(long instructions, long millis) {
        return new RunOptions(config, image, cpuModel, trace, dumpState, instructions, millis, console, afterSetup, atExit, atExitHook);
    }

    public RunOptions withAfterSetup(Predicate<CheckedVmcs> hook) {
        return new RunOptions(config, image, cpuModel, trace, dumpState, maxInstructions, timeoutMillis, console, hook, atExit, atExitHook);
    }

    public RunOptions withAtExit(long n, java.util.function.Consumer<CheckedVmcs> hook) {
        return new RunOptions(config, image, cpuModel, trace, dumpState, maxInstructions, timeoutMillis, console, afterSetup, n, hook);
    }
}
