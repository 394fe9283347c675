package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.hypervisor.config.MsrNames;
import lhv.hypervisor.trace.ExitTrace.Hex;

/**
 * RDMSR (exit reason 31): for an MSR whose read bit is set in the MSR bitmap, or any MSR outside
 * the bitmap's two ranges (SDM 26.1.3). The value comes from the hypervisor's MSR file; an MSR the
 * file does not hold gets #GP(0) injected, as the instruction would raise for an unimplemented MSR.
 *
 * <p>Context: Java host (VMX root software).
 */
final class MsrReadExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        int msr = (int) vcpu.cpu.gpr[Cpu.RCX];
        exit.note("msr", new Hex(msr & 0xFFFFFFFFL));
        exit.note("msr_name", MsrNames.name(msr));
        if (!vcpu.msrs.has(msr)) {
            exit.note("result", "#GP");
            vcpu.console.step("RDMSR of " + MsrNames.name(msr) + ": not emulated, injecting #GP(0)");
            vcpu.injectGp0();
            return ExitAction.RESUME;   // a fault: RIP stays at the RDMSR
        }
        long v = vcpu.msrs.read(msr);
        vcpu.setGpr32(Cpu.RAX, v);
        vcpu.setGpr32(Cpu.RDX, v >>> 32);
        exit.note("value", new Hex(v));
        vcpu.advanceRip(exit);
        return ExitAction.RESUME;
    }
}
