package lhv.hypervisor.exits;

import lhv.cpu.Rflags;
import lhv.vmx.vmcs.VmcsField;

/**
 * HLT (exit reason 12, with "HLT exiting"): with RFLAGS.IF = 0 nothing can ever wake the guest, so
 * the run ends (status 0). With IF = 1 the hypervisor, which has no interrupt source to wait for,
 * treats the halt as woken at once and resumes after the HLT.
 *
 * <p>Context: Java host (VMX root software).
 */
final class HltExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        long rflags = vcpu.vmcs.read(VmcsField.GUEST_RFLAGS);
        boolean interruptsEnabled = (rflags & Rflags.IF) != 0;
        exit.note("interrupts_enabled", interruptsEnabled);
        vcpu.advanceRip(exit);
        if (!interruptsEnabled) return ExitAction.guestEnded(0, "the guest halted with interrupts disabled");
        return ExitAction.RESUME;
    }
}
