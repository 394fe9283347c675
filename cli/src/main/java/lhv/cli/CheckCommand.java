package lhv.cli;

import lhv.hypervisor.config.ConfigError;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.vm.EntryDiagnosis;
import lhv.hypervisor.vm.Hypervisor;
import lhv.hypervisor.vm.MachineBoard;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code hv check}: builds the VMCS the configuration describes, exactly as {@code hv run} would,
 * then runs every VM-entry check (SDM 27.2, 27.3) without entering and lists each failure with its
 * SDM section. Exit status 0 when every check passes, 1 otherwise.
 *
 * <p>Context: Java host, the user's command line.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Build the VMCS of a configuration and run every VM-entry check without entering.")
public final class CheckCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "VM configuration (JSON or YAML).")
    Path config;

    @Option(names = "--cpu", paramLabel = "MODEL", description = "Processor model.")
    String cpu;

    @Override
    public Integer call() {
        Console console = RunCommand.console(false, true);
        VmConfig cfg;
        try {
            cfg = RunCommand.loadConfig(config);
            Hypervisor.model(cpu);
        } catch (ConfigError e) {
            console.error("hv: " + e.line());
            return 2;
        } catch (IllegalArgumentException e) {
            console.error("hv: " + e.getMessage());
            return 2;
        }
        List<String>[] failures = new List[1];
        RunOptions o = RunOptions.of(cfg, console).withCpuModel(cpu).withAfterSetup(vmcs -> {
            failures[0] = EntryDiagnosis.failures(vmcs.vmx());
            return false;
        });
        RunResult r;
        try {
            r = MachineBoard.hypervisor().run(o);
        } catch (ConfigError e) {
            console.error("hv: " + e.line());
            return 2;
        }
        if (failures[0] == null) return r.status() == 0 ? 1 : r.status();
        if (failures[0].isEmpty()) {
            System.out.println("all VM-entry checks pass");
            return 0;
        }
        for (String f : failures[0]) System.out.println(f);
        System.out.println(failures[0].size() + " VM-entry check" + (failures[0].size() == 1 ? "" : "s") + " failed");
        return 1;
    }
}
