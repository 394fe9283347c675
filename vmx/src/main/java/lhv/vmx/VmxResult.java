package lhv.vmx;

import lhv.vmx.exit.VmInstructionError;

/**
 * Outcome of a VMX instruction that completed (SDM Vol. 3C 31.2 conventions): VMsucceed, VMfailInvalid
 * or VMfailValid with its error number — plus, for VMLAUNCH/VMRESUME called from Java, a VM entry
 * that failed after the control and host-state checks (exit reason 33 or 34, host state loaded).
 *
 * <p>Context: returned by the Java API of {@link Vmx} to the hosted hypervisor (VMX root software
 * in Java). Faults (#UD, #GP) are not results: they are thrown as {@link lhv.cpu.CpuFault}.
 */
public sealed interface VmxResult {
    /** VMsucceed: CF, PF, AF, ZF, SF and OF cleared. */
    record Succeeded() implements VmxResult { }

    /** VMfailInvalid: CF set; there was no current VMCS to hold an error number. */
    record FailInvalid() implements VmxResult { }

    /** VMfailValid: ZF set and the error number written to the VM-instruction error field. */
    record FailValid(VmInstructionError error) implements VmxResult { }

    /**
     * VMLAUNCH/VMRESUME whose VM entry failed after the VMX-control and host-state checks passed
     * (SDM 27.8): a guest-state check (basic reason 33) or the VM-entry MSR-load area (34) failed.
     * The processor has already done the resulting VM exit: host state is loaded and the exit
     * information fields (reason with bit 31 set, qualification) can be read with VMREAD.
     *
     * @param exitReason the full exit-reason field (bit 31 set)
     * @param qualification the exit qualification (33: 0 or a code of SDM 27.8; 34: the 1-based MSR entry index)
     * @param diagnosis one line saying which check or MSR entry failed (the design.md report format)
     * @param check the failed guest-state check (reason 33), null for an MSR-loading failure (34)
     */
    record EntryFailed(int exitReason, long qualification, String diagnosis, lhv.vmx.entry.CheckFailure check)
            implements VmxResult { }

    Succeeded SUCCEEDED = new Succeeded();
    FailInvalid FAIL_INVALID = new FailInvalid();

    default boolean succeeded() {
        return this instanceof Succeeded;
    }
}
