package lhv.vmx.insn;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;

/**
 * VMXON outside VMX operation (SDM Vol. 3C 31.3 VMXON): the #GP(0) conditions checked before the
 * operand is read, then the VMXON-region checks (VMfailInvalid) and entry into VMX root operation.
 *
 * <p>Context: VMX root software (x86 or Java) about to enter VMX operation.
 */
public final class Vmxon {
    private Vmxon() { }

    /**
     * #GP(0) when CR0/CR4 hold values not supported in VMX operation (IA32_VMX_CR0/CR4_FIXED0/1, SDM
     * A.7/A.8) or IA32_FEATURE_CONTROL has the lock bit or "VMXON outside SMX" clear. The caller
     * checks CPL.
     */
    public static void precheck(Vmx vmx) {
        Cpu cpu = vmx.cpu;
        if (!vmx.caps.cr0Valid(cpu.cr0) || !vmx.caps.cr4Valid(cpu.cr4)) throw CpuFault.gp0();
        if (!vmx.featureControl.locked() || !vmx.featureControl.vmxonAllowedOutsideSmx()) throw CpuFault.gp0();
    }

    /** The VMXON region must be aligned, in range and begin with our revision identifier, bit 31 clear. */
    public static VmxResult execute(Vmx vmx, long pa) {
        if (!VmFail.validRegionAddress(vmx, pa)) return VmxResult.FAIL_INVALID;
        long rev = vmx.cpu.mem.read(pa, 4);
        if ((rev & 0x7FFF_FFFFL) != vmx.caps.revisionId() || (rev & 0x8000_0000L) != 0) return VmxResult.FAIL_INVALID;
        vmx.vmxonPointer = pa;
        vmx.inVmxOperation = true;
        vmx.cpu.vmxOperation = true;
        // the current-VMCS pointer is FFFFFFFF_FFFFFFFFH: the cache holds nothing after VMXOFF
        return VmxResult.SUCCEEDED;
    }
}
