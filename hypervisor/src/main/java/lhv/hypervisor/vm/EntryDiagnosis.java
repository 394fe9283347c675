package lhv.hypervisor.vm;

import lhv.vmx.Vmx;
import lhv.vmx.entry.CheckFailure;
import lhv.vmx.entry.EntryChecks;
import lhv.vmx.entry.EntryContext;

/**
 * The VMX layer's list of failing VM-entry checks for the current VMCS (its diagnose mode,
 * EntryChecks.all), one line each: for {@code hv check}, and appended to a VMfailValid report
 * (errors 7 and 8 name no field by themselves).
 *
 * <p>Context: Java host (VMX root software), after a failed VMLAUNCH/VMRESUME.
 */
public final class EntryDiagnosis {
    private EntryDiagnosis() { }

    /** Every failing check, one line each, in SDM order; empty when VM entry would pass its checks. */
    public static java.util.List<String> failures(Vmx vmx) {
        lhv.cpu.Cpu cpu = vmx.cpu;
        EntryContext context = EntryContext.of(vmx.caps, cpu.model.physicalAddressBits(), cpu.mem,
                (cpu.efer & lhv.cpu.Cr.EFER_LMA) != 0, vmx.currentVmcsPointer());
        java.util.List<String> out = new java.util.ArrayList<>();
        for (CheckFailure f : EntryChecks.all(vmx.vmcs.snapshot(), context)) out.add(f.message() + "  {" + f.id() + "}");
        return out;
    }

    static String lines(Vmx vmx) {
        try {
            StringBuilder sb = new StringBuilder();
            for (String f : failures(vmx)) sb.append(System.lineSeparator()).append("  ").append(f);
            return sb.toString();
        } catch (RuntimeException e) {
            return "";
        }
    }
}
