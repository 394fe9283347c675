package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.exit.VmInstructionError;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The VM-entry procedure of SDM Vol. 3C chapter 27 after VMLAUNCH/VMRESUME's own checks: the
 * checks of 27.2-27.3 (run by {@link EntryCheckRunner}), loading guest state (27.3.2), the VM-entry
 * MSR-load area (27.4), then the event to inject (27.6) and the pending MTF/timer work (27.7), which
 * are delivered at the first instruction boundary in non-root operation.
 *
 * <p>Context: VMX root operation, inside VMLAUNCH/VMRESUME (x86 instruction or Java API).
 */
public final class VmEntry {
    /** Kinds of entry-check failure, deciding the outcome (the phase, not the check, decides: style rule 3). */
    public enum Phase { CONTROLS, HOST_STATE, GUEST_STATE }

    /** One failed entry check: phase, the report line, and the exit qualification for guest-state failures. */
    public record Failure(Phase phase, String message, long qualification) { }

    /** Runs the entry checks in SDM order and returns the first failure, or null. */
    @FunctionalInterface
    public interface EntryCheckRunner {
        Failure firstFailure(Vmx vmx);
    }

    private final Vmx vmx;
    private final Cpu cpu;
    /** The entry checks; replaced when the check catalogue is wired in. */
    public EntryCheckRunner checks;

    public VmEntry(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
    }

    /** VM entry proper; see {@link lhv.vmx.insn.VmxOperations#vmentry}. */
    public VmxResult enter(boolean launch, boolean fromJava) {
        Failure f = checks == null ? null : checks.firstFailure(vmx);
        if (f != null) {
            switch (f.phase()) {
                case CONTROLS -> { return vmx.ops.vmfail(VmInstructionError.ENTRY_INVALID_CONTROL_FIELD); }
                case HOST_STATE -> { return vmx.ops.vmfail(VmInstructionError.ENTRY_INVALID_HOST_STATE_FIELD); }
                case GUEST_STATE -> {
                    vmx.hostIsJava = fromJava;
                    vmx.exit.entryFailure(ExitReason.INVALID_STATE.number, f.qualification());
                    return new VmxResult.EntryFailed(ExitReason.INVALID_STATE.number | ExitReason.ENTRY_FAILURE_BIT,
                            f.qualification(), f.message());
                }
            }
        }
        vmx.hostIsJava = fromJava;
        loadGuestState();
        // SDM 27.4: VM-entry MSR-load area; failure is exit 34 with the 1-based entry number
        int failed = MsrAreas.load(cpu, vmx.read(VM_ENTRY_MSR_LOAD_ADDR), vmx.read32(VM_ENTRY_MSR_LOAD_COUNT));
        if (failed != 0) {
            vmx.exit.entryFailure(ExitReason.MSR_LOAD_FAIL.number, failed);
            return new VmxResult.EntryFailed(ExitReason.MSR_LOAD_FAIL.number | ExitReason.ENTRY_FAILURE_BIT, failed,
                    "VM-entry MSR-load area entry " + failed + " (MSR " + Long.toHexString(
                            cpu.mem.read(vmx.read(VM_ENTRY_MSR_LOAD_ADDR) + 16L * (failed - 1), 4)) + ") could not be loaded [SDM 27.4]");
        }
        if (launch) vmx.vmcs.setLaunched(true);
        cpu.nonRoot = true;
        vmx.intercepts.enterNonRoot();
        return VmxResult.SUCCEEDED;
    }

    // ---- SDM 27.3.2: loading guest state ----

    private void loadGuestState() {
        int entryControls = vmx.read32(VM_ENTRY_CONTROLS);
        boolean ia32e = EntryControl.IA32E_MODE_GUEST.isSet(entryControls);
        // 27.3.2.1 control registers, debug registers, MSRs
        long keep = VmExit.CR0_UNMODIFIED;
        cpu.cr0 = (cpu.cr0 & keep) | (vmx.read(GUEST_CR0) & ~keep);
        cpu.cr3 = vmx.read(GUEST_CR3);
        cpu.cr4 = vmx.read(GUEST_CR4);
        if (EntryControl.LOAD_DEBUG_CONTROLS.isSet(entryControls)) {
            cpu.dr[7] = vmx.read(GUEST_DR7);
            cpu.debugCtl = vmx.read(GUEST_IA32_DEBUGCTL);
        }
        cpu.sysenterCs = vmx.read(GUEST_SYSENTER_CS);
        cpu.sysenterEsp = vmx.read(GUEST_SYSENTER_ESP);
        cpu.sysenterEip = vmx.read(GUEST_SYSENTER_EIP);
        if (EntryControl.LOAD_IA32_PAT.isSet(entryControls)) cpu.pat = vmx.read(GUEST_IA32_PAT);
        if (EntryControl.LOAD_IA32_EFER.isSet(entryControls)) {
            cpu.efer = vmx.read(GUEST_IA32_EFER);
        } else {
            // LMA follows "IA-32e mode guest"; LME too when the guest has paging on
            cpu.efer = ia32e ? cpu.efer | Cr.EFER_LMA : cpu.efer & ~Cr.EFER_LMA;
            if ((cpu.cr0 & Cr.CR0_PG) != 0) cpu.efer = ia32e ? cpu.efer | Cr.EFER_LME : cpu.efer & ~Cr.EFER_LME;
        }
        // 27.3.2.2 segment and descriptor-table registers (unusable segments keep the unusable bit)
        for (int s = 0; s < 6; s++) loadSegment(s, cpu.seg[s]);
        loadSegment(6, cpu.ldtr);
        loadSegment(7, cpu.tr);
        cpu.gdtrBase = vmx.read(GUEST_GDTR_BASE);
        cpu.gdtrLimit = vmx.read32(GUEST_GDTR_LIMIT);
        cpu.idtrBase = vmx.read(GUEST_IDTR_BASE);
        cpu.idtrLimit = vmx.read32(GUEST_IDTR_LIMIT);
        // 27.3.2.3 RIP, RSP, RFLAGS
        cpu.rip = vmx.read(GUEST_RIP);
        cpu.gpr[Cpu.RSP] = vmx.read(GUEST_RSP);
        cpu.setRflags(vmx.read(GUEST_RFLAGS));
        // the CPL is SS.DPL (SDM 27.3.2.2)
        cpu.cpl = cpu.seg[Segment.SS].dpl();
        // 27.3.2.5 non-register state: interruptibility and activity
        int interruptibility = vmx.read32(GUEST_INTERRUPTIBILITY_INFO);
        cpu.interruptShadow = interruptibility & 3;
        vmx.intercepts.loadNmiBlocking((interruptibility & 1 << 3) != 0);
        cpu.activityState = vmx.read32(GUEST_ACTIVITY_STATE);
        cpu.stateChanged();
        // without VPIDs, entry invalidates the translations of linear addresses (SDM 29.4.3.3); O(1) retag
        cpu.mmu.flush(true);
    }

    private void loadSegment(int s, Segment seg) {
        seg.set((int) vmx.read(VmExit.GUEST_SELECTOR[s]), vmx.read(VmExit.GUEST_BASE[s]),
                (int) vmx.read(VmExit.GUEST_LIMIT[s]), (int) vmx.read(VmExit.GUEST_AR[s]) & 0x1F0FF);
    }
}
