package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.intercept.VmExitSignal;
import lhv.vmx.Vmx;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.StateGroups;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The VM-exit procedure of SDM Vol. 3C chapter 28: recording the exit information (28.2), updating
 * processor state (28.3 saving guest state), saving MSRs (28.4), loading host state (28.5), loading
 * host MSRs (28.6), and VMX aborts (28.7). Also the exits that follow a VM-entry failure (27.8).
 *
 * <p>Context: runs inside the instruction or event that caused the exit, in VMX non-root operation
 * (or at the end of a failed VM entry); leaves the processor in VMX root operation and finally
 * throws {@link VmExitSignal} to abandon what the guest was doing — or, for an instruction the
 * interpreter asked about with {@link lhv.cpu.intercept.Virtualization#interceptEnds}, ends that
 * instruction through the run loop and returns ({@link #returningFrom}), with the same outcome.
 */
public final class VmExit {
    /** VMX-abort indicators, SDM 28.7. */
    public static final int ABORT_SAVING_GUEST_MSRS = 1, ABORT_LOADING_HOST_MSRS = 4, ABORT_IA32E_GUEST_TO_LEGACY_HOST = 6;

    private final Vmx vmx;
    private final Cpu cpu;

    /**
     * IDT-vectoring information of the exit being performed (SDM 25.9.3: the event whose delivery
     * was under way, with its error code), or 0; set by the event intercepts, consumed by the exit.
     */
    public int vectoringInfo;
    public int vectoringErrorCode;

    /** Set after a VMX abort: the indicator written to the VMCS region. */
    public int abortIndicator;

    /** The current intercept came through interceptEnds: an exit may return instead of throwing. */
    private boolean mayReturn;
    /** Exits that returned instead of throwing, since this processor was made (for tests and diagnostics). */
    public long returnedExits;
    /** False: every exit throws (tests compare both ways, ReturningExitTest). */
    private boolean returningEnabled = true;
    /** An exit returned ({@link #exit}); read and cleared by {@link #returningFrom}. */
    private boolean returned;

    public VmExit(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
        this.saved = new StateSync(cpu, vmx.vmcs, false);
        this.hostLoaded = new StateSync(cpu, vmx.vmcs, true);
        this.msrStore = new MsrAreas(cpu);
        this.msrLoad = new MsrAreas(cpu);
    }

    // ---- entry points ----

    /**
     * A VM exit caused by executing an instruction (fault-like: the saved RIP is that of the
     * instruction, SDM 28.3.3): records the instruction length and information, then exits.
     *
     * @param guestLinear the guest-linear-address field value, or -1 when the reason defines none
     */
    public void instructionExit(int reason, long qualification, int length, int instructionInfo, long guestLinear) {
        cpu.rip -= length; // during execution cpu.rip already points past the instruction
        // SDM 28.3.3: an instruction that exits saves RF = 0; a task switch by CALL/JMP/IRET saves RF
        // as the old TSS would have received it (the guest's RF)
        if (reason != ExitReason.TASK_SWITCH.number) cpu.rflags &= ~Rflags.RF;
        Vmcs v = vmx.vmcs; // exit-information fields by slot, each value within its field's width
        v.storeState(Slots.EXIT_INSTRUCTION_LEN, length & 0xFFFF_FFFFL);
        v.storeState(Slots.EXIT_INSTRUCTION_INFO, instructionInfo & 0xFFFF_FFFFL);
        if (guestLinear != -1) v.storeState(Slots.EXIT_GUEST_LINEAR, guestLinear);
        exit(reason, qualification, 0, 0);
    }

    /**
     * A VM exit with the guest's RIP as it stands (exits between instructions, or events whose
     * RIP the event-delivery code already established).
     *
     * @param interruptionInfo VM-exit interruption information (0 = not valid), SDM 25.9.2
     */
    public void exit(int reason, long qualification, int interruptionInfo, int interruptionErrorCode) {
        perform(reason, qualification, interruptionInfo, interruptionErrorCode);
        // Returning needs: a caller that returns at once (mayReturn), no VMX abort (the run loop
        // must then see the shutdown, as the signal's catch arranges) and no stop request already
        // pending (the run must end with VM_EXIT first, as after the signal).
        if (mayReturn && abortIndicator == 0 && cpu.stopRequest == null) {
            mayReturn = false;
            returned = true;
            returnedExits++;
            cpu.interpreter.endInstructionForVmExit(vmx.hostIsJava);
            return;
        }
        throw signal();
    }

    /** Lets instruction exits return through the run loop (the default) or makes every exit throw. */
    public void setReturningExits(boolean enabled) {
        returningEnabled = enabled;
    }

    /**
     * Lets an exit until {@link #disallowReturn} return instead of throwing. Only for code that does
     * nothing after such an exit and whose caller returns at once to the interpreter's dispatch: the
     * intercepts of {@link lhv.cpu.intercept.Virtualization#interceptEnds} and VMCALL in non-root
     * operation.
     */
    public void allowReturn() {
        mayReturn = returningEnabled;
        returned = false;
    }

    /** Ends {@link #allowReturn}; true when an exit returned meanwhile. */
    public boolean disallowReturn() {
        mayReturn = false;
        boolean r = returned;
        returned = false;
        return r;
    }

    /**
     * The signal that abandons the guest's instruction: to Java when the root software is Java. After
     * a VMX abort the processor is shut down; the run loop then stops with SHUTDOWN, not VM_EXIT.
     */
    public VmExitSignal signal() {
        return vmx.hostIsJava && abortIndicator == 0 ? VmExitSignal.TO_JAVA : VmExitSignal.TO_GUEST_CODE;
    }

    /** Everything a VM exit does, without throwing (also used by failed VM entries). */
    public void perform(int reason, long qualification, int interruptionInfo, int interruptionErrorCode) {
        // SDM 28.2: exit information (by slot, each value within its field's width)
        Vmcs v = vmx.vmcs;
        v.storeState(Slots.EXIT_REASON, reason & 0xFFFFL);
        v.storeState(Slots.EXIT_QUALIFICATION, qualification);
        v.storeState(Slots.EXIT_INTR_INFO, interruptionInfo & 0xFFFF_FFFFL);
        if (interruptionInfo < 0 && (interruptionInfo & 1 << 11) != 0) v.storeState(Slots.EXIT_INTR_ERROR_CODE, interruptionErrorCode & 0xFFFF_FFFFL);
        v.storeState(Slots.IDT_VECTORING_INFO, vectoringInfo & 0xFFFF_FFFFL);
        if (vectoringInfo < 0 && (vectoringInfo & 1 << 11) != 0) v.storeState(Slots.IDT_VECTORING_ERROR_CODE, vectoringErrorCode & 0xFFFF_FFFFL);
        vectoringInfo = 0;
        saveGuestState(reason);
        int failed = msrStore.storeRemembered(cpu, vmx.read(VM_EXIT_MSR_STORE_ADDR), vmx.read32(VM_EXIT_MSR_STORE_COUNT));
        if (failed != 0) {
            abort(ABORT_SAVING_GUEST_MSRS);
            return;
        }
        if ((cpu.efer & Cr.EFER_LMA) != 0 && !ExitControl.HOST_ADDRESS_SPACE_SIZE.isSet(vmx.read32(VM_EXIT_CONTROLS))) {
            abort(ABORT_IA32E_GUEST_TO_LEGACY_HOST); // SDM 28.5: IA-32e mode cannot be left by a VM exit
            return;
        }
        boolean nmiExit = reason == ExitReason.EXCEPTION_NMI.number && interruptionInfo < 0
                && (interruptionInfo >>> 8 & 7) == 2;
        loadHostState(nmiExit);
    }

    /**
     * The exit after a VM-entry failure during or after loading guest state (SDM 27.8): reason
     * with bit 31 set and the qualification are recorded, guest state is not saved, host state and
     * the VM-exit MSR-load area are loaded.
     */
    public void entryFailure(int reason, long qualification) {
        vmx.write(VM_EXIT_REASON, (reason | ExitReason.ENTRY_FAILURE_BIT) & 0xFFFF_FFFFL);
        vmx.write(EXIT_QUALIFICATION, qualification);
        loadHostState(false);
    }

    // ---- SDM 28.3: saving guest state ----

    /** The VM-exit MSR-store and MSR-load areas, with what they last left (see {@link MsrAreas}). */
    final MsrAreas msrStore, msrLoad;
    /** What saving guest state last established per state group (see {@link StateSync}). */
    final StateSync saved;
    private final StateSync.Procedure groupSave = this::saveGroup;
    /** What loading host state last established per state group. */
    final StateSync hostLoaded;
    private final StateSync.Procedure hostGroupLoad = this::loadHostGroup;

    void saveGuestState(int reason) {
        Vmcs v = vmx.vmcs;
        int exitControls = (int) v.slot(Slots.EXIT_CONTROLS);
        // the groups: skipped when the fields already hold what saving would store (StateSync)
        int todo = saved.outOfPlace(cpu, v, exitControls, groupSave);
        for (int m = todo; m != 0; m &= m - 1) saveGroup(v, Integer.numberOfTrailingZeros(m), exitControls);
        saved.done(cpu, v, exitControls, todo);
        if (ExitControl.SAVE_DEBUG_CONTROLS.isSet(exitControls)) v.storeState(Slots.GUEST_DR7, cpu.dr[7]);
        if (vmx.caps.storesLmaOnExit()) {
            // IA32_VMX_MISC[5]: the exit stores EFER.LMA into the "IA-32e mode guest" entry control (SDM 28.2, A.6)
            long entry = vmx.read(VM_ENTRY_CONTROLS) & ~(long) EntryControl.IA32E_MODE_GUEST.mask();
            vmx.write(VM_ENTRY_CONTROLS, (cpu.efer & Cr.EFER_LMA) != 0 ? entry | EntryControl.IA32E_MODE_GUEST.mask() : entry);
        }
        v.storeState(Slots.GUEST_RIP, cpu.rip);
        v.storeState(Slots.GUEST_RSP, cpu.gpr[Cpu.RSP]);
        v.storeState(Slots.GUEST_RFLAGS, cpu.getRflags());
        // SDM 28.3.4: interruptibility (STI/MOV SS blocking, NMI or virtual-NMI blocking) and activity
        int interruptibility = cpu.interruptShadow & 3;
        if (vmx.intercepts.nmiBlockedForSave()) interruptibility |= 1 << 3;
        v.storeState(Slots.GUEST_INTERRUPTIBILITY, interruptibility);
        v.storeState(Slots.GUEST_ACTIVITY, cpu.activityState & 0xFFFF_FFFFL);
        v.storeState(Slots.GUEST_PENDING_DBG, pendingDebugExceptions(reason));
        if (ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.isSet(exitControls)
                && PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.isSet(vmx.read32(PIN_BASED_VM_EXEC_CONTROL))) {
            vmx.write(VMX_PREEMPTION_TIMER_VALUE, reason == ExitReason.PREEMPTION_TIMER.number ? 0 : vmx.intercepts.preemptionTimerRemaining());
        }
    }

    /**
     * SDM 28.3.2 (control registers, MSRs, segments, descriptor tables) for one state group; every
     * value truncated to its field's width. One small method per group, so that the JIT can inline the
     * dispatch and the group a guest keeps changing into the exit.
     */
    private void saveGroup(Vmcs v, int g, int exitControls) {
        switch (g) {
            case StateGroups.CONTROL -> saveControlRegisters(v, exitControls);
            case StateGroups.MSR -> saveMsrs(v, exitControls);
            case StateGroups.TABLES -> saveDescriptorTables(v);
            default -> saveSegment(v, g - StateGroups.SEGMENTS);
        }
    }

    private void saveControlRegisters(Vmcs v, int exitControls) {
        v.storeState(Slots.GUEST_CR0, cpu.cr0);
        v.storeState(Slots.GUEST_CR3, cpu.cr3);
        v.storeState(Slots.GUEST_CR4, cpu.cr4);
        if (ExitControl.SAVE_IA32_EFER.isSet(exitControls)) v.storeState(Slots.GUEST_EFER, cpu.efer);
    }

    private void saveMsrs(Vmcs v, int exitControls) {
        if (ExitControl.SAVE_DEBUG_CONTROLS.isSet(exitControls)) v.storeState(Slots.GUEST_DEBUGCTL, cpu.debugCtl);
        v.storeState(Slots.GUEST_SYSENTER_CS, cpu.sysenterCs & 0xFFFF_FFFFL);
        v.storeState(Slots.GUEST_SYSENTER_ESP, cpu.sysenterEsp);
        v.storeState(Slots.GUEST_SYSENTER_EIP, cpu.sysenterEip);
        if (ExitControl.SAVE_IA32_PAT.isSet(exitControls)) v.storeState(Slots.GUEST_PAT, cpu.pat);
    }

    private void saveDescriptorTables(Vmcs v) {
        v.storeState(Slots.GUEST_GDTR_BASE, cpu.gdtrBase);
        v.storeState(Slots.GUEST_GDTR_LIMIT, cpu.gdtrLimit & 0xFFFF_FFFFL);
        v.storeState(Slots.GUEST_IDTR_BASE, cpu.idtrBase);
        v.storeState(Slots.GUEST_IDTR_LIMIT, cpu.idtrLimit & 0xFFFF_FFFFL);
    }

    /** Segment s in VMCS order (ES, CS, SS, DS, FS, GS, LDTR, TR). */
    private void saveSegment(Vmcs v, int s) {
        Segment seg = StateSync.segment(cpu, s);
        v.storeState(Slots.GUEST_SELECTOR + s, seg.selector & 0xFFFF);
        v.storeState(Slots.GUEST_BASE + s, seg.base);
        v.storeState(Slots.GUEST_LIMIT + s, seg.limit & 0xFFFF_FFFFL);
        v.storeState(Slots.GUEST_AR + s, seg.attributes & 0x1F0FF);
    }

    /** Pending-debug-exceptions field bits: B3-B0, enabled breakpoint (12), BS (14); SDM 25.4.2 Table 25-4. */
    static final long PENDING_DEBUG_BITS = 0xFL | 1L << 12 | 1L << 14;

    /**
     * SDM 28.3.4: the field is saved clear except for exits due to INIT, "TPR below threshold" and
     * "monitor trap flag", and exits (not caused by a debug exception) while MOV SS blocks debug
     * exceptions; those save the debug traps pending at the exit, with bit 12 set when a matched
     * breakpoint is enabled in DR7. Every other exit happens only after the pending traps were
     * delivered (they have priority, SDM 6.9), so there is nothing to lose. Either way the guest's
     * pending traps do not survive into the host.
     */
    long pendingDebugExceptions(int reason) {
        long pending = cpu.pendingDebugExceptions;
        cpu.pendingDebugExceptions = 0;
        boolean saves = reason == ExitReason.MONITOR_TRAP_FLAG.number || reason == ExitReason.TPR_BELOW_THRESHOLD.number
                || reason == ExitReason.INIT_SIGNAL.number || (cpu.interruptShadow & 2) != 0;
        if (!saves || pending == 0) return 0;
        long matchedEnabled = 0;
        for (int n = 0; n < 4; n++) {
            if ((pending & 1L << n) != 0 && (cpu.dr[7] & 3L << 2 * n) != 0) matchedEnabled = 1L << 12;
        }
        return (pending | matchedEnabled) & PENDING_DEBUG_BITS;
    }

    // ---- SDM 28.5: loading host state ----

    /** CR0 bits a VM exit or entry does not modify: ET, NW, CD, reserved 15:6, 17, 28:19, 63:32 (SDM 28.5.1, 27.3.2.1). */
    static final long CR0_UNMODIFIED = Cr.CR0_ET | Cr.CR0_NW | Cr.CR0_CD | 0xFFC0L | 1L << 17 | 0x1FF80000L | 0xFFFF_FFFF_0000_0000L;

    void loadHostState(boolean nmiExit) {
        Vmcs v = vmx.vmcs;
        int exitControls = (int) v.slot(Slots.EXIT_CONTROLS);
        // the groups: skipped when the processor already holds what loading would put there (StateSync)
        int todo = hostLoaded.outOfPlace(cpu, v, exitControls, hostGroupLoad);
        for (int m = todo; m != 0; m &= m - 1) loadHostGroup(v, Integer.numberOfTrailingZeros(m), exitControls);
        hostLoaded.done(cpu, v, exitControls, todo);
        cpu.dr[7] = 0x400;
        if (ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL.isSet(exitControls)) vmx.perfGlobalCtrl = vmx.read(HOST_IA32_PERF_GLOBAL_CTRL);
        // SDM 28.5.3: RIP, RSP, RFLAGS (all flags cleared but bit 1)
        cpu.rip = v.slot(Slots.HOST_RIP);
        cpu.gpr[Cpu.RSP] = v.slot(Slots.HOST_RSP);
        cpu.setRflags(Rflags.FIXED1);
        cpu.cpl = 0;
        cpu.interruptShadow = 0;
        cpu.activityState = 0;
        if (nmiExit) cpu.nmiBlocked = true;
        cpu.nonRoot = false;
        vmx.intercepts.leaveNonRoot();
        cpu.stateChanged();
        // without VPIDs a VM exit invalidates all linear mappings (SDM 29.4.3.1); the MMU keeps a
        // translation set only where that cannot be told apart from the flush (Mmu.vmTransition)
        cpu.mmu.vmTransition();
        // SDM 28.6: VM-exit MSR-load area
        int failed = msrLoad.loadRemembered(cpu, vmx.read(VM_EXIT_MSR_LOAD_ADDR), vmx.read32(VM_EXIT_MSR_LOAD_COUNT));
        if (failed != 0) abort(ABORT_LOADING_HOST_MSRS);
    }

    /**
     * SDM 28.5.1 (control registers, MSRs) and 28.5.2 (segments, descriptor tables) for one state
     * group. One small method per group, so that the JIT can inline the dispatch and the group a guest
     * keeps changing into the exit.
     */
    private void loadHostGroup(Vmcs v, int g, int exitControls) {
        switch (g) {
            case StateGroups.CONTROL -> loadHostControlRegisters(v, exitControls);
            case StateGroups.MSR -> loadHostMsrs(v, exitControls);
            case StateGroups.TABLES -> {
                cpu.setGdtr(v.slot(Slots.HOST_GDTR_BASE), 0xFFFF);
                cpu.setIdtr(v.slot(Slots.HOST_IDTR_BASE), 0xFFFF);
            }
            default -> loadHostSegment(v, g - StateGroups.SEGMENTS, exitControls);
        }
    }

    /** Control registers: the fixed bits stay as VMX operation requires. */
    private void loadHostControlRegisters(Vmcs v, int exitControls) {
        boolean host64 = ExitControl.HOST_ADDRESS_SPACE_SIZE.isSet(exitControls);
        long keep0 = CR0_UNMODIFIED | vmx.caps.cr0Fixed0 | ~vmx.caps.cr0Fixed1;
        cpu.setCr0((cpu.cr0 & keep0) | (v.slot(Slots.HOST_CR0) & ~keep0));
        cpu.setCr3(v.slot(Slots.HOST_CR3) & ((1L << cpu.mmu.maxPhysAddr()) - 1));
        long cr4Fixed = vmx.caps.cr4Fixed0 | ~vmx.caps.cr4Fixed1;
        long cr4 = (cpu.cr4 & cr4Fixed) | (v.slot(Slots.HOST_CR4) & ~cr4Fixed);
        cpu.setCr4(host64 ? cr4 | Cr.CR4_PAE : cr4 & ~Cr.CR4_PCIDE);
        if (ExitControl.LOAD_IA32_EFER.isSet(exitControls)) {
            cpu.setEfer(vmx.read(HOST_IA32_EFER));
        } else {
            long lm = Cr.EFER_LMA | Cr.EFER_LME;
            cpu.setEfer(host64 ? cpu.efer | lm : cpu.efer & ~lm);
        }
    }

    private void loadHostMsrs(Vmcs v, int exitControls) {
        cpu.setDebugCtl(0);
        cpu.setSysenterCs(v.slot(Slots.HOST_SYSENTER_CS));
        cpu.setSysenterEsp(v.slot(Slots.HOST_SYSENTER_ESP));
        cpu.setSysenterEip(v.slot(Slots.HOST_SYSENTER_EIP));
        if (ExitControl.LOAD_IA32_PAT.isSet(exitControls)) cpu.setPat(vmx.read(HOST_IA32_PAT));
    }

    /** SDM 28.5.2: segment s (ES, CS, SS, DS, FS, GS, LDTR, TR) with the fixed attributes of host segments. */
    private void loadHostSegment(Vmcs v, int s, int exitControls) {
        boolean host64 = ExitControl.HOST_ADDRESS_SPACE_SIZE.isSet(exitControls);
        Segment seg = StateSync.segment(cpu, s);
        switch (s) {
            case Segment.CS -> seg.set((int) v.slot(Slots.HOST_CS), 0, -1,
                    0xB | Segment.AR_S | Segment.AR_P | Segment.AR_G | (host64 ? Segment.AR_L : Segment.AR_DB));
            case Segment.SS -> loadHostData(seg, (int) v.slot(Slots.HOST_SS), 0);
            case Segment.DS -> loadHostData(seg, (int) v.slot(Slots.HOST_DS), 0);
            case Segment.ES -> loadHostData(seg, (int) v.slot(Slots.HOST_ES), 0);
            case Segment.FS -> loadHostData(seg, (int) v.slot(Slots.HOST_FS), v.slot(Slots.HOST_FS_BASE));
            case Segment.GS -> loadHostData(seg, (int) v.slot(Slots.HOST_GS), v.slot(Slots.HOST_GS_BASE));
            case 6 -> seg.set(0, 0, 0, Segment.AR_UNUSABLE); // LDTR
            default -> seg.set((int) v.slot(Slots.HOST_TR), v.slot(Slots.HOST_TR_BASE), 0x67, 0xB | Segment.AR_P);
        }
    }

    /** SS, DS, ES, FS, GS: unusable with a null selector, otherwise read/write accessed data, 4 GiB, DPL 0. */
    private static void loadHostData(Segment segment, int selector, long base) {
        int ar = selector == 0 ? Segment.AR_UNUSABLE : 3 | Segment.AR_S | Segment.AR_P | Segment.AR_DB | Segment.AR_G;
        segment.set(selector, base, -1, ar);
    }

    // ---- SDM 28.7: VMX abort ----

    void abort(int indicator) {
        abortIndicator = indicator;
        Vmcs.writeAbortIndicator(cpu.mem, vmx.vmcs.pointer(), indicator);
        cpu.nonRoot = false;
        vmx.intercepts.leaveNonRoot();
        cpu.activityState = 2; // shutdown
        cpu.requestStop(StopReason.SHUTDOWN);
    }

    /** Guest segment fields indexed ES, CS, SS, DS, FS, GS, LDTR, TR: encodings step by 2 (SDM Appendix B). */
    static final VmcsField[] GUEST_SELECTOR = segmentFields(GUEST_ES_SELECTOR), GUEST_BASE = segmentFields(GUEST_ES_BASE),
            GUEST_LIMIT = segmentFields(GUEST_ES_LIMIT), GUEST_AR = segmentFields(GUEST_ES_AR_BYTES);

    private static VmcsField[] segmentFields(VmcsField es) {
        VmcsField[] f = new VmcsField[8];
        for (int s = 0; s < 8; s++) f[s] = VmcsField.forEncoding(es.encoding + 2 * s);
        return f;
    }
}
