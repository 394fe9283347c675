package lhv.vmx.insn;

import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.vmcs.Vmcs;

import static lhv.vmx.exit.VmInstructionError.*;

/**
 * VMLAUNCH and VMRESUME (SDM Vol. 3C 31.3 VMLAUNCH/VMRESUME) after the shared checks: VMfailInvalid
 * without a current VMCS, error 26 with events blocked by MOV SS, error 4 for VMLAUNCH of a VMCS that
 * is not clear, error 5 (or 6 after VMXOFF, see {@link Vmxoff}) for VMRESUME of one not launched;
 * then the VM entry of chapter 27 ({@link lhv.vmx.transition.VmEntry}).
 *
 * <p>Context: VMX root operation.
 */
public final class VmlaunchVmresume {
    private VmlaunchVmresume() { }

    /**
     * Returns {@link VmxResult#SUCCEEDED} with the processor in non-root operation, a VMfail, or
     * {@link VmxResult.EntryFailed} when the entry failed on guest state or MSR loading and the
     * resulting VM exit has been carried out.
     */
    public static VmxResult execute(Vmx vmx, boolean launch, boolean fromJava) {
        if (!vmx.hasCurrentVmcs()) return VmxResult.FAIL_INVALID;
        if ((vmx.cpu.interruptShadow & 2) != 0) return VmFail.of(vmx, ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
        // the region's launch-state word matters only when the cached state does not decide alone
        // (VMRESUME of a launched VMCS, the exit loop's case, reads no memory)
        if (launch && (vmx.vmcs.isLaunched() || abandoned(vmx))) return VmFail.of(vmx, VMLAUNCH_NONCLEAR_VMCS);
        if (!launch && !vmx.vmcs.isLaunched()) {
            return VmFail.of(vmx, abandoned(vmx) ? VMRESUME_AFTER_VMXOFF : VMRESUME_NONLAUNCHED_VMCS);
        }
        return vmx.entry.enter(launch, fromJava);
    }

    /** The VMCS was launched when VMXOFF ran (its region says so, see {@link Vmxoff}). */
    private static boolean abandoned(Vmx vmx) {
        return launchStateWord(vmx) == Vmxoff.LAUNCH_STATE_LAUNCHED_BEFORE_VMXOFF;
    }

    private static long launchStateWord(Vmx vmx) {
        return vmx.cpu.mem.read(vmx.vmcs.pointer() + Vmcs.OFFSET_LAUNCH_STATE, 4);
    }
}
