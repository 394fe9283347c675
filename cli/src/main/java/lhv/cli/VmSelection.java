package lhv.cli;

import lhv.hypervisor.config.ConfigError;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.vm.Hypervisor;
import lhv.hypervisor.vm.MachineBoard;
import lhv.hypervisor.vm.RunOptions;
import lhv.hypervisor.vm.RunResult;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;

/**
 * The options that choose the virtual machine — {@code --config} and {@code --cpu} — shared by
 * {@code hv run}, {@code hv check} and {@code hv vmcs} (each adds them to its model with
 * {@link #addTo}), with the one way their errors are reported: a single {@code hv:} line and
 * status 2, before anything runs.
 *
 * <p>Context: Java host, the user's command line.
 */
final class VmSelection {
    Path config;
    String cpu;

    /** Adds {@code --config} and {@code --cpu} to a command's model. */
    static void addTo(CommandSpec spec) {
        spec.addOption(CommandModel.option("FILE", Path.class, "VM configuration (JSON, or YAML for .yaml/.yml).", "--config").build());
        spec.addOption(CommandModel.option("MODEL", String.class, "Processor model (lhv-skylake, lhv-skylake-novmx).", "--cpu").build());
    }

    /** The selection parsed into {@code spec}. */
    static VmSelection of(CommandSpec spec) {
        VmSelection vm = new VmSelection();
        vm.config = CommandModel.value(spec, "--config");
        vm.cpu = CommandModel.value(spec, "--cpu");
        return vm;
    }

    /** A check of a command's own options; throws IllegalArgumentException with the message to print. */
    @FunctionalInterface
    interface OptionCheck {
        void run();
    }

    /**
     * Loads the configuration (the seed's defaults without {@code --config}), validates the model
     * and runs the command's own {@code checks}. Returns null after printing one line when any of
     * them is wrong.
     */
    VmConfig load(Console console, OptionCheck checks) {
        try {
            VmConfig cfg = config == null ? VmConfig.defaults() : lhv.hypervisor.config.ConfigLoader.load(config);
            Hypervisor.model(cpu);
            checks.run();
            return cfg;
        } catch (ConfigError e) {
            console.error("hv: " + e.line());
        } catch (IllegalArgumentException e) {
            console.error("hv: " + e.getMessage());
        }
        return null;
    }

    /**
     * Runs the hypervisor with {@code options} on the machine board; a configuration error found
     * while building the VM is printed as one line and gives null.
     */
    static RunResult run(RunOptions options, Console console) {
        try {
            return MachineBoard.hypervisor().run(options);
        } catch (ConfigError e) {
            console.error("hv: " + e.line());
            return null;
        }
    }
}
