package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.entry.CheckFailure;
import lhv.vmx.entry.EntryCheckMemo;
import lhv.vmx.entry.EntryChecks;
import lhv.vmx.entry.Phase;
import lhv.vmx.insn.VmFail;
import lhv.vmx.vmcs.StateGroups;
import lhv.vmx.vmcs.Vmcs;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The VM-entry procedure of SDM Vol. 3C chapter 27 after VMLAUNCH/VMRESUME's own checks: the
 * checks of 27.2-27.3 ({@link EntryChecks}), loading guest state (27.3.2), the VM-entry
 * MSR-load area (27.4), then the event to inject (27.6) and the pending MTF/timer work (27.7), which
 * are delivered at the first instruction boundary in non-root operation.
 *
 * <p>Context: VMX root operation, inside VMLAUNCH/VMRESUME (x86 instruction or Java API).
 */
public final class VmEntry {
    private final Vmx vmx;
    private final Cpu cpu;
    /** The checks of SDM 27.2-27.3, re-evaluating only those whose inputs changed (same outcome as all). */
    private final EntryCheckMemo checks = new EntryCheckMemo();

    public VmEntry(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
        this.guestLoaded = new StateSync(cpu, vmx.vmcs, false);
        this.msrLoad = new MsrAreas(cpu);
    }

    /** VM entry proper, after VMLAUNCH/VMRESUME's own checks ({@link lhv.vmx.insn.VmlaunchVmresume}). */
    public VmxResult enter(boolean launch, boolean fromJava) {
        // SDM 27.2-27.3 in order; the phase of the first failure decides the outcome (SDM 27.1, 27.8)
        CheckFailure f = checks.firstFailure(vmx.vmcs.view(), vmx.entryContext());
        if (f != null) {
            if (f.phase() != Phase.GUEST_STATE) return VmFail.of(vmx, f.phase().instructionError);
            vmx.hostIsJava = fromJava;
            vmx.exit.entryFailure(ExitReason.INVALID_STATE.number, f.exitQualification());
            return new VmxResult.EntryFailed(ExitReason.INVALID_STATE.number | ExitReason.ENTRY_FAILURE_BIT,
                    f.exitQualification(), f.message(), f);
        }
        vmx.hostIsJava = fromJava;
        loadGuestState();
        // SDM 27.4: VM-entry MSR-load area; failure is exit 34 with the 1-based entry number
        int failed = msrLoad.loadRemembered(cpu, vmx.read(VM_ENTRY_MSR_LOAD_ADDR), vmx.read32(VM_ENTRY_MSR_LOAD_COUNT));
        if (failed != 0) {
            vmx.exit.entryFailure(ExitReason.MSR_LOAD_FAIL.number, failed);
            return new VmxResult.EntryFailed(ExitReason.MSR_LOAD_FAIL.number | ExitReason.ENTRY_FAILURE_BIT, failed,
                    "VM-entry MSR-load area entry " + failed + " (MSR " + Long.toHexString(
                            cpu.mem.read(vmx.read(VM_ENTRY_MSR_LOAD_ADDR) + 16L * (failed - 1), 4)) + ") could not be loaded [SDM 27.4]", null);
        }
        if (launch) vmx.vmcs.setLaunched(true);
        cpu.nonRoot = true;
        vmx.intercepts.enterNonRoot();
        return VmxResult.SUCCEEDED;
    }

    // ---- SDM 27.3.2: loading guest state ----

    /** The VM-entry MSR-load area, with what it last left (see {@link MsrAreas}). */
    final MsrAreas msrLoad;
    /** What loading guest state last established per state group (see {@link StateSync}). */
    final StateSync guestLoaded;
    private final StateSync.Procedure groupLoad = this::loadGroup;

    void loadGuestState() {
        Vmcs v = vmx.vmcs;
        int entryControls = (int) v.slot(Slots.ENTRY_CONTROLS);
        // the groups: skipped when the processor already holds what loading would put there (StateSync)
        int todo = guestLoaded.outOfPlace(cpu, v, entryControls, groupLoad);
        for (int m = todo; m != 0; m &= m - 1) loadGroup(v, Integer.numberOfTrailingZeros(m), entryControls);
        guestLoaded.done(cpu, v, entryControls, todo);
        if (EntryControl.LOAD_DEBUG_CONTROLS.isSet(entryControls)) {
            cpu.dr[7] = (v.slot(Slots.GUEST_DR7) & ~(1L << 12 | 3L << 14)) | 0x400; // bits 12, 15:14 read 0, bit 10 reads 1
        }
        if (EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL.isSet(entryControls)) vmx.perfGlobalCtrl = vmx.read(GUEST_IA32_PERF_GLOBAL_CTRL);
        // 27.3.2.3 RIP, RSP, RFLAGS
        cpu.rip = v.slot(Slots.GUEST_RIP);
        cpu.gpr[Cpu.RSP] = v.slot(Slots.GUEST_RSP);
        cpu.setRflags(v.slot(Slots.GUEST_RFLAGS));
        // the CPL is SS.DPL (SDM 27.3.2.2)
        cpu.cpl = cpu.seg[Segment.SS].dpl();
        // 27.3.2.5 non-register state: interruptibility and activity
        int interruptibility = (int) v.slot(Slots.GUEST_INTERRUPTIBILITY);
        cpu.interruptShadow = interruptibility & 3;
        vmx.intercepts.loadNmiBlocking((interruptibility & 1 << 3) != 0);
        cpu.activityState = (int) v.slot(Slots.GUEST_ACTIVITY);
        cpu.pendingDebugExceptions = pendingDebugExceptions();
        cpu.stateChanged();
        // SDM 27.3.2.4: PAE paging outside IA-32e mode loads the PDPTEs (the checks validated them)
        if ((cpu.cr0 & Cr.CR0_PG) != 0 && (cpu.cr4 & Cr.CR4_PAE) != 0 && (cpu.efer & Cr.EFER_LMA) == 0) {
            cpu.mmu.loadPdptes(cpu.cr3);
        }
        // without VPIDs a VM entry invalidates all linear mappings (SDM 29.4.3.1); the MMU keeps a
        // translation set only where that cannot be told apart from the flush (Mmu.vmTransition)
        cpu.mmu.vmTransition();
    }

    /**
     * SDM 27.3.2.1 (control registers, MSRs) and 27.3.2.2 (segments, descriptor tables) for one state
     * group. One small method per group, so that the JIT can inline the dispatch and the group a guest
     * keeps changing (e.g. its own IDT) into the entry.
     */
    private void loadGroup(Vmcs v, int g, int entryControls) {
        switch (g) {
            case StateGroups.CONTROL -> loadControlRegisters(v, entryControls);
            case StateGroups.MSR -> loadMsrs(v, entryControls);
            case StateGroups.TABLES -> loadDescriptorTables(v);
            default -> loadSegment(v, g - StateGroups.SEGMENTS);
        }
    }

    private void loadControlRegisters(Vmcs v, int entryControls) {
        long keep = VmExit.CR0_UNMODIFIED;
        cpu.setCr0((cpu.cr0 & keep) | (v.slot(Slots.GUEST_CR0) & ~keep));
        cpu.setCr3(v.slot(Slots.GUEST_CR3));
        cpu.setCr4(v.slot(Slots.GUEST_CR4));
        if (EntryControl.LOAD_IA32_EFER.isSet(entryControls)) {
            cpu.setEfer(v.slot(Slots.GUEST_EFER));
        } else {
            // LMA follows "IA-32e mode guest"; LME too when the guest has paging on
            boolean ia32e = EntryControl.IA32E_MODE_GUEST.isSet(entryControls);
            long efer = ia32e ? cpu.efer | Cr.EFER_LMA : cpu.efer & ~Cr.EFER_LMA;
            if ((cpu.cr0 & Cr.CR0_PG) != 0) efer = ia32e ? efer | Cr.EFER_LME : efer & ~Cr.EFER_LME;
            cpu.setEfer(efer);
        }
    }

    private void loadMsrs(Vmcs v, int entryControls) {
        if (EntryControl.LOAD_DEBUG_CONTROLS.isSet(entryControls)) cpu.setDebugCtl(v.slot(Slots.GUEST_DEBUGCTL));
        cpu.setSysenterCs(v.slot(Slots.GUEST_SYSENTER_CS));
        cpu.setSysenterEsp(v.slot(Slots.GUEST_SYSENTER_ESP));
        cpu.setSysenterEip(v.slot(Slots.GUEST_SYSENTER_EIP));
        if (EntryControl.LOAD_IA32_PAT.isSet(entryControls)) cpu.setPat(v.slot(Slots.GUEST_PAT));
    }

    private void loadDescriptorTables(Vmcs v) {
        cpu.setGdtr(v.slot(Slots.GUEST_GDTR_BASE), (int) v.slot(Slots.GUEST_GDTR_LIMIT));
        cpu.setIdtr(v.slot(Slots.GUEST_IDTR_BASE), (int) v.slot(Slots.GUEST_IDTR_LIMIT));
    }

    /** Segment s (ES, CS, SS, DS, FS, GS, LDTR, TR); unusable segments keep the unusable bit. */
    private void loadSegment(Vmcs v, int s) {
        StateSync.segment(cpu, s).set((int) v.slot(Slots.GUEST_SELECTOR + s), v.slot(Slots.GUEST_BASE + s),
                (int) v.slot(Slots.GUEST_LIMIT + s), (int) v.slot(Slots.GUEST_AR + s) & 0x1F0FF);
    }

    /**
     * SDM 27.7.3: the pending-debug-exceptions field holds valid pending debug exceptions when BS
     * (bit 14) or "enabled breakpoint" (bit 12) is set. A non-vectoring entry makes them pending in
     * the guest as if encountered there: delivered as a #DB trap before the first guest instruction,
     * or held while MOV SS blocks them (the run loop then delivers them after the next instruction).
     * A vectoring entry (event injection) drops them: ours injects only events that are not subject
     * to the MOV-SS rule of 27.7.3 (the entry checks reject injection under MOV-SS blocking except
     * for software interrupts and exceptions, whose treatment the SDM leaves to the implementation).
     */
    long pendingDebugExceptions() {
        long field = vmx.read(GUEST_PENDING_DBG_EXCEPTIONS);
        if ((field & (1L << 12 | 1L << 14)) == 0) return 0;
        if (vmx.read32(VM_ENTRY_INTR_INFO_FIELD) < 0) return 0;
        return field & VmExit.PENDING_DEBUG_BITS;
    }
}
