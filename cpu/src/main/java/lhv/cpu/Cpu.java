package lhv.cpu;

import lhv.cpu.bus.CodeMap;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.PortIo;
import lhv.cpu.intercept.Virtualization;
import lhv.cpu.model.CpuModel;
import lhv.cpu.model.MsrProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * One x86-64 logical processor: its architectural state and the units that act on it.
 *
 * <p>Context: guest execution. Everything here is single-threaded; a processor is driven by exactly
 * one Java thread at a time ({@link #run}).
 *
 * <p>State is kept in public fields so the interpreter, the system unit and the VMX layer (VM entry
 * loads and VM exit saves this state) reach it without indirection. Invariants that derived state
 * depends on ({@link #mode}, the TLB) are restored by the setter methods of the system unit; code
 * that writes CR0/CR4/EFER/CS directly (VM entry/exit) must call {@link #stateChanged()} afterwards.
 *
 * <p>The state a VM entry loads and a VM exit saves as groups ({@link #STATE_GROUPS}) is written only
 * through methods that report changes to the watchers ({@link #watchStateChanges}): the setters
 * below and {@link Segment}'s. The fields stay public for reading; StateWriteGuardTest checks that
 * no class stores into them directly.
 */
public final class Cpu {
    public static final int RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;

    // ---- architectural registers ----
    public final long[] gpr = new long[16];
    public long rip;
    /** RFLAGS when materialized; the interpreter keeps the status flags lazily, use {@link #getRflags}. */
    public long rflags = Rflags.FIXED1;
    public final Segment[] seg = {new Segment(this, STATE_SEGMENTS), new Segment(this, STATE_SEGMENTS + 1),
            new Segment(this, STATE_SEGMENTS + 2), new Segment(this, STATE_SEGMENTS + 3), new Segment(this, STATE_SEGMENTS + 4),
            new Segment(this, STATE_SEGMENTS + 5)};
    public final Segment ldtr = new Segment(this, STATE_SEGMENTS + 6);
    public final Segment tr = new Segment(this, STATE_SEGMENTS + 7);
    /** Tracked ({@link #STATE_TABLES}): write with {@link #setGdtr}/{@link #setIdtr}. */
    public long gdtrBase, idtrBase;
    public int gdtrLimit, idtrLimit;
    /** CR0, CR3, CR4 are tracked ({@link #STATE_CONTROL}): write with {@link #setCr0}, {@link #setCr3}, {@link #setCr4}. */
    public long cr0, cr2, cr3, cr4, cr8;
    public long xcr0 = 1;
    public final long[] dr = new long[8];
    /** Tracked ({@link #STATE_CONTROL}): write with {@link #setEfer}. */
    public long efer;
    /** Current privilege level (CS.RPL except in transitions, SS.DPL; SDM 5.5). */
    public int cpl;
    /** Derived operating mode; recomputed by {@link #stateChanged()}. */
    public Mode mode = Mode.REAL;

    // ---- system: MSR state of the system unit (SDM Vol. 4 Table 2-2); VM entry/exit load and save some ----
    /** IA32_STAR, IA32_LSTAR, IA32_CSTAR, IA32_FMASK (SYSCALL/SYSRET), IA32_KERNEL_GS_BASE (SWAPGS). */
    public long star, lstar, cstar, fmask, kernelGsBase;
    /** IA32_SYSENTER_CS/ESP/EIP; tracked ({@link #STATE_MSR}). */
    public long sysenterCs, sysenterEsp, sysenterEip;
    /** IA32_PAT, power-on value (SDM 13.12.4); tracked ({@link #STATE_MSR}). */
    public long pat = 0x0007040600070406L;
    /** IA32_DEBUGCTL; tracked ({@link #STATE_MSR}). */
    public long debugCtl;
    /**
     * The state VM entry loads and VM exit saves, in groups: CR0, CR3, CR4
     * and EFER ({@code STATE_CONTROL}); PAT, DEBUGCTL and the SYSENTER MSRs ({@code STATE_MSR}); GDTR
     * and IDTR ({@code STATE_TABLES}); each segment register ES, CS, SS, DS, FS, GS, LDTR, TR
     * ({@code STATE_SEGMENTS} + 0..7). Every setter of that state sets the group's bit in every
     * watcher's mask ({@link #watchStateChanges}) on a write that changes a value, and nothing else
     * does, so a clear bit means an unchanged group (lhv.vmx.transition skips saving or loading it then).
     */
    public static final int STATE_CONTROL = 0, STATE_MSR = 1, STATE_TABLES = 2, STATE_SEGMENTS = 3, STATE_GROUPS = STATE_SEGMENTS + 8;
    public long tscAux;
    /** IA32_APIC_BASE: base 0xFEE00000, global enable (bit 11), BSP (bit 8). */
    public long apicBase = 0xFEE00900L;
    /** IA32_MISC_ENABLE: fast-strings enable (bit 0). */
    public long miscEnable = 1;
    /** IA32_MTRR_DEF_TYPE. */
    public long mtrrDefType;
    /**
     * True between VMXON and VMXOFF (set by the VMX layer). In VMX root operation MOV to CR0/CR4
     * must keep the bits VMX fixes to 1 (PE, PG, NE, VMXE; SDM 24.8), which the system unit enforces.
     */
    public boolean vmxOperation;

    // ---- time and events ----
    /** Instructions retired since reset: the processor's notion of time (virtual TSC). */
    public long instructionsRetired;
    /** TSC = instructionsRetired * tscPerInstruction + tscBase (IA32_TIME_STAMP_COUNTER writes move tscBase). */
    public long tscBase;
    public int tscPerInstruction = 1;
    /** Blocking by STI / MOV SS for the next instruction (SDM 6.8.3; VMX interruptibility state bits 0..1). */
    public int interruptShadow;
    /** Activity state (SDM 25.4.2): 0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI. */
    public int activityState;
    public boolean nmiPending;
    public boolean nmiBlocked;

    // ---- vmx-gaps: debug exceptions pending at an instruction boundary ----
    /**
     * Debug traps pending at this instruction boundary, in DR6 format (B0-B3 data/I/O breakpoints,
     * BS single-step, BT task switch; SDM 18.2.3), or 0. The run loop delivers them as one #DB before
     * the next instruction; a VM exit that takes priority saves them in the pending-debug-exceptions
     * field and VM entry loads them from it (SDM Vol. 3C 28.3.4, 27.7.3).
     */
    public long pendingDebugExceptions;
    /** DR7 enables a breakpoint: the run loop and memory/I/O accesses check DR0-DR3 (recomputed by {@link #stateChanged}). */
    public boolean breakpointsArmed;
    /** B0-B3 of the data/I/O breakpoints the current instruction matched so far (lhv.cpu.sys.Breakpoints). */
    public long breakpointHits;
    /**
     * Address-range monitoring armed by MONITOR and consumed by MWAIT (SDM Vol. 2 MONITOR/MWAIT); the
     * qualification of an MWAIT VM exit reports it (SDM Vol. 3C 28.2.1). Stores to the monitored
     * range are not watched, so only MWAIT and reset disarm it.
     */
    public boolean monitorArmed;
    /**
     * When not 0: a REP string instruction stops (restartably) after this many iterations. VMX sets
     * it to 1 for the first guest instruction after a VM entry with the monitor trap flag, whose MTF
     * VM exit follows the first iteration (SDM Vol. 3C 26.5.2).
     */
    public int repIterationLimit;

    // ---- VMX coupling ----
    public Virtualization vmx = Virtualization.NONE;
    /** True in VMX non-root operation: sensitive actions consult {@link #vmx}. */
    public boolean nonRoot;
    /** True while the VMX layer wants {@link Virtualization#atBoundary} called between instructions. */
    public boolean boundaryWork;

    // ---- the world around the processor ----
    public final PhysicalMemory mem;
    public PortIo io = PortIo.NONE;
    public final CodeMap codeMap = new CodeMap();
    public final CpuModel model;
    /** The MSR providers in the order RDMSR/WRMSR consult them (a snapshot; changed only by {@link #addMsrProvider}). */
    private List<MsrProvider> msrProviders = List.of();
    /** Advanced by every change of {@link #msrProviders}. */
    private int msrProvidersVersion;

    // ---- units ----
    public final lhv.cpu.mmu.Mmu mmu;
    public final lhv.cpu.sys.SystemUnit sys;

    /** Set by {@link #requestStop}; the run loop checks it at instruction boundaries. */
    public StopReason stopRequest;

    // ---- cpu-core: interpreter state (lhv.cpu.exec) ----
    /**
     * Lazy status flags (lhv.cpu.exec.Flags): when {@code flagsOp != 0} the six status flags of
     * {@link #rflags} are stale and are derived on demand from the last flag-setting operation,
     * its operand size and its operands/result (all truncated to the operand size).
     */
    public int flagsOp, flagsSize;
    public long flagsRes, flagsA, flagsB;
    /** Address of the instruction being executed (RIP before it); during execution cpu.rip is already the next instruction. */
    public long instructionStart;
    /** Set when a run stopped with {@link StopReason#NOT_IMPLEMENTED}: "not implemented: WHAT at ADDRESS". */
    public String notImplementedMessage;
    /** The decoder, decoded-block cache and run loop of this processor. */
    public final lhv.cpu.exec.Interpreter interpreter;

    /**
     * Lets {@code provider} implement the MSRs it handles on this processor, consulted after the
     * providers added before it, or ahead of them when {@code first}.
     */
    public void addMsrProvider(MsrProvider provider, boolean first) {
        List<MsrProvider> l = new ArrayList<>(msrProviders);
        l.add(first ? 0 : l.size(), java.util.Objects.requireNonNull(provider));
        msrProviders = List.copyOf(l);
        msrProvidersVersion++;
    }

    /** The MSR providers in the order RDMSR/WRMSR consult them (unmodifiable). */
    public List<MsrProvider> msrProviders() {
        return msrProviders;
    }

    /**
     * Changes whenever the provider list changes: with {@link MsrProvider#handles} fixed for each
     * provider, which MSRs are provided is the same while this is.
     */
    public int msrProvidersVersion() {
        return msrProvidersVersion;
    }

    public Cpu(CpuModel model, PhysicalMemory mem) {
        this.model = model;
        this.mem = mem;
        this.mmu = new lhv.cpu.mmu.Mmu(this);
        this.sys = new lhv.cpu.sys.SystemUnit(this);
        this.interpreter = new lhv.cpu.exec.Interpreter(this);
        mem.attachCodeMap(codeMap); // host writes through mem then reach the code map (decoded code, watched pages)
        reset();
    }

    /** Power-on/RESET state, SDM Vol. 3A 10.1.1 (Table 10-1), real mode at F000:FFF0. */
    public void reset() {
        // vmx-gaps: RESET leaves VMX operation (VMX forgets its own state first)
        if (vmxOperation || nonRoot) vmx.reset(this);
        nonRoot = false;
        vmxOperation = false;
        boundaryWork = false;
        java.util.Arrays.fill(gpr, 0);
        gpr[RDX] = 0x000906EA; // family/model/stepping signature, as the model reports in CPUID.1:EAX
        rflags = Rflags.FIXED1;
        flagsOp = 0;
        rip = 0xFFF0;
        for (Segment s : seg) s.set(0, 0, 0xFFFF, 0x93);
        seg[Segment.CS].set(0xF000, 0xFFFF0000L, 0xFFFF, 0x9B);
        ldtr.set(0, 0, 0xFFFF, 0x82);
        tr.set(0, 0, 0xFFFF, 0x8B);
        setGdtr(0, 0xFFFF);
        setIdtr(0, 0xFFFF);
        setCr0(0x60000010L);
        cr2 = cr8 = 0;
        setCr3(0);
        setCr4(0);
        setEfer(0);
        java.util.Arrays.fill(dr, 0);
        dr[6] = 0xFFFF0FF0L;
        dr[7] = 0x400;
        cpl = 0;
        interruptShadow = 0;
        activityState = 0;
        pendingDebugExceptions = 0;
        breakpointHits = 0;
        monitorArmed = false;
        resetSystemState();
        stateChanged();
    }

    // ---- system: power-on values of the system unit's state (SDM 10.1.1, Table 10-1) ----
    private void resetSystemState() {
        star = lstar = cstar = fmask = kernelGsBase = 0;
        setSysenterCs(0);
        setSysenterEsp(0);
        setSysenterEip(0);
        setPat(0x0007040600070406L);
        setDebugCtl(0);
        tscAux = 0;
        apicBase = 0xFEE00900L;
        miscEnable = 1;
        mtrrDefType = 0;
        nmiPending = nmiBlocked = false;
        if (mmu != null) {
            java.util.Arrays.fill(mmu.pdpte, 0);
            mmu.flushAllContexts();
        }
    }

    // ---- the tracked state: each setter reports a change of its group ----

    /** Reports a change of state group {@code group} to the watchers (the setters below and {@link Segment}'s). */
    public void countChange(int group) {
        changeWatchers.mark(1L << group);
    }

    /**
     * Per watcher (the VM entry and exit procedures of lhv.vmx.transition): bit g set when state
     * group g changed since the watcher last cleared its mask. A new watcher starts with every bit set.
     */
    private final ChangeWatchers changeWatchers = new ChangeWatchers();

    /** Registers a watcher of state-group changes; returns its number for {@link #changedGroups}. */
    public int watchStateChanges() {
        return changeWatchers.add();
    }

    /** The groups that changed since watcher {@code k} last cleared its mask (bit g for group g). */
    public int changedGroups(int k) {
        return (int) changeWatchers.get(k) & ((1 << STATE_GROUPS) - 1);
    }

    public void clearChangedGroups(int k) {
        changeWatchers.clear(k);
    }

    public void setCr0(long value) {
        if (cr0 != value) { cr0 = value; countChange(STATE_CONTROL); }
    }

    public void setCr3(long value) {
        if (cr3 != value) { cr3 = value; countChange(STATE_CONTROL); }
    }

    public void setCr4(long value) {
        if (cr4 != value) { cr4 = value; countChange(STATE_CONTROL); }
    }

    public void setEfer(long value) {
        if (efer != value) { efer = value; countChange(STATE_CONTROL); }
    }

    public void setPat(long value) {
        if (pat != value) { pat = value; countChange(STATE_MSR); }
    }

    public void setDebugCtl(long value) {
        if (debugCtl != value) { debugCtl = value; countChange(STATE_MSR); }
    }

    public void setSysenterCs(long value) {
        if (sysenterCs != value) { sysenterCs = value; countChange(STATE_MSR); }
    }

    public void setSysenterEsp(long value) {
        if (sysenterEsp != value) { sysenterEsp = value; countChange(STATE_MSR); }
    }

    public void setSysenterEip(long value) {
        if (sysenterEip != value) { sysenterEip = value; countChange(STATE_MSR); }
    }

    public void setGdtr(long base, int limit) {
        if (gdtrBase != base || gdtrLimit != limit) { gdtrBase = base; gdtrLimit = limit; countChange(STATE_TABLES); }
    }

    public void setIdtr(long base, int limit) {
        if (idtrBase != base || idtrLimit != limit) { idtrBase = base; idtrLimit = limit; countChange(STATE_TABLES); }
    }

    /** RFLAGS with the lazily kept status flags materialized. */
    public long getRflags() {
        if (flagsOp != 0) lhv.cpu.exec.Flags.materialize(this);
        return rflags;
    }

    /** Replaces RFLAGS as a whole (discarding lazily kept status flags). */
    public void setRflags(long value) {
        flagsOp = 0;
        rflags = (value & Rflags.DEFINED) | Rflags.FIXED1;
    }

    /** Current time-stamp counter value (virtual: derived from retired instructions). */
    public long tsc() {
        return instructionsRetired * tscPerInstruction + tscBase;
    }

    /**
     * Runs guest instructions until {@code maxInstructions} have retired or something stops the
     * processor (see {@link lhv.cpu.exec.Interpreter#run}).
     */
    public StopReason run(long maxInstructions) {
        return interpreter.run(maxInstructions);
    }

    /** Asks the run loop to return with {@code reason} at the next instruction boundary. */
    public void requestStop(StopReason reason) {
        stopRequest = reason;
    }

    /** Recomputes derived state after CR0, CR4, EFER, CS or RFLAGS.VM changed behind the system unit's back. */
    public void stateChanged() {
        if ((cr0 & Cr.CR0_PE) == 0) mode = Mode.REAL;
        else if ((efer & Cr.EFER_LMA) != 0) mode = seg[Segment.CS].longMode() ? Mode.LONG64 : Mode.COMPATIBILITY;
        else if ((rflags & Rflags.VM) != 0) mode = Mode.VIRTUAL_8086;
        else mode = Mode.PROTECTED;
        // vmx-gaps: DR7 may have changed (MOV DR7, task switch, VM entry/exit)
        breakpointsArmed = lhv.cpu.sys.Breakpoints.armed(dr[7]);
    }
}
