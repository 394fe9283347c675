package lhv.hypervisor.setup;

import lhv.cpu.CpuFault;
import lhv.vmx.VmReadResult;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.vmcs.VmcsField;

/**
 * VMWRITE and VMREAD on the current VMCS, each checked as the seed's CHECK_VMWRITE / CHECK_VMREAD
 * macros do: a failure names the field and the VM-instruction error (SDM 31.4) and unwinds by
 * throwing {@link VmxFailure}.
 *
 * <p>Context: Java host (VMX root software), between VMPTRLD and VMCLEAR/VMXOFF.
 */
public final class CheckedVmcs {
    private final Vmx vmx;

    public CheckedVmcs(Vmx vmx) {
        this.vmx = vmx;
    }

    public Vmx vmx() {
        return vmx;
    }

    /*
     * The exit loop calls these a few times per VM exit. Each is the cheap check and the field access
     * only, so the JIT inlines it at every call site whatever it compiled first; a failing access
     * takes the instruction path in a separate method, which names the field and the error.
     */

    public void write(VmcsField field, long value) {
        if (vmx.vmwriteSucceeds(field)) vmx.write(field, value);   // every VMWRITE's checks, without a result object
        else writeFailing(field, value);
    }

    public long read(VmcsField field) {
        return vmx.vmreadSucceeds(field) ? vmx.read(field) : readFailing(field);   // likewise for VMREAD
    }

    public int read32(VmcsField field) {
        return (int) read(field);
    }

    /** VMWRITE through the instruction: stores the value if it succeeds after all, else throws naming field and error. */
    private void writeFailing(VmcsField field, long value) {
        VmxResult r;
        try {
            r = vmx.vmwrite(field, value);
        } catch (CpuFault f) {
            throw new VmxFailure("VMWRITE " + field + " faulted: " + f.getMessage());
        }
        if (!r.succeeded()) throw new VmxFailure("VMWRITE " + field + " = 0x" + Long.toHexString(value) + " failed: " + describe(r));
    }

    /** VMREAD through the instruction: its value if it succeeds after all, else throws naming field and error. */
    private long readFailing(VmcsField field) {
        VmReadResult r;
        try {
            r = vmx.vmread(field);
        } catch (CpuFault f) {
            throw new VmxFailure("VMREAD " + field + " faulted: " + f.getMessage());
        }
        return switch (r) {
            case VmReadResult.Value v -> v.value();
            case VmReadResult.Failed f -> throw new VmxFailure("VMREAD " + field + " failed: " + describe(f.failure()));
        };
    }

    /** "VMfailValid, error 12 (VMREAD/VMWRITE from/to unsupported VMCS component)" and the like. */
    public static String describe(VmxResult r) {
        return switch (r) {
            case VmxResult.Succeeded s -> "VMsucceed";
            case VmxResult.FailInvalid f -> "VMfailInvalid (no current VMCS)";
            case VmxResult.FailValid f -> describe(f.error());
            case VmxResult.EntryFailed e -> "VM-entry failure, exit reason 0x" + Integer.toHexString(e.exitReason()) + ": " + e.diagnosis();
        };
    }

    public static String describe(VmInstructionError e) {
        return e == null ? "VMfailValid" : "VMfailValid, VM-instruction error " + e.number + " (" + e.description + ")";
    }
}
