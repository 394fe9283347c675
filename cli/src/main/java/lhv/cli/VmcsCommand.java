package lhv.cli;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.CheckedVmcs;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.trace.VmcsDump;
import lhv.hypervisor.vm.Hypervisor;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import lhv.vmx.caps.VmxCapabilities;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * {@code hv vmcs}: every VMCS field by name, decoded — right after set-up, or at the N-th VM exit of
 * a run of the guest.
 *
 * <p>Context: Java host, the user's command line.
 */
public final class VmcsCommand implements Callable<Integer> {
    /** The command's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "vmcs", "Dump every VMCS field, after set-up or at the N-th exit.");

    {
        spec.addPositional(CommandModel.positional(0, "0..1", "IMAGE", Path.class, "Guest image (default: the demo)."));
        VmSelection.addTo(spec);
        spec.addOption(CommandModel.option("N", long.class, "Dump at the N-th VM exit instead of after set-up.", "--at-exit").build());
    }

    @Override
    public Integer call() {
        Path image = CommandModel.positionalValue(spec, 0);
        VmSelection vm = VmSelection.of(spec);
        Long n = CommandModel.value(spec, "--at-exit");
        long atExit = n == null ? 0 : n;
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
