package lhv.cpu.intercept;

/**
 * Thrown by the VMX layer after it has carried out a VM exit (guest state saved, host state loaded),
 * to abandon the instruction or event that caused it. Caught by the run loop.
 *
 * <p>When {@link #returnToHost} is true the exit belongs to a hosted (Java) hypervisor and the run
 * loop returns {@code StopReason.VM_EXIT}; otherwise the host is x86 code and execution simply
 * continues at the host RIP that the exit loaded.
 */
public final class VmExitSignal extends RuntimeException {
    public final boolean returnToHost;

    public static final VmExitSignal TO_JAVA = new VmExitSignal(true);
    public static final VmExitSignal TO_GUEST_CODE = new VmExitSignal(false);

    private VmExitSignal(boolean returnToHost) {
        super(null, null, false, false);
        this.returnToHost = returnToHost;
    }
}
