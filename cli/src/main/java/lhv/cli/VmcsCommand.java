package lhv.cli;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.CheckedVmcs;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.trace.VmcsDump;
import lhv.hypervisor.vm.Hypervisor;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import lhv.vmx.caps.VmxCapabilities;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code hv vmcs}: every VMCS field by name, decoded — right after set-up, or at the N-th VM exit of
 * a run of the guest.
 *
 * <p>Context: Java host, the user's command line.
 */
@Command(name = "vmcs", mixinStandardHelpOptions = true, description = "Dump every VMCS field, after set-up or at the N-th exit.")
public final class VmcsCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "IMAGE", description = "Guest image (default: the demo).")
    Path image;

    @Mixin
    VmSelection vm;

    @Option(names = "--at-exit", paramLabel = "N", description = "Dump at the N-th VM exit instead of after set-up.")
    long atExit;

    @Override
    public Integer call() {
        Console console = RunCommand.console(false, true);
        VmConfig cfg = vm.load(console, () -> {
            if (atExit < 0) throw new IllegalArgumentException("--at-exit must be positive");
        });
        if (cfg == null) return 2;
        VmxCapabilities caps = VmxCapabilities.forModel(Hypervisor.model(vm.cpu));
        boolean[] dumped = {false};
        Consumer<CheckedVmcs> dump = vmcs -> {
            VmcsDump.print(System.out, caps, vmcs::read);
            dumped[0] = true;
        };
        RunOptions o = RunOptions.of(cfg, console).withImage(image).withCpuModel(vm.cpu);
        o = atExit > 0 ? o.withAtExit(atExit, dump) : o.withAfterSetup(v -> {
            dump.accept(v);
            return false;
        });
        RunResult r = VmSelection.run(o, console);
        if (r == null) return 2;
        if (!dumped[0]) {
            if (r.status() == 0) console.error("hv: the run ended before exit " + atExit);
            return r.status() == 0 ? 1 : r.status();
        }
        return 0;
    }
}
