package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmReadResult;
import lhv.vmx.VmxResult;
import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.exit.VmInstructionError.UNSUPPORTED_VMCS_COMPONENT;
import static lhv.vmx.exit.VmInstructionError.VMWRITE_READ_ONLY_VMCS_COMPONENT;

/**
 * VMREAD and VMWRITE (SDM Vol. 3C 31.3 VMREAD, VMWRITE) after the operands are known: VMfailInvalid
 * without a current VMCS, error 12 for encodings that name no field of this processor (bits 63:32
 * set in 64-bit mode, reserved bits, unassigned indexes, the "high" access of a field that is not
 * 64 bits wide, fields of features not offered), error 13 for VMWRITE to a VM-exit information field
 * (IA32_VMX_MISC[29] is 0). Widths and high accesses follow SDM 25.11.2.
 *
 * <p>Context: VMX root operation.
 */
public final class VmreadVmwrite {
    private VmreadVmwrite() { }

    private static VmcsField field(Vmx vmx, long encoding) {
        VmcsField f = VmcsField.forEncoding(encoding);
        return f != null && vmx.caps.supports(f) ? f : null;
    }

    public static VmReadResult vmread(Vmx vmx, long encoding) {
        if (!vmx.hasCurrentVmcs()) return new VmReadResult.Failed(VmxResult.FAIL_INVALID);
        if (field(vmx, encoding) == null) return new VmReadResult.Failed(VmFail.of(vmx, UNSUPPORTED_VMCS_COMPONENT));
        return new VmReadResult.Value(vmx.vmcs.readEncoded((int) encoding));
    }

    public static VmxResult vmwrite(Vmx vmx, long encoding, long value) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        VmcsField f = field(vmx, encoding);
        if (f == null) return VmFail.of(vmx, UNSUPPORTED_VMCS_COMPONENT);
        if (f.isReadOnly() && !vmx.caps.vmwriteAnyField()) return VmFail.of(vmx, VMWRITE_READ_ONLY_VMCS_COMPONENT);
        vmx.vmcs.writeEncoded((int) encoding, value);
        return VmxResult.SUCCEEDED;
    }
}
