package lhv.cli;

import lhv.cpu.model.CpuModel;
import lhv.hypervisor.vm.Hypervisor;
import lhv.vmx.caps.CapabilityReport;
import lhv.vmx.caps.VmxCapabilities;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

/**
 * {@code hv caps}: the processor's VMX capability MSRs (SDM Appendix A) decoded into named bits
 * with their allowed-0/allowed-1 settings.
 *
 * <p>Context: Java host, the user's command line.
 */
public final class CapsCommand implements Callable<Integer> {
    /** The command's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "caps", "Show the processor's VMX capabilities, decoded.");

    {
        spec.addOption(CommandModel.option("MODEL", String.class, "Processor model (lhv-skylake, lhv-skylake-novmx).", "--cpu").build());
    }

    @Override
    public Integer call() {
        String cpu = CommandModel.value(spec, "--cpu");
        CpuModel model;
        try {
            model = Hypervisor.model(cpu);
        } catch (IllegalArgumentException e) {
            System.err.println("hv: " + e.getMessage());
            return 2;
        }
        VmxCapabilities caps = VmxCapabilities.forModel(model);
        if (caps == null) {
            System.out.println(model.name + ": VMX support not present (CPUID.1:ECX.VMX = 0)");
            return 1;
        }
        System.out.println(model.name + ": " + caps.processorName);
        for (CapabilityReport.Entry e : CapabilityReport.decode(caps)) {
            System.out.printf("%n%s (0x%x)%s%n", e.name(), e.index(), e.value() == null ? "" : String.format(" = 0x%016x", e.value()));
            for (String line : e.lines()) System.out.println("  " + line);
        }
        return 0;
    }
}
