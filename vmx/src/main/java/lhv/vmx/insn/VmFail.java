package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.vmcs.VmcsField;

/**
 * The failure conventions every VMX instruction shares (SDM Vol. 3C 31.2): VMfail(error) is
 * VMfailValid with the error number in the current VMCS when there is one, VMfailInvalid otherwise;
 * and the address rule for VMXON, VMCLEAR and VMPTRLD operands.
 *
 * <p>Context: VMX root operation, inside a VMX instruction or a VM entry that fails its checks.
 */
public final class VmFail {
    private VmFail() { }

    /** VMfail(error): VMfailValid with {@code error} written to the VM-instruction error field, or VMfailInvalid. */
    public static VmxResult of(Vmx vmx, VmInstructionError error) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        vmx.write(VmcsField.VM_INSTRUCTION_ERROR, error.number);
        return new VmxResult.FailValid(error);
    }

    /** A VMXON/VMCS region address must be 4 KiB aligned and within the VMX physical-address width (SDM 31.3). */
    static boolean validRegionAddress(Vmx vmx, long pa) {
        int width = vmx.vmxAddressWidth();
        return (pa & 0xFFF) == 0 && (width >= 64 || pa >>> width == 0);
    }
}
