package lhv.hypervisor.exits;

/**
 * Triple fault (exit reason 2): the guest would have shut the processor down (SDM 26.2, 6.15). The
 * run ends with the guest-fault status.
 *
 * <p>Context: Java host (VMX root software).
 */
final class TripleFaultExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        return ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "guest triple fault at rip 0x" + Long.toHexString(exit.rip));
    }
}
