package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.vmcs.Vmcs;

import static lhv.vmx.exit.VmInstructionError.*;

/**
 * VMPTRLD (SDM Vol. 3C 31.3 VMPTRLD): errors 9 (invalid address), 10 (the VMXON pointer) and 11
 * (revision identifier, or the shadow-VMCS indicator without VMCS shadowing, which this processor
 * does not offer); then the VMCS becomes current, the previous one being written back.
 *
 * <p>Context: VMX root operation.
 */
public final class Vmptrld {
    private Vmptrld() { }

    public static VmxResult execute(Vmx vmx, long pa) {
        if (!VmFail.validRegionAddress(vmx, pa)) return VmFail.of(vmx, VMPTRLD_INVALID_ADDRESS);
        if (pa == vmx.vmxonPointer) return VmFail.of(vmx, VMPTRLD_VMXON_POINTER);
        if (Vmcs.revisionAt(vmx.cpu.mem, pa) != vmx.caps.revisionId() || Vmcs.shadowIndicatorAt(vmx.cpu.mem, pa)) {
            return VmFail.of(vmx, VMPTRLD_INCORRECT_VMCS_REVISION_ID);
        }
        if (pa != vmx.vmcs.pointer()) {
            if (vmx.hasCurrentVmcs()) vmx.vmcs.flush(vmx.cpu.mem);
            vmx.vmcs.load(vmx.cpu.mem, pa);
        }
        return VmxResult.SUCCEEDED;
    }
}
