package lhv.vmx.insn;

import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.vmx.VmReadResult;
import lhv.vmx.VmxResult;
import lhv.vmx.VmxTestbed;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every VMX-instruction outcome reachable through the Java API: the #UD/#GP conditions, VMfailInvalid
 * and each VM-instruction error number of SDM Vol. 3C 31.4 that this processor can produce.
 */
class VmxInstructionErrorsTest {
    private final VmxTestbed t = new VmxTestbed();

    private void failsValid(VmInstructionError expected, VmxResult r) {
        VmxResult.FailValid f = assertInstanceOf(VmxResult.FailValid.class, r);
        assertEquals(expected, f.error());
        assertEquals(expected.number, t.vmx.vmcs.read(VmcsField.VM_INSTRUCTION_ERROR), "VM-instruction error field");
    }

    private static int vector(Runnable r) {
        return assertThrows(CpuFault.class, r::run).vector;
    }

    // ---- VMXON ----

    @Test
    void vmxonNeedsCr4Vmxe() {
        t.cpu.setCr4(t.cpu.cr4 & ~Cr.CR4_VMXE);
        assertEquals(6, vector(() -> t.vmx.vmxon(VMXON)), "#UD");
    }

    @Test
    void vmxonNeedsLockedFeatureControlWithVmxOutsideSmx() {
        VmxTestbed fresh = new VmxTestbed();
        fresh.vmx.featureControl.reset();
        assertEquals(13, vector(() -> fresh.vmx.vmxon(VMXON)), "#GP(0) with IA32_FEATURE_CONTROL unlocked");
    }

    @Test
    void vmxonNeedsCr0FixedBits() {
        t.cpu.setCr0(t.cpu.cr0 & ~Cr.CR0_NE); // NE is fixed to 1 in VMX operation (IA32_VMX_CR0_FIXED0)
        assertEquals(13, vector(() -> t.vmx.vmxon(VMXON)));
    }

    @Test
    void vmxonFailsInvalidOnMisalignedOrWideAddressOrWrongRevision() {
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmxon(VMXON + 8));
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmxon(1L << t.cpu.mmu.maxPhysAddr()));
        t.mem.write(VMXON, 4, t.caps.revisionId() + 1);
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmxon(VMXON));
        t.mem.write(VMXON, 4, t.caps.revisionId() | 0x8000_0000L);
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmxon(VMXON), "bit 31 must be 0");
        assertFalse(t.vmx.inVmxOperation);
    }

    @Test
    void vmxonInRootFailsWith15OrInvalid() {
        t.ok(t.vmx.vmxon(VMXON));
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmxon(VMXON), "no current VMCS: VMfailInvalid");
        t.ok(t.vmx.vmptrld(VMCS));
        failsValid(VmInstructionError.VMXON_IN_VMX_ROOT_OPERATION, t.vmx.vmxon(VMXON));
    }

    @Test
    void instructionsOutsideVmxOperationAreUndefined() {
        assertEquals(6, vector(() -> t.vmx.vmclear(VMCS)));
        assertEquals(6, vector(t.vmx::vmxoff));
        assertEquals(6, vector(t.vmx::vmlaunch));
    }

    // ---- VMCLEAR / VMPTRLD / VMPTRST ----

    @Test
    void vmclearErrors2And3() {
        t.inVmxRootWithVmcs();
        failsValid(VmInstructionError.VMCLEAR_INVALID_ADDRESS, t.vmx.vmclear(VMCS2 + 0x10));
        failsValid(VmInstructionError.VMCLEAR_INVALID_ADDRESS, t.vmx.vmclear(1L << 52));
        failsValid(VmInstructionError.VMCLEAR_VMXON_POINTER, t.vmx.vmclear(VMXON));
    }

    @Test
    void vmclearOfCurrentVmcsMakesPointerInvalid() {
        t.inVmxRootWithVmcs();
        assertEquals(VMCS, t.vmx.vmptrst());
        t.ok(t.vmx.vmclear(VMCS));
        assertEquals(-1L, t.vmx.vmptrst());
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmclear(VMXON), "VMfail without a current VMCS is VMfailInvalid");
    }

    @Test
    void vmptrldErrors9To11() {
        t.inVmxRootWithVmcs();
        failsValid(VmInstructionError.VMPTRLD_INVALID_ADDRESS, t.vmx.vmptrld(VMCS2 + 4));
        failsValid(VmInstructionError.VMPTRLD_VMXON_POINTER, t.vmx.vmptrld(VMXON));
        t.mem.write(VMCS2, 4, t.caps.revisionId() + 1);
        failsValid(VmInstructionError.VMPTRLD_INCORRECT_VMCS_REVISION_ID, t.vmx.vmptrld(VMCS2));
        t.mem.write(VMCS2, 4, t.caps.revisionId() | 0x8000_0000L);
        failsValid(VmInstructionError.VMPTRLD_INCORRECT_VMCS_REVISION_ID, t.vmx.vmptrld(VMCS2));
        assertEquals(VMCS, t.vmx.vmptrst(), "failed VMPTRLD keeps the current VMCS");
    }

    @Test
    void vmcsContentSurvivesSwitchingVmcs() {
        t.inVmxRootWithVmcs();
        t.w(VmcsField.GUEST_RIP, 0x1234);
        t.ok(t.vmx.vmclear(VMCS2));
        t.ok(t.vmx.vmptrld(VMCS2));
        t.w(VmcsField.GUEST_RIP, 0x5678);
        t.ok(t.vmx.vmptrld(VMCS));
        assertEquals(0x1234, t.r(VmcsField.GUEST_RIP));
        t.ok(t.vmx.vmptrld(VMCS2));
        assertEquals(0x5678, t.r(VmcsField.GUEST_RIP));
    }

    // ---- VMREAD / VMWRITE ----

    @Test
    void vmreadVmwriteWithoutCurrentVmcsFailInvalid() {
        t.ok(t.vmx.vmxon(VMXON));
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmwrite(VmcsField.GUEST_RIP, 1));
        VmReadResult.Failed f = assertInstanceOf(VmReadResult.Failed.class, t.vmx.vmread(VmcsField.GUEST_RIP));
        assertInstanceOf(VmxResult.FailInvalid.class, f.failure());
    }

    @Test
    void unsupportedComponentsAreError12() {
        t.inVmxRootWithVmcs();
        failsValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT, t.vmx.vmwrite(0x6C40, 0)); // unassigned index
        failsValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT, t.vmx.vmwrite(0x1_0000_681EL, 0)); // bits 63:32 set
        failsValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT, t.vmx.vmwrite(0x681F, 0)); // "high" of a natural-width field
        failsValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT, t.vmx.vmwrite(0x8000 | 0x681E, 0)); // bit 15
        failsValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT, t.vmx.vmwrite(VmcsField.EPT_POINTER, 0)); // EPT not offered
        VmReadResult.Failed f = assertInstanceOf(VmReadResult.Failed.class, t.vmx.vmread(0x6C40));
        assertEquals(new VmxResult.FailValid(VmInstructionError.UNSUPPORTED_VMCS_COMPONENT), f.failure());
    }

    @Test
    void readOnlyFieldsAreError13() {
        t.inVmxRootWithVmcs();
        failsValid(VmInstructionError.VMWRITE_READ_ONLY_VMCS_COMPONENT, t.vmx.vmwrite(VmcsField.VM_EXIT_REASON, 1));
        failsValid(VmInstructionError.VMWRITE_READ_ONLY_VMCS_COMPONENT, t.vmx.vmwrite(VmcsField.EXIT_QUALIFICATION, 1));
    }

    @Test
    void highAccessOf64BitFields() {
        t.inVmxRootWithVmcs();
        t.w(VmcsField.TSC_OFFSET, 0x1122_3344_5566_7788L);
        assertEquals(0x1122_3344L, t.vmx.vmread(VmcsField.TSC_OFFSET.encoding + 1).orThrow());
        t.ok(t.vmx.vmwrite(VmcsField.TSC_OFFSET.encoding + 1, 0xAABB_CCDDL));
        assertEquals(0xAABB_CCDD_5566_7788L, t.r(VmcsField.TSC_OFFSET));
    }

    // ---- VMLAUNCH / VMRESUME ----

    @Test
    void launchStateErrors4And5() {
        t.inVmxRootWithVmcs().validVmcs();
        failsValid(VmInstructionError.VMRESUME_NONLAUNCHED_VMCS, t.vmx.vmresume());
        t.vmx.vmcs.setLaunched(true);
        failsValid(VmInstructionError.VMLAUNCH_NONCLEAR_VMCS, t.vmx.vmlaunch());
    }

    @Test
    void vmresumeAfterVmxoffIsError6() {
        t.inVmxRootWithVmcs().validVmcs();
        t.vmx.vmcs.setLaunched(true);
        t.ok(t.vmx.vmxoff());
        t.ok(t.vmx.vmxon(VMXON));
        t.ok(t.vmx.vmptrld(VMCS));
        failsValid(VmInstructionError.VMRESUME_AFTER_VMXOFF, t.vmx.vmresume());
        t.ok(t.vmx.vmclear(VMCS));
        t.ok(t.vmx.vmptrld(VMCS));
        failsValid(VmInstructionError.VMRESUME_NONLAUNCHED_VMCS, t.vmx.vmresume());
    }

    @Test
    void entryBlockedByMovSsIsError26() {
        t.inVmxRootWithVmcs().validVmcs();
        t.cpu.interruptShadow = 2;
        failsValid(VmInstructionError.ENTRY_EVENTS_BLOCKED_BY_MOV_SS, t.vmx.vmlaunch());
    }

    @Test
    void launchWithoutCurrentVmcsFailsInvalid() {
        t.ok(t.vmx.vmxon(VMXON));
        assertInstanceOf(VmxResult.FailInvalid.class, t.vmx.vmlaunch());
    }

    @Test
    void vmxoffLeavesVmxOperation() {
        t.inVmxRootWithVmcs();
        t.ok(t.vmx.vmxoff());
        assertFalse(t.vmx.inVmxOperation);
        assertFalse(t.cpu.vmxOperation);
        assertEquals(6, vector(t.vmx::vmxoff));
    }
}
