package lhv.vmx.insn;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.vmx.Vmx;
import lhv.vmx.VmReadResult;
import lhv.vmx.VmxResult;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.exit.VmInstructionError.*;

/**
 * What each VMX instruction does once the checks shared by all VMX instructions have passed (not
 * #UD, not a VM exit from non-root operation, CPL 0): the Operation sections of SDM Vol. 3C 31.3
 * from the point where the operand is known. Shared by the x86 instruction path
 * ({@link X86VmxInstructions}) and the Java API of {@link Vmx}.
 *
 * <p>Context: VMX root operation.
 */
public final class VmxOperations {
    /** Launch-state word our region layout uses for "launched, then VMXOFF without VMCLEAR" (error 6). */
    static final int LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF = 2;

    private final Vmx vmx;
    private final Cpu cpu;

    public VmxOperations(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
    }

    // ---- VMsucceed / VMfail (SDM 31.2) ----

    /** VMfail: VMfailValid(error) when there is a current VMCS (the number goes to its VM-instruction error field), else VMfailInvalid. */
    public VmxResult vmfail(VmInstructionError error) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        vmx.write(VmcsField.VM_INSTRUCTION_ERROR, error.number);
        return new VmxResult.FailValid(error);
    }

    /** True when {@code pa} is 4 KiB aligned and within the VMX physical-address width (SDM 31.3). */
    private boolean validRegionAddress(long pa) {
        int width = vmx.vmxAddressWidth();
        return (pa & 0xFFF) == 0 && (width >= 64 || pa >>> width == 0);
    }

    // ---- VMXON ----

    /**
     * The #GP(0) conditions VMXON checks outside VMX operation before reading its operand (SDM 31.3
     * VMXON): CR0/CR4 not supported in VMX operation (fixed bits, SDM A.7/A.8), IA32_FEATURE_CONTROL
     * lock bit (0) clear or "enable VMX outside SMX" (bit 2) clear. CPL is checked by the caller.
     */
    public void vmxonPrecheck() {
        if (!vmx.caps.cr0Valid(cpu.cr0) || !vmx.caps.cr4Valid(cpu.cr4)) throw CpuFault.gp0();
        if (!vmx.featureControl.locked() || !vmx.featureControl.vmxonAllowedOutsideSmx()) throw CpuFault.gp0();
    }

    /** VMXON after its checks: the VMXON region must be aligned, in range and carry our revision identifier. */
    public VmxResult vmxon(long pa) {
        if (!validRegionAddress(pa)) return VmxResult.FAIL_INVALID;
        long rev = cpu.mem.read(pa, 4);
        if ((rev & 0x7FFF_FFFFL) != vmx.caps.revisionId() || (rev & 0x8000_0000L) != 0) return VmxResult.FAIL_INVALID;
        vmx.vmxonPointer = pa;
        vmx.inVmxOperation = true;
        cpu.vmxOperation = true;
        // current-VMCS pointer <- FFFFFFFF_FFFFFFFFH (the cache is empty after VMXOFF)
        return VmxResult.SUCCEEDED;
    }

    // ---- VMXOFF ----

    /**
     * VMXOFF (SDM 31.3): dual-monitor treatment is not supported, so no error 23. A VMCS still
     * current is written back; if it was launched its region remembers that it was abandoned by
     * VMXOFF, so a later VMRESUME of it fails with error 6 (SDM 31.4) until it is VMCLEARed.
     */
    public VmxResult vmxoff() {
        if (vmx.hasCurrentVmcs()) {
            long pa = vmx.vmcs.pointer();
            boolean launched = vmx.vmcs.isLaunched();
            vmx.vmcs.flush(cpu.mem);
            if (launched) cpu.mem.write(pa + Vmcs.OFFSET_LAUNCH_STATE, 4, LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF);
        }
        vmx.inVmxOperation = false;
        cpu.vmxOperation = false;
        vmx.vmxonPointer = Vmx.INVALID_POINTER;
        return VmxResult.SUCCEEDED;
    }

    // ---- VMCLEAR / VMPTRLD ----

    public VmxResult vmclear(long pa) {
        if (!validRegionAddress(pa)) return vmfail(VMCLEAR_INVALID_ADDRESS);
        if (pa == vmx.vmxonPointer) return vmfail(VMCLEAR_VMXON_POINTER);
        if (pa == vmx.vmcs.pointer()) {
            vmx.vmcs.setLaunched(false);
            vmx.vmcs.flush(cpu.mem);   // current-VMCS pointer <- FFFFFFFF_FFFFFFFFH
        } else {
            Vmcs.clearLaunchState(cpu.mem, pa);
        }
        cpu.codeMap.writtenRange(pa, Vmcs.REGION_SIZE);
        return VmxResult.SUCCEEDED;
    }

    public VmxResult vmptrld(long pa) {
        if (!validRegionAddress(pa)) return vmfail(VMPTRLD_INVALID_ADDRESS);
        if (pa == vmx.vmxonPointer) return vmfail(VMPTRLD_VMXON_POINTER);
        // bit 31 (shadow-VMCS indicator) may be 1 only with VMCS shadowing, which this processor does not offer
        if (Vmcs.revisionAt(cpu.mem, pa) != vmx.caps.revisionId() || Vmcs.shadowIndicatorAt(cpu.mem, pa)) {
            return vmfail(VMPTRLD_INCORRECT_VMCS_REVISION_ID);
        }
        if (pa != vmx.vmcs.pointer()) {
            if (vmx.hasCurrentVmcs()) vmx.vmcs.flush(cpu.mem);
            vmx.vmcs.load(cpu.mem, pa);
        }
        return VmxResult.SUCCEEDED;
    }

    // ---- VMREAD / VMWRITE ----

    /**
     * The field a VMREAD/VMWRITE encoding names on this processor, or null (error 12): bits 63:32
     * of the register operand must be 0 in 64-bit mode, the encoding must name a field, and the
     * field must exist for the capabilities offered.
     */
    private VmcsField field(long encoding) {
        VmcsField f = VmcsField.forEncoding(encoding);
        return f != null && vmx.caps.supports(f) ? f : null;
    }

    public VmReadResult vmread(long encoding) {
        if (!vmx.hasCurrentVmcs()) return new VmReadResult.Failed(VmxResult.FAIL_INVALID);
        VmcsField f = field(encoding);
        if (f == null) return new VmReadResult.Failed(vmfail(UNSUPPORTED_VMCS_COMPONENT));
        return new VmReadResult.Value(vmx.vmcs.readEncoded((int) encoding));
    }

    public VmxResult vmwrite(long encoding, long value) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        VmcsField f = field(encoding);
        if (f == null) return vmfail(UNSUPPORTED_VMCS_COMPONENT);
        if (f.isReadOnly() && !vmx.caps.vmwriteAnyField()) return vmfail(VMWRITE_READ_ONLY_VMCS_COMPONENT);
        vmx.vmcs.writeEncoded((int) encoding, value);
        return VmxResult.SUCCEEDED;
    }

    // ---- VMLAUNCH / VMRESUME (SDM 31.3 VMLAUNCH/VMRESUME, chapter 27) ----

    /**
     * VMLAUNCH ({@code launch}) or VMRESUME after the shared checks. Returns the instruction's result;
     * a successful entry returns {@link VmxResult#SUCCEEDED} with the processor in non-root operation.
     * When the entry fails on guest state or MSR loading, the resulting VM exit has been carried out
     * and {@link VmxResult.EntryFailed} is returned.
     */
    public VmxResult vmentry(boolean launch, boolean fromJava) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        if ((cpu.interruptShadow & 2) != 0) return vmfail(ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
        if (launch && vmx.vmcs.isLaunched()) return vmfail(VMLAUNCH_NONCLEAR_VMCS);
        if (launch && launchStateWord() == LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF) return vmfail(VMLAUNCH_NONCLEAR_VMCS);
        if (!launch && !vmx.vmcs.isLaunched()) {
            return vmfail(launchStateWord() == LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF
                    ? VMRESUME_AFTER_VMXOFF : VMRESUME_NONLAUNCHED_VMCS);
        }
        return vmx.entry.enter(launch, fromJava);
    }

    private long launchStateWord() {
        return cpu.mem.read(vmx.vmcs.pointer() + Vmcs.OFFSET_LAUNCH_STATE, 4);
    }

    // ---- VMCALL in VMX root operation ----

    /**
     * VMCALL in root operation (SDM 31.3 VMCALL): this processor does not support the dual-monitor
     * treatment of SMIs and SMM (IA32_VMX_BASIC[49] = 0), so it always fails with error 1.
     */
    public VmxResult vmcallInRoot() {
        return vmfail(VMCALL_IN_VMX_ROOT_OPERATION);
    }
}
