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
    private final ExitHandler[] handlers;

    public ExitDispatch() {
        // Filled through a local whose exact array type the JIT sees: stores through the field made
        // the exit loop (which inlines this constructor) trap and recompile once per store, one a run.
        ExitHandler[] h = new ExitHandler[128];
        h[ExitReason.EXCEPTION_NMI.number] = new ExceptionExit();
        h[ExitReason.EXTERNAL_INTERRUPT.number] = (exit, vcpu) -> ExitAction.RESUME;
        h[ExitReason.TRIPLE_FAULT.number] = new TripleFaultExit();
        h[ExitReason.CPUID.number] = new CpuidExit();
        h[ExitReason.HLT.number] = new HltExit();
        h[ExitReason.VMCALL.number] = new VmcallExit();
        h[ExitReason.CR_ACCESS.number] = new CrAccessExit();
        h[ExitReason.IO_INSTRUCTION.number] = new IoInstructionExit();
        h[ExitReason.MSR_READ.number] = new MsrReadExit();
        h[ExitReason.MSR_WRITE.number] = new MsrWriteExit();
        h[ExitReason.PREEMPTION_TIMER.number] = new PreemptionTimerExit();
        handlers = h;
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
