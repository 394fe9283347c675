package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.vmcs.Vmcs;

/**
 * VMXOFF (SDM Vol. 3C 31.3 VMXOFF). The dual-monitor treatment of SMM is not supported, so error 23
 * cannot occur. A VMCS still current is written back; if it was launched its region remembers that
 * VMXOFF abandoned it, so that VMRESUME of it after the next VMXON fails with error 6 (SDM 31.4)
 * until software VMCLEARs it.
 *
 * <p>Context: VMX root operation.
 */
public final class Vmxoff {
    private Vmxoff() { }

    /** Launch-state word of our region layout for "launched, then VMXOFF without VMCLEAR". */
    static final int LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF = 2;

    public static VmxResult execute(Vmx vmx) {
        if (vmx.hasCurrentVmcs()) {
            long pa = vmx.vmcs.pointer();
            boolean launched = vmx.vmcs.isLaunched();
            vmx.vmcs.flush(vmx.cpu.mem);
            if (launched) vmx.cpu.mem.write(pa + Vmcs.OFFSET_LAUNCH_STATE, 4, LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF);
        }
        vmx.inVmxOperation = false;
        vmx.cpu.vmxOperation = false;
        vmx.vmxonPointer = Vmx.INVALID_POINTER;
        return VmxResult.SUCCEEDED;
    }
}
