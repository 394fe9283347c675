package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.hypervisor.config.MsrNames;
import lhv.hypervisor.trace.ExitTrace.Hex;

/**
 * WRMSR (exit reason 32): the value EDX:EAX goes into the hypervisor's MSR file when the MSR is
 * emulated (its write bit is set), else (an MSR outside the bitmap's ranges) to the guest's real
 * MSR; an MSR nobody implements gets #GP(0) injected.
 *
 * <p>Context: Java host (VMX root software).
 */
final class MsrWriteExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        int msr = (int) vcpu.cpu.gpr[Cpu.RCX];
        long v = (vcpu.cpu.gpr[Cpu.RDX] << 32) | (vcpu.cpu.gpr[Cpu.RAX] & 0xFFFFFFFFL);
        exit.note("msr", new Hex(msr & 0xFFFFFFFFL));
        exit.note("msr_name", MsrNames.name(msr));
        exit.note("value", new Hex(v));
        try {
            if (vcpu.msrs.has(msr)) vcpu.msrs.write(msr, v);
            else MsrFile.setGuestValue(vcpu, msr, v);
        } catch (CpuFault f) {
            exit.note("result", "#GP");
            vcpu.console.step("WRMSR of " + MsrNames.name(msr) + ": not implemented, injecting #GP(0)");
            vcpu.injectGp0();
            return ExitAction.RESUME;
        }
        vcpu.advanceRip(exit);
        return ExitAction.RESUME;
    }
}
