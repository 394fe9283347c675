package lhv.hypervisor.exits;

/**
 * Handles one basic exit reason: reads what it needs from the VMCS and the guest registers, does
 * the work (emulate, forward, inject), notes the decoded fields for the trace and says whether the
 * guest resumes.
 *
 * <p>Context: Java host (VMX root software), after a VM exit, before VMRESUME.
 */
@FunctionalInterface
public interface ExitHandler {
    ExitAction handle(VmExit exit, Vcpu vcpu);
}
