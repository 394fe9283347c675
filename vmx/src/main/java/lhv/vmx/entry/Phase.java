package lhv.vmx.entry;

import lhv.vmx.exit.ExitReason;
import lhv.vmx.exit.VmInstructionError;

/**
 * The stage of VM entry a check belongs to; the phase alone decides how a failure is reported
 * (SDM Vol. 3C 27.1-27.3, 27.8): control-field and host-state failures make the VMLAUNCH/VMRESUME
 * instruction fail (VMfailValid with error 7 or 8); guest-state failures happen after the instruction
 * has committed to entry and cause a VM exit with reason 33 and bit 31 set.
 *
 * <p>Context: static specification data.
 */
public enum Phase {
    CONTROLS(VmInstructionError.ENTRY_INVALID_CONTROL_FIELD, null),
    HOST_STATE(VmInstructionError.ENTRY_INVALID_HOST_STATE_FIELD, null),
    GUEST_STATE(null, ExitReason.INVALID_STATE);

    /** The VM-instruction error of a VMfailValid in this phase, or null. */
    public final VmInstructionError instructionError;
    /** The exit reason of the VM-entry failure exit in this phase, or null. */
    public final ExitReason exitReason;

    Phase(VmInstructionError instructionError, ExitReason exitReason) {
        this.instructionError = instructionError;
        this.exitReason = exitReason;
    }
}
