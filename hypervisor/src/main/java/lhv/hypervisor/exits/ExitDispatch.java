package lhv.hypervisor.exits;

import lhv.vmx.exit.ExitReason;

/**
 * The table from basic exit reason to handler: one small handler per reason the seed's hypervisor
 * expects. Any other reason ends the run as unexpected — with the controls we set, it means the
 * configuration asked for an exit this hypervisor does not handle.
 *
 * <p>Context: Java host (VMX root software), the exit loop.
 */
public final class ExitDispatch {
    private final ExitHandler[] handlers = new ExitHandler[128];

    public ExitDispatch() {
        handlers[ExitReason.EXCEPTION_NMI.number] = new ExceptionExit();
        handlers[ExitReason.EXTERNAL_INTERRUPT.number] = (exit, vcpu) -> ExitAction.RESUME;
        handlers[ExitReason.TRIPLE_FAULT.number] = new TripleFaultExit();
        handlers[ExitReason.CPUID.number] = new CpuidExit();
        handlers[ExitReason.HLT.number] = new HltExit();
        handlers[ExitReason.VMCALL.number] = new VmcallExit();
        handlers[ExitReason.CR_ACCESS.number] = new CrAccessExit();
        handlers[ExitReason.IO_INSTRUCTION.number] = new IoInstructionExit();
        handlers[ExitReason.MSR_READ.number] = new MsrReadExit();
        handlers[ExitReason.MSR_WRITE.number] = new MsrWriteExit();
        handlers[ExitReason.PREEMPTION_TIMER.number] = new PreemptionTimerExit();
    }

    public ExitAction dispatch(VmExit exit, Vcpu vcpu) {
        int basic = exit.basicReason();
        ExitHandler h = basic < handlers.length ? handlers[basic] : null;
        if (h == null) {
            ExitReason r = ExitReason.of(basic);
            return ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "unexpected VM exit reason " + basic
                    + (r != null ? " (" + r.name() + ": " + r.description + ")" : "") + " at rip 0x" + Long.toHexString(exit.rip)
                    + ", qualification 0x" + Long.toHexString(exit.qualification()));
        }
        return h.handle(exit, vcpu);
    }
}
