package lhv.hypervisor.exits;

/**
 * VMX-preemption timer expired (exit reason 52, SDM 26.5.1): the guest's time slice given by the
 * config's preemption-timer value is over; the run ends with the limit status.
 *
 * <p>Context: Java host (VMX root software).
 */
final class PreemptionTimerExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        return ExitAction.failed(ExitAction.STATUS_LIMIT, "VMX-preemption timer expired (preemption-timer "
                + vcpu.config.preemptionTimer() + ") at rip 0x" + Long.toHexString(exit.rip));
    }
}
