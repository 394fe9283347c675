package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;

import static lhv.vmx.exit.VmInstructionError.VMCALL_IN_VMX_ROOT_OPERATION;

/**
 * VMCALL in VMX root operation (SDM Vol. 3C 31.3 VMCALL): it would activate the dual-monitor
 * treatment of SMIs and SMM, which this processor does not support (IA32_VMX_BASIC[49] = 0), so it
 * always fails with error 1 (errors 19, 20, 22 and 24 cannot occur). In non-root operation VMCALL
 * is a VM exit, decided before this class is reached.
 *
 * <p>Context: VMX root operation.
 */
public final class Vmcall {
    private Vmcall() { }

    public static VmxResult inRoot(Vmx vmx) {
        return VmFail.of(vmx, VMCALL_IN_VMX_ROOT_OPERATION);
    }
}
