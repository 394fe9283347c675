package lhv.cli;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.vm.EntryDiagnosis;
import lhv.hypervisor.vm.Hypervisor;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import picocli.CommandLine.Model.CommandSpec;

import lhv.hypervisor.setup.ControlLint;
import lhv.vmx.caps.VmxCapabilities;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code hv check}: builds the VMCS the configuration describes, exactly as {@code hv run} would,
 * then runs every VM-entry check (SDM 27.2, 27.3) without entering and lists each failure with its
 * SDM section; then lists where the control words or MSR-area counts differ from the SDM's recipe
 * (the seed's mistakes can pass the checks on some processors). Exit status 0 when all is well, 1
 * otherwise.
 *
 * <p>Context: Java host, the user's command line.
 */
public final class CheckCommand implements Callable<Integer> {
    /** The command's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "check",
            "Build the VMCS of a configuration and run every VM-entry check without entering.");

    {
        VmSelection.addTo(spec);
    }

    @Override
    public Integer call() {
        VmSelection vm = VmSelection.of(spec);
        Console console = RunCommand.console(false, true);
        VmConfig cfg = vm.load(console, () -> { });
        if (cfg == null) return 2;
        List<String> failures = new ArrayList<>(), lint = new ArrayList<>();
        boolean[] built = {false};
        VmxCapabilities caps = VmxCapabilities.forModel(Hypervisor.model(vm.cpu));
        RunOptions o = RunOptions.of(cfg, console).withCpuModel(vm.cpu).withAfterSetup(vmcs -> {
            failures.addAll(EntryDiagnosis.failures(vmcs.vmx()));
            lint.addAll(ControlLint.check(cfg, caps, vmcs));
            built[0] = true;
            return false;
        });
        RunResult r = VmSelection.run(o, console);
        if (r == null) return 2;
        if (!built[0]) return r.status() == 0 ? 1 : r.status();
        for (String f : failures) System.out.println(f);
        for (String l : lint) System.out.println("VMCS differs from the SDM's recipe " + l);
        if (failures.isEmpty() && lint.isEmpty()) {
            System.out.println("all VM-entry checks pass");
            return 0;
        }
        System.out.println(failures.size() + " VM-entry check" + (failures.size() == 1 ? "" : "s") + " failed, "
                + lint.size() + " difference" + (lint.size() == 1 ? "" : "s") + " from the SDM's recipe");
        return 1;
    }
}
