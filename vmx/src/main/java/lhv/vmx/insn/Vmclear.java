package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.vmcs.Vmcs;

import static lhv.vmx.exit.VmInstructionError.VMCLEAR_INVALID_ADDRESS;
import static lhv.vmx.exit.VmInstructionError.VMCLEAR_VMXON_POINTER;

/**
 * VMCLEAR (SDM Vol. 3C 31.3 VMCLEAR): errors 2 (invalid address) and 3 (the VMXON pointer); the
 * referenced VMCS is written back to its region with launch state "clear", and stops being current.
 *
 * <p>Context: VMX root operation.
 */
public final class Vmclear {
    private Vmclear() { }

    public static VmxResult execute(Vmx vmx, long pa) {
        if (!VmFail.validRegionAddress(vmx, pa)) return VmFail.of(vmx, VMCLEAR_INVALID_ADDRESS);
        if (pa == vmx.vmxonPointer) return VmFail.of(vmx, VMCLEAR_VMXON_POINTER);
        if (pa == vmx.vmcs.pointer()) {
            vmx.vmcs.setLaunched(false);
            vmx.vmcs.flush(vmx.cpu.mem); // current-VMCS pointer <- FFFFFFFF_FFFFFFFFH
        } else {
            Vmcs.clearLaunchState(vmx.cpu.mem, pa);
        }
        vmx.cpu.codeMap.writtenRange(pa, Vmcs.REGION_SIZE);
        return VmxResult.SUCCEEDED;
    }
}
