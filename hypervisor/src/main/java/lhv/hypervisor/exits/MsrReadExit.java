package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.hypervisor.config.MsrNames;
import lhv.hypervisor.trace.ExitTrace.Hex;

/**
 * RDMSR (exit reason 31): for an MSR whose read bit is set in the MSR bitmap, or any MSR outside
 * the bitmap's two ranges (SDM 26.1.3). The value comes from the hypervisor's MSR file when the MSR
 * is emulated (write-trapped), else from the guest's real value; an MSR nobody implements gets
 * #GP(0) injected, as the instruction would raise it.
 *
 * <p>Context: Java host (VMX root software).
 */
final class MsrReadExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        int msr = (int) vcpu.cpu.gpr[Cpu.RCX];
        exit.note("msr", new Hex(msr & 0xFFFFFFFFL));
        exit.note("msr_name", MsrNames.name(msr));
        long v;
        try {
            v = vcpu.msrs.has(msr) ? vcpu.msrs.read(msr) : MsrFile.guestValue(vcpu, msr);
        } catch (CpuFault f) {
            exit.note("result", "#GP");
            vcpu.console.step("RDMSR of " + MsrNames.name(msr) + ": not implemented, injecting #GP(0)");
            vcpu.injectGp0();
            return ExitAction.RESUME;   // a fault: RIP stays at the RDMSR
        }
        vcpu.setGpr32(Cpu.RAX, v);
        vcpu.setGpr32(Cpu.RDX, v >>> 32);
        exit.note("value", new Hex(v));
        vcpu.advanceRip(exit);
        return ExitAction.RESUME;
    }
}
