package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.NotImplemented;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.decode.CodeFetch;
import lhv.cpu.decode.Decoder;
import lhv.cpu.decode.Insn;
import lhv.cpu.decode.Op;
import lhv.cpu.intercept.VmExitSignal;
import lhv.cpu.sys.Breakpoints;

import java.lang.foreign.ValueLayout;
import java.util.HashMap;

/**
 * The run loop of the processor: fetches decoded blocks from a cache keyed by physical address,
 * executes them instruction by instruction through one dispatch switch, and is the single place
 * where instruction faults, VM exits and not-implemented instructions end an instruction.
 *
 * <p>Context: guest execution, on the one Java thread that drives this processor ({@link Cpu#run}).
 *
 * <p>Decoded blocks: straight-line runs of up to {@link #MAX_BLOCK} instructions that start and end
 * in one physical 4 KiB page and end after any instruction that transfers control or changes how
 * later instructions decode or are delivered ({@code ENDS_BLOCK}), except a 64-bit Jcc: its
 * not-taken path continues in the block and a taken one leaves the block early. Pages holding blocks are
 * marked in the {@link lhv.cpu.bus.CodeMap}; a write to such a page drops its blocks and makes the
 * running block stop after the current instruction, so self-modifying code takes effect (SDM Vol. 3A
 * 11.6). An instruction that crosses a page boundary is decoded afresh each time it runs.
 *
 * <p>Faults: an instruction throws {@link CpuFault}; the loop rewinds RIP to the instruction and
 * hands the fault to the system unit for delivery (SDM Vol. 3A 6.5: faults report the faulting
 * instruction). Single-step traps (RFLAGS.TF, SDM Vol. 3A 18.3.1.4) and the interrupt shadow of STI,
 * MOV SS and POP SS (SDM 6.8.3) are handled on a slower one-instruction path.
 */
public final class Interpreter {
    static final int MAX_BLOCK = 64;
    private static final int DR6_BS = 1 << 14;
    private static final long M32 = 0xFFFFFFFFL;

    private final Cpu cpu;
    private final Decoder decoder = new Decoder();
    private final GuestFetch fetch = new GuestFetch();

    /** Decoded blocks per physical page number. */
    private final HashMap<Long, Block[]> pages = new HashMap<>();
    private long lastPpn = -1;
    private Block[] lastPage;

    /**
     * Block chaining: while no instruction that can change modes or translations has run (system
     * instructions, faults, VM exits, VMX boundary work), a RIP in the same linear page as the
     * last lookup maps to the same physical page, so the TLB lookup is skipped.
     *
     * <p>Between runs (a VM exit to a Java host and the next VM entry, or any host code) the chain
     * survives only while nothing it stands on changed since the lookup that made it: the control
     * registers and EFER, CS and SS (CPL and code size) as their state groups report them, the CPL
     * and mode, and the TLB's execute entry for the page, which must still map it to the chain's
     * physical page ({@code Mmu.fetchCached}: a flush, INVLPG or an eviction ends the chain, so it
     * never keeps a translation the TLB no longer holds); code writes end it at once ({@link #invalidatePage}).
     */
    private boolean chainValid;
    private int chainCs;
    private long chainLinearPage;
    private Block[] chainPage;
    private long chainPhysicalPage;
    private int chainCpl;
    private Mode chainMode;
    /** This interpreter's watcher of the processor's state groups (for the chain across runs). */
    private final int chainWatcher;
    /** Lookups that did not follow the chain (tests observe when the chain survives a run's end). */
    long fullLookups;

    /** Block lookups so far that did not follow the chain (diagnostics, tests). */
    public long fullLookups() {
        return fullLookups;
    }
    private static final int CHAIN_GROUPS = 1 << Cpu.STATE_CONTROL | 1 << (Cpu.STATE_SEGMENTS + Segment.CS)
            | 1 << (Cpu.STATE_SEGMENTS + Segment.SS);

    /** Set when a code page was written: the running block must not continue. */
    boolean codeWritten;
    /** A VM exit ended the current instruction without throwing ({@link #endInstructionForVmExit}). */
    boolean exitEnded;
    /** Set by an instruction that starts an interrupt shadow (STI, MOV SS, POP SS). */
    private boolean shadowFresh;
    /** Instructions the current run may still start (translated regions charge it per block). */
    long remaining;
    /**
     * Translation of hot blocks to JVM bytecode ({@link Translator}): on unless the system property
     * {@code lhv.translate} is {@code false}; a block is translated after it ran this many times
     * ({@code lhv.translate.threshold}; 0 translates every block before its first run).
     * The default, 1,000 runs, pays off: a new region's bytecode runs in the JVM's own interpreter
     * until the JIT compiles it, slower than this interpreter, so translating code that runs only a
     * few hundred times lengthens short runs (the demo of {@code hv run}: 0.1 s more CPU at 64).
     */
    private boolean translating = !"false".equals(System.getProperty("lhv.translate"));
    private int translateThreshold = Math.max(0, Integer.getInteger("lhv.translate.threshold", 1000));
    private int regionsTranslated, translationFailures;
    /**
     * Regions whose blocks are still cached. Each is a JIT-compiled method, so their number is
     * capped to keep the JVM's code cache for the interpreter itself; code beyond it is interpreted.
     */
    private int liveRegions;
    static final int MAX_LIVE_REGIONS = 4096;
    private static final boolean STRICT_TRANSLATION = Boolean.getBoolean("lhv.translate.strict");
    /** instructionsRetired at the last exception delivery: see {@link #loop}. */
    private long retiredAtLastDelivery = -1;
    private CpuFault pendingFault;
    /** The last exception an instruction raised (diagnostics and tests). */
    CpuFault lastFault;
    /**
     * Optional observer of instruction faults (debuggers, tests): called with RIP already rewound to
     * the faulting instruction. Returning true stops the run (REQUESTED) without delivering the fault.
     */
    public java.util.function.Predicate<CpuFault> faultObserver;
    private long randomState = 0x9E3779B97F4A7C15L;

    private static final boolean[] ENDS_BLOCK = new boolean[Op.COUNT];
    /** Ops after which block chaining must look the code page up again (all but near branches). */
    private static final boolean[] CHANGES_CONTEXT = new boolean[Op.COUNT];
    static {
        int[] ends = {Op.UD, Op.TOO_LONG, Op.NOT_IMPLEMENTED, Op.MOV_SREG_E, Op.POP_SREG, Op.LOAD_FAR,
            Op.POPF, Op.CLI, Op.STI, Op.STAC, Op.CLAC,
            Op.JCC, Op.JCC64, Op.JMP_REL, Op.JMP_REL64, Op.JMP_E, Op.CALL_REL, Op.CALL_E, Op.RET, Op.JMPF_PTR, Op.JMPF_M,
            Op.CALLF_PTR, Op.CALLF_M, Op.RETF, Op.LOOP, Op.LOOPE, Op.LOOPNE, Op.JCXZ, Op.INT, Op.INT3,
            Op.INTO, Op.INT1, Op.IRET, Op.IN_I, Op.IN_DX, Op.OUT_I, Op.OUT_DX, Op.INS, Op.OUTS,
            Op.HLT, Op.PAUSE, Op.UD2, Op.BOUND, Op.DIV, Op.IDIV, Op.AAM,
            Op.SGDT, Op.SIDT, Op.LGDT, Op.LIDT, Op.SMSW, Op.LMSW, Op.INVLPG, Op.SLDT, Op.STR, Op.LLDT,
            Op.LTR, Op.VERR, Op.VERW, Op.LAR, Op.LSL, Op.CLTS, Op.INVD, Op.WBINVD, Op.MOV_R_CR,
            Op.MOV_CR_R, Op.MOV_R_DR, Op.MOV_DR_R, Op.WRMSR, Op.RDMSR, Op.RDTSC, Op.RDTSCP, Op.RDPMC,
            Op.CPUID, Op.SYSCALL, Op.SYSRET, Op.SYSENTER, Op.SYSEXIT, Op.SWAPGS, Op.MONITOR, Op.MWAIT,
            Op.XGETBV, Op.XSETBV, Op.RDRAND, Op.RDSEED, Op.GETSEC, Op.RSM, Op.RDFSBASE, Op.WRFSBASE,
            Op.VMX};
        for (int op : ends) ENDS_BLOCK[op] = true;
        System.arraycopy(ENDS_BLOCK, 0, CHANGES_CONTEXT, 0, Op.COUNT);
        for (int op : new int[] {Op.JCC, Op.JCC64, Op.JMP_REL, Op.JMP_REL64, Op.JMP_E, Op.CALL_REL, Op.CALL_E, Op.RET, Op.LOOP,
            Op.LOOPE, Op.LOOPNE, Op.JCXZ}) {
            CHANGES_CONTEXT[op] = false;
        }
    }


    /**
     * Ops that, when their operands are registers only ({@link #plain}), read and write nothing but
     * general registers and the status flags: they neither read RIP, the instruction start or the
     * retired count, nor touch memory or devices, so runBlock runs them without first making that
     * bookkeeping exact.
     */
    private static final boolean[] REGISTER_ONLY = new boolean[Op.COUNT];
    static {
        for (int k = 0; k < 8; k++) {
            REGISTER_ONLY[Op.ALU_RR32 + k] = REGISTER_ONLY[Op.ALU_RR64 + k] = true;
            REGISTER_ONLY[Op.ALU_RI32 + k] = REGISTER_ONLY[Op.ALU_RI64 + k] = true;
        }
        for (int op : new int[] {Op.MOV_RR32_EG, Op.MOV_RR64_EG, Op.MOV_RR32_GE, Op.MOV_RR64_GE, Op.INC32, Op.INC64,
            Op.DEC32, Op.DEC64, Op.SHL_RI32, Op.SHL_RI64, Op.SHR_RI32, Op.SHR_RI64, Op.SAR_RI32, Op.SAR_RI64, Op.LEA64,
            Op.IMUL_GEI64, Op.IMUL_GE64, Op.MOV_RI32, Op.MOV_RI64, Op.ROL_RI64, Op.ROR_RI64, Op.BT_RI64,
            Op.ALU_EG, Op.ALU_GE, Op.ALU_EI, Op.TEST_EG, Op.TEST_EI, Op.INC, Op.DEC, Op.NOT, Op.NEG, Op.MUL, Op.IMUL1,
            Op.IMUL_GE, Op.IMUL_GEI, Op.SHIFT_I, Op.SHIFT_CL, Op.SHLD_I, Op.SHLD_CL, Op.SHRD_I, Op.SHRD_CL,
            Op.BT_EG, Op.BT_EI, Op.BSF, Op.BSR, Op.TZCNT, Op.LZCNT, Op.POPCNT, Op.MOV_EG, Op.MOV_GE, Op.MOV_EI,
            Op.MOVZX_B, Op.MOVZX_W, Op.MOVSX_B, Op.MOVSX_W, Op.MOVSXD, Op.LEA, Op.BSWAP, Op.CMOV, Op.SETCC,
            Op.CBW, Op.CWD, Op.CLC, Op.STC, Op.CMC, Op.CLD, Op.STD, Op.LAHF, Op.SAHF, Op.NOP}) {
            REGISTER_ONLY[op] = true;
        }
    }

    /** True when {@code i} touches only general registers and flags (see {@link #REGISTER_ONLY}). */
    static boolean plain(Insn i) {
        if (!REGISTER_ONLY[i.op]) return false;
        if (i.op == Op.LEA || i.op == Op.LEA64) return i.base != Insn.RIP_BASE;   // an address, no access
        return !i.mem;
    }

    /** A decoded straight-line run of instructions, valid for one code size. */
    static final class Block {
        final Insn[] insns;
        final int count;
        final int codeSize;
        /** Bytes covered, for the CS limit check on entry. */
        final int bytes;
        /** Offset of the end of instruction k from the block's first byte (RIP after it = entry + end[k]). */
        final int[] end;
        /** Instruction k is {@link #plain}: runBlock skips its bookkeeping stores. */
        final boolean[] plain;
        /** Times runBlock ran this block (the translator's trigger). */
        int hits;
        /** The translated region this block enters, or null; see {@link Translator}. */
        Region region;
        /** This block's entry number in {@link #region}. */
        int regionEntry;

        Block(Insn[] insns, int count, int codeSize, int bytes) {
            this.insns = insns;
            this.count = count;
            this.codeSize = codeSize;
            this.bytes = bytes;
            this.end = new int[count];
            this.plain = new boolean[count];
            int e = 0;
            for (int k = 0; k < count; k++) {
                e += insns[k].length;
                end[k] = e;
                plain[k] = plain(insns[k]);
            }
        }
    }

    public Interpreter(Cpu cpu) {
        this.cpu = cpu;
        cpu.codeMap.onInvalidate(this::invalidatePage);
        this.chainWatcher = cpu.watchStateChanges();
        // Instruction set extensions follow what the model reports (CPUID.7:EBX[3] BMI1, [8] BMI2,
        // [19] ADX, CPUID.80000001H:ECX[5] LZCNT, CPUID.1:ECX[23] POPCNT, CPUID.1:ECX[22] MOVBE).
        int[] l1 = cpu.model.cpuid(1, 0), l7 = cpu.model.cpuid(7, 0), l81 = cpu.model.cpuid(0x80000001, 0);
        decoder.setFeatures((l7[1] & (1 << 3)) != 0, (l7[1] & (1 << 8)) != 0, (l7[1] & (1 << 19)) != 0,
                (l81[2] & (1 << 5)) != 0, (l1[2] & (1 << 23)) != 0, (l1[2] & (1 << 22)) != 0);
    }

    private void invalidatePage(long ppn) {
        chainValid = false;
        Block[] dropped = pages.remove(ppn);
        if (dropped != null && liveRegions > 0) liveRegions -= regionsIn(dropped);
        if (ppn == lastPpn) {
            lastPpn = -1;
            lastPage = null;
        }
        codeWritten = true;
    }

    /** Regions rooted in a dropped page's blocks (a region's root is its entry 0 and always carries it). */
    private static int regionsIn(Block[] page) {
        int n = 0;
        for (Block b : page) if (b != null && b.region != null && b.regionEntry == 0) n++;
        return n;
    }

    /** Turns the translation of hot blocks to JVM bytecode on or off (both run the same guest state). */
    public void setTranslation(boolean on) {
        translating = on;
    }

    public boolean translation() {
        return translating;
    }

    /** Regions translated so far (diagnostics, tests). */
    public int regionsTranslated() {
        return regionsTranslated;
    }

    /** Translations that failed with a translator defect (their blocks stay interpreted); tests expect 0. */
    public int translationFailures() {
        return translationFailures;
    }

    /** Number of runs after which a block is translated (0: before its first run; tests use it to force translation). */
    public void setTranslationThreshold(int runs) {
        translateThreshold = Math.max(0, runs);
    }

    /** A REP/REPNE string instruction: it may yield by rewinding RIP to itself, so nothing may follow it in a block. */
    static boolean repString(Insn i) {
        return i.op >= Op.MOVS && i.op <= Op.OUTS && (i.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0;
    }

    static boolean endsBlock(int op) {
        return ENDS_BLOCK[op];
    }

    static boolean changesContext(int op) {
        return CHANGES_CONTEXT[op];
    }

    /**
     * Called by the VMX layer when a VM exit ended the executing instruction and returned instead of
     * throwing {@link VmExitSignal} ({@link lhv.cpu.intercept.Virtualization#interceptEnds}): the run
     * loop then does exactly what its catch of the signal does — the instruction does not retire,
     * the block ends, nothing is pending, and with a Java host {@link Cpu#run} returns
     * {@code VM_EXIT} (through a stop request; the caller made sure none was pending). Only code
     * dispatched by {@link #runBlock} or {@link #step} may let an exit return: both check for it
     * right after the instruction.
     */
    public void endInstructionForVmExit(boolean returnToHost) {
        exitEnded = true;
        codeWritten = true;   // makes runBlock leave the block after this instruction
        pendingFault = null;
        // to a Java host the run ends here and the next run decides whether the chain still holds;
        // host code run by this loop starts in other state
        if (returnToHost) cpu.stopRequest = StopReason.VM_EXIT;
        else chainValid = false;
    }

    /** Overrides the decoder's instruction-set extensions (tests of instructions the model does not report). */
    public void setExtensions(boolean bmi1, boolean bmi2, boolean adx, boolean lzcnt, boolean popcnt, boolean movbe) {
        decoder.setFeatures(bmi1, bmi2, adx, lzcnt, popcnt, movbe);
        flushDecodedBlocks();
    }

    /** Drops every decoded block (e.g. after the host rewrote memory without telling the CodeMap). */
    public void flushDecodedBlocks() {
        chainValid = false;
        pages.clear();
        liveRegions = 0;
        lastPpn = -1;
        lastPage = null;
        codeWritten = true;
    }

    // ---- the run loop ----

    /** See {@link Cpu#run}. */
    public StopReason run(long maxInstructions) {
        remaining = maxInstructions;
        chainValid = chainValid && chainHolds();     // the host may have changed anything between runs
        for (;;) {
            try {
                return loop();
            } catch (CpuFault f) {
                chainValid = false;
                cpu.breakpointHits = 0;     // a faulting instruction reports no data breakpoint
                cpu.rip = cpu.instructionStart;
                lastFault = f;
                if (faultObserver != null && faultObserver.test(f)) return StopReason.REQUESTED;
                pendingFault = f;
            } catch (VmExitSignal s) {
                chainValid = false;
                pendingFault = null;
                if (s.returnToHost) return StopReason.VM_EXIT;
            } catch (NotImplemented n) {
                pendingFault = null;
                cpu.rip = cpu.instructionStart;
                cpu.notImplementedMessage = "not implemented: " + n.what + " at " + addressText();
                return StopReason.NOT_IMPLEMENTED;
            } catch (RuntimeException | StackOverflowError e) {
                // An emulator defect, not a guest event: the caller reports it. RIP names the
                // instruction that was executing, and nothing half-done is left pending.
                chainValid = false;
                pendingFault = null;
                cpu.rip = cpu.instructionStart;
                throw e;
            }
        }
    }

    private String addressText() {
        if (cpu.mode == Mode.LONG64) return String.format("0x%x", cpu.rip);
        return String.format("%04x:%08x", cpu.seg[Segment.CS].selector, cpu.rip);
    }

    private StopReason loop() {
        final Cpu c = cpu;
        for (;;) {
            if (pendingFault != null) {
                CpuFault f = pendingFault;
                pendingFault = null;
                // A delivery that follows another with no instruction retired in between (a fetch
                // that faults at the handler, again and again) consumes budget, so a fault storm
                // ends at the instruction limit instead of running inside one call forever.
                if (c.instructionsRetired == retiredAtLastDelivery) remaining--;
                retiredAtLastDelivery = c.instructionsRetired;
                Flags.materialize(c);
                c.sys.deliverFault(f);
            }
            if (c.stopRequest != null) {
                StopReason r = c.stopRequest;
                c.stopRequest = null;
                return r;
            }
            if (c.boundaryWork) {
                chainValid = false;
                c.vmx.atBoundary(c);
            }
            // Debug traps of the previous instruction (SDM 6.9 priority 4); VMX boundary work has
            // already taken the ones an MTF exit saves.
            if (c.pendingDebugExceptions != 0 && (c.interruptShadow & 2) == 0) {
                chainValid = false;
                retiredAtLastDelivery = c.instructionsRetired;
                Flags.materialize(c);
                c.sys.deliverPendingDebugExceptions();
                continue;
            }
            if (c.activityState != 0) {
                if (c.activityState == 1) return StopReason.HALTED;
                return StopReason.SHUTDOWN;
            }
            if (remaining <= 0) return StopReason.INSTRUCTION_LIMIT;
            codeWritten = false;
            c.instructionStart = c.rip;
            Block b = lookup();
            // One instruction at a time while boundary rules apply (shadow, single-step, RF, VMX work).
            if (c.interruptShadow != 0 || (c.rflags & (Rflags.TF | Rflags.RF)) != 0 || c.boundaryWork || c.breakpointsArmed) step(b.insns[0]);
            else if (translating) runTranslated(b);
            else runBlock(b);
        }
    }

    /** Runs {@code b} through its translated region (translating it once it is hot), else interprets it. */
    private void runTranslated(Block b) {
        final Cpu c = cpu;
        int size = b.codeSize;
        long entry = size == 8 ? c.rip : (c.seg[Segment.CS].base + c.rip) & M32;
        Region r = b.region;
        if (r == null && b.hits >= translateThreshold && chainValid && chainCs == size && liveRegions < MAX_LIVE_REGIONS
                && chainPage[(int) (entry & 0xFFF)] == b) {
            // Just looked up, so chainPage is the current block array of the code page.
            Region made;
            try {
                Segment cs = c.seg[Segment.CS];
                Translator.Code where = new Translator.Code(entry >>> 12, size, size == 8 ? 0 : cs.base & M32,
                        size == 8 ? 0 : cs.limit & M32);
                made = Translator.translate(chainPage, where, b, (int) (entry & 0xFFF));
            } catch (RuntimeException | LinkageError e) {
                // A translator defect must not change what the guest sees: the block stays
                // interpreted (the test builds set lhv.translate.strict to see the defect).
                if (STRICT_TRANSLATION) throw e;
                translationFailures++;
                made = null;
            }
            if (made == null) {
                b.hits = Integer.MIN_VALUE;
            } else {
                regionsTranslated++;
                liveRegions++;
            }
            r = b.region;
        }
        // The region's RIPs are constants of the linear page (and CS base and limit) it was
        // translated for, and it needs budget for the whole entry block.
        if (r != null && r.fits(c, entry) && remaining >= b.count) {
            if (r.run(c, this, b.regionEntry) != 0) chainValid = false;
            return;
        }
        runBlock(b);
        if (r == null && b.hits >= 0) b.hits++;
    }

    private void runBlock(Block b) {
        final Cpu c = cpu;
        final Insn[] insns = b.insns;
        final int[] end = b.end;
        final boolean[] plain = b.plain;
        int n = b.count;
        if (remaining < n) n = (int) remaining;
        // Per-instruction bookkeeping (RIP, instruction start, retired count) is stored only before
        // instructions that can observe it; plain register instructions skip it, and the catch
        // below makes it exact if one of them faults. Offsets are added to the entry RIP as the
        // interpreter does (a block never wraps: 64-bit RIP, or a CS limit check on entry).
        final long entry = c.rip;
        final long retired = c.instructionsRetired;
        int k = 0;
        try {
            while (k < n) {
                Insn i = insns[k];
                k++;
                if (plain[k - 1]) {
                    execute(c, i);
                    continue;
                }
                long next = entry + end[k - 1];
                c.rip = next;
                // 64-bit Jcc runs here, outside the dispatch switch (a well-predicted compare instead
                // of another pass through the switch). Blocks continue past a 64-bit Jcc (see
                // build): a taken branch leaves the block here.
                if (i.op == Op.JCC64) {
                    Fast.jcc64(c, i);
                    if (c.rip != next) break;
                    continue;
                }
                c.instructionStart = next - i.length;
                c.instructionsRetired = retired + k - 1;
                execute(c, i);
                // A store into a code page (possibly this block) ends the block at once.
                if (codeWritten) {
                    if (exitEnded) {
                        // A VM exit ended the instruction: it did not retire, and the exit left RIP,
                        // the instruction start and the retired count as the thrown signal leaves
                        // them (the finally still charges the budget).
                        exitEnded = false;
                        return;
                    }
                    break;
                }
            }
            c.instructionsRetired = retired + k;
            if (plain[k - 1]) c.rip = entry + end[k - 1];
            c.instructionStart = entry + end[k - 1] - insns[k - 1].length;
        } catch (RuntimeException | Error e) {
            // A plain instruction or a 64-bit Jcc faulted before its bookkeeping was stored: make it
            // exact now (the others stored it, and a VM exit may already have replaced it).
            Insn i = insns[k - 1];
            if (plain[k - 1] || i.op == Op.JCC64) {
                c.rip = entry + end[k - 1];
                c.instructionStart = c.rip - i.length;
                c.instructionsRetired = retired + k - 1;
            }
            throw e;
        } finally {
            // The budget counts instructions started (instructionsRetired counts completed ones).
            remaining -= k;
        }
        if (b.codeSize == 2 && (c.rip >>> 16) != 0) wrapIp16(c, insns[k - 1]);
        if (CHANGES_CONTEXT[insns[k - 1].op]) chainValid = false;
    }

    /**
     * In 16-bit code the instruction pointer is IP: an instruction that ends past offset FFFFh is
     * followed by the one at offset 0 (IP wraps as on the 8086; its bytes must still lie within the
     * CS limit, which fetch checks: with the real-mode limit FFFFh an instruction straddling the end
     * is #GP(0)). Only sequential flow wraps; branches truncate their own targets (SDM Vol. 2 JMP).
     */
    private static void wrapIp16(Cpu c, Insn last) {
        long start = c.instructionStart;
        if (start <= 0xFFFF && c.rip == start + last.length) c.rip &= 0xFFFF;
    }

    /** One instruction with the boundary rules of TF (single-step trap), RF and the interrupt shadow. */
    private void step(Insn i) {
        final Cpu c = cpu;
        boolean tf = (c.rflags & Rflags.TF) != 0;
        shadowFresh = false;
        long start = c.rip;
        c.instructionStart = start;
        if (c.breakpointsArmed) {
            // SDM 18.3.1.1: an instruction breakpoint is a fault before the instruction, suppressed by RF
            if ((c.rflags & Rflags.RF) == 0) {
                long hits = Breakpoints.instructionMatches(c, codeSize() == 8 ? start : (c.seg[Segment.CS].base + start) & 0xFFFFFFFFL);
                if (hits != 0) throw CpuFault.db(hits);
            }
            c.breakpointHits = 0;
        }
        c.rip = start + i.length;
        remaining--;
        chainValid = false;
        execute(c, i);
        if (exitEnded) {   // a VM exit ended the instruction: nothing of its completion applies
            exitEnded = false;
            return;
        }
        c.instructionsRetired++;
        if (!shadowFresh) c.interruptShadow = 0;
        // SDM 18.3.1.1: RF is cleared after every instruction that completes, except IRET (which loads it).
        if (i.op != Op.IRET) c.rflags &= ~Rflags.RF;
        boolean softwareInterrupt = i.op == Op.INT || i.op == Op.INT3 || i.op == Op.INT1 || (i.op == Op.INTO && c.rip != start + i.length);
        // A MOV SS / POP SS defers the single-step trap past the next instruction (SDM 6.8.3): the
        // trap stays pending, held by the MOV SS blocking (the run loop does not deliver it then).
        if (tf && !softwareInterrupt && c.activityState != 2) {
            c.pendingDebugExceptions |= DR6_BS;   // trap: delivered with RIP after the instruction
        }
        // SDM 18.3.1.2: data and I/O breakpoints are traps after the instruction that matched them
        if (c.breakpointHits != 0) {
            c.pendingDebugExceptions |= c.breakpointHits;
            c.breakpointHits = 0;
        }
        if ((c.rip >>> 16) != 0 && codeSize() == 2) wrapIp16(c, i);
    }

    // ---- decoded-block cache ----

    private int codeSize() {
        // compares instead of an enum switch (its ordinal table costs a load on every full lookup,
        // e.g. the first one after each VM entry)
        Mode m = cpu.mode;
        if (m == Mode.LONG64) return 8;
        if (m == Mode.VIRTUAL_8086) return 2;
        return cpu.seg[Segment.CS].big() ? 4 : 2;
    }

    /** Nothing the chain stands on changed since the lookup that made it (see {@link #chainValid}). */
    private boolean chainHolds() {
        final Cpu c = cpu;
        return (c.changedGroups(chainWatcher) & CHAIN_GROUPS) == 0 && c.cpl == chainCpl && c.mode == chainMode
                && c.mmu.fetchCached(chainLinearPage << 12, chainPhysicalPage << 12);
    }

    private Block lookup() {
        final Cpu c = cpu;
        if (chainValid) {
            // Nothing that changes modes or translations ran since the last lookup: a target in the
            // same linear code page is in the same physical page (SDM 4.10.2: the TLB entry stands).
            int cs = chainCs;
            long linear = cs == 8 ? c.rip : (c.seg[Segment.CS].base + c.rip) & 0xFFFFFFFFL;
            if ((linear >>> 12) == chainLinearPage && chainPage != null) {
                Block b = chainPage[(int) (linear & 0xFFF)];
                if (b != null && (cs == 8 || withinLimit(c, b))) return b;
            }
        }
        fullLookups++;
        int cs = codeSize();
        long linear = linearRip(c, cs, c.rip);
        long pa = c.mmu.fetchPhysical(linear);
        long ppn = pa >>> 12;
        int off = (int) (pa & 0xFFF);
        Block[] page = ppn == lastPpn ? lastPage : pages.get(ppn);
        Block b = page == null ? null : page[off];
        if (b == null || b.codeSize != cs || (cs != 8 && !withinLimit(c, b))) {
            b = build(linear, pa, cs);
            page = ppn == lastPpn ? lastPage : null;
        }
        chainValid = page != null;
        chainCs = cs;
        chainLinearPage = linear >>> 12;
        chainPage = page;
        chainPhysicalPage = ppn;
        chainCpl = c.cpl;
        chainMode = c.mode;
        c.clearChangedGroups(chainWatcher);
        return b;
    }

    private static long linearRip(Cpu c, int cs, long rip) {
        if (cs == 8) {
            if (!Operands.canonical(rip)) throw CpuFault.gp0();
            return rip;
        }
        return (c.seg[Segment.CS].base + rip) & 0xFFFFFFFFL;
    }

    private static boolean withinLimit(Cpu c, Block b) {
        long rip = c.rip & 0xFFFFFFFFL;
        long last = rip + b.bytes - 1;
        if (last > (c.seg[Segment.CS].limit & 0xFFFFFFFFL)) return false;
        // 16-bit code: IP wraps after offset FFFFh, so a cached block (built at another CS:IP that
        // aliases the same bytes) must not run across it, unless it is the one instruction that does.
        return b.codeSize != 2 || last <= 0xFFFF || b.count == 1 || rip > 0xFFFF;
    }

    private Block build(long linear, long pa, int cs) {
        final Cpu c = cpu;
        long ppn = pa >>> 12;
        int off = (int) (pa & 0xFFF);
        Insn[] buf = new Insn[MAX_BLOCK];
        int n = 0, bytes = 0;
        boolean cacheable = true;
        while (n < MAX_BLOCK) {
            Insn i = new Insn();
            fetch.start(linear + bytes, pa + bytes, c.rip + bytes, cs);
            try {
                decoder.decode(i, fetch, cs);
            } catch (CpuFault f) {
                if (n == 0) throw f;
                break;
            }
            if (off + bytes + i.length > 4096) {
                if (n == 0) {           // crosses into the next page: run it once, uncached
                    buf[n++] = i;
                    bytes += i.length;
                    cacheable = false;
                }
                break;
            }
            // 16-bit code: an instruction that reaches offset FFFFh ends the block (the next one is
            // at offset 0, see wrapIp16); one that runs across it stays alone (see withinLimit).
            long ip = c.rip + bytes;
            if (cs == 2 && ip <= 0xFFFF && ip + i.length >= 0x10000) {
                if (n == 0 || ip + i.length == 0x10000) {
                    buf[n++] = i;
                    bytes += i.length;
                }
                break;
            }
            buf[n++] = i;
            bytes += i.length;
            // A 64-bit Jcc does not end the block: the not-taken path continues in it (fewer block
            // lookups), a taken one leaves it in runBlock. It changes nothing that decoding depends on.
            if ((ENDS_BLOCK[i.op] && i.op != Op.JCC64) || off + bytes >= 4096) break;
            // A long REP string instruction may yield by rewinding RIP to itself: nothing may follow it.
            if (repString(i)) break;
        }
        Block b = new Block(buf, n, cs, bytes);
        if (cacheable && fetch.ram) {
            Block[] page = pages.get(ppn);
            if (page == null) {
                page = new Block[4096];
                pages.put(ppn, page);
            }
            page[off] = b;
            lastPpn = ppn;
            lastPage = page;
            c.codeMap.markCode(ppn);
        }
        return b;
    }

    /** Instruction bytes for the decoder: the first page by physical address, later pages translated. */
    private final class GuestFetch implements CodeFetch {
        private long linear, pa, offset;
        private int cs;
        boolean ram;

        void start(long linear, long pa, long offset, int cs) {
            this.linear = linear;
            this.pa = pa;
            this.offset = offset;
            this.cs = cs;
            this.ram = cpu.mem.isRam(pa & ~0xFFFL, 4096);
        }

        @Override
        public int byteAt(int index) {
            if (cs != 8) {
                // SDM Vol. 3A 5.3: every fetched byte must lie within the CS limit.
                long o = (offset + index) & 0xFFFFFFFFL;
                if (o > (cpu.seg[Segment.CS].limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
            }
            long p;
            if (((pa & 0xFFF) + index) < 4096) {
                p = pa + index;
            } else {
                long la = cs == 8 ? linear + index : (linear + index) & 0xFFFFFFFFL;
                if (cs == 8 && !Operands.canonical(la)) throw CpuFault.gp0();
                p = cpu.mmu.fetchPhysical(la);
            }
            PhysicalMemory m = cpu.mem;
            if (m.isRam(p, 1)) return m.ram().get(ValueLayout.JAVA_BYTE, p) & 0xFF;
            return (int) m.read(p, 1) & 0xFF;
        }
    }

    // ---- dispatch ----

    static void execute(Cpu c, Insn i) {
        switch (i.op) {
            case Op.ALU_RR64 + 0: { long[] g = c.gpr; g[i.rm] = Fast.add64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 0: { long[] g = c.gpr; g[i.rm] = Fast.add32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 0: { long[] g = c.gpr; g[i.rm] = Fast.add64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 0: { long[] g = c.gpr; g[i.rm] = Fast.add32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.ALU_RR64 + 1: { long[] g = c.gpr; g[i.rm] = Fast.or64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 1: { long[] g = c.gpr; g[i.rm] = Fast.or32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 1: { long[] g = c.gpr; g[i.rm] = Fast.or64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 1: { long[] g = c.gpr; g[i.rm] = Fast.or32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.ALU_RR64 + 2: Fast.alu64(c, i, 2, c.gpr[i.reg]); break;
            case Op.ALU_RR32 + 2: Fast.alu32(c, i, 2, c.gpr[i.reg]); break;
            case Op.ALU_RI64 + 2: Fast.alu64(c, i, 2, i.imm); break;
            case Op.ALU_RI32 + 2: Fast.alu32(c, i, 2, i.imm); break;
            case Op.ALU_RR64 + 3: Fast.alu64(c, i, 3, c.gpr[i.reg]); break;
            case Op.ALU_RR32 + 3: Fast.alu32(c, i, 3, c.gpr[i.reg]); break;
            case Op.ALU_RI64 + 3: Fast.alu64(c, i, 3, i.imm); break;
            case Op.ALU_RI32 + 3: Fast.alu32(c, i, 3, i.imm); break;
            case Op.ALU_RR64 + 4: { long[] g = c.gpr; g[i.rm] = Fast.and64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 4: { long[] g = c.gpr; g[i.rm] = Fast.and32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 4: { long[] g = c.gpr; g[i.rm] = Fast.and64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 4: { long[] g = c.gpr; g[i.rm] = Fast.and32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.ALU_RR64 + 5: { long[] g = c.gpr; g[i.rm] = Fast.sub64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 5: { long[] g = c.gpr; g[i.rm] = Fast.sub32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 5: { long[] g = c.gpr; g[i.rm] = Fast.sub64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 5: { long[] g = c.gpr; g[i.rm] = Fast.sub32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.ALU_RR64 + 6: { long[] g = c.gpr; g[i.rm] = Fast.xor64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 6: { long[] g = c.gpr; g[i.rm] = Fast.xor32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 6: { long[] g = c.gpr; g[i.rm] = Fast.xor64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 6: { long[] g = c.gpr; g[i.rm] = Fast.xor32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.ALU_RR64 + 7: { long[] g = c.gpr; Fast.cmp64(c, g[i.rm], g[i.reg]); break; }
            case Op.ALU_RR32 + 7: { long[] g = c.gpr; Fast.cmp32(c, g[i.rm] & M32, g[i.reg] & M32); break; }
            case Op.ALU_RI64 + 7: { long[] g = c.gpr; Fast.cmp64(c, g[i.rm], i.imm); break; }
            case Op.ALU_RI32 + 7: { long[] g = c.gpr; Fast.cmp32(c, g[i.rm] & M32, i.imm & M32); break; }
            case Op.MOV_RR64_EG: c.gpr[i.rm] = c.gpr[i.reg]; break;
            case Op.MOV_RR32_EG: c.gpr[i.rm] = c.gpr[i.reg] & 0xFFFFFFFFL; break;
            case Op.MOV_RR64_GE: c.gpr[i.reg] = c.gpr[i.rm]; break;
            case Op.MOV_RR32_GE: c.gpr[i.reg] = c.gpr[i.rm] & 0xFFFFFFFFL; break;
            case Op.INC64: { long[] g = c.gpr; g[i.rm] = Fast.inc64(c, g[i.rm]); break; }
            case Op.INC32: { long[] g = c.gpr; g[i.rm] = Fast.inc32(c, g[i.rm] & M32); break; }
            case Op.DEC64: { long[] g = c.gpr; g[i.rm] = Fast.dec64(c, g[i.rm]); break; }
            case Op.DEC32: { long[] g = c.gpr; g[i.rm] = Fast.dec32(c, g[i.rm] & M32); break; }
            case Op.SHL_RI64: { long[] g = c.gpr; g[i.rm] = Fast.shl64(c, g[i.rm], (int) i.imm & 63); break; }
            case Op.SHR_RI64: { long[] g = c.gpr; g[i.rm] = Fast.shr64(c, g[i.rm], (int) i.imm & 63); break; }
            case Op.SAR_RI64: { long[] g = c.gpr; g[i.rm] = Fast.sar64(c, g[i.rm], (int) i.imm & 63); break; }
            case Op.SHL_RI32: { long[] g = c.gpr; g[i.rm] = Fast.shl32(c, g[i.rm] & M32, (int) i.imm & 31); break; }
            case Op.SHR_RI32: { long[] g = c.gpr; g[i.rm] = Fast.shr32(c, g[i.rm] & M32, (int) i.imm & 31); break; }
            case Op.SAR_RI32: { long[] g = c.gpr; g[i.rm] = Fast.sar32(c, g[i.rm] & M32, (int) i.imm & 31); break; }
            case Op.LEA64: Fast.lea64(c, i); break;
            case Op.JCC64: Fast.jcc64(c, i); break;
            case Op.MOV_RI64: c.gpr[i.rm] = i.imm; break;
            case Op.MOV_RI32: c.gpr[i.rm] = i.imm & 0xFFFFFFFFL; break;
            case Op.IMUL_GEI64: Fast.imul64(c, i, true); break;
            case Op.IMUL_GE64: Fast.imul64(c, i, false); break;
            case Op.JMP_REL64: Fast.jmp64(c, i); break;
            case Op.ROL_RI64: { long[] g = c.gpr; g[i.rm] = Fast.rol64(c, g[i.rm], (int) i.imm & 63); break; }
            case Op.ROR_RI64: { long[] g = c.gpr; g[i.rm] = Fast.ror64(c, g[i.rm], (int) i.imm & 63); break; }
            case Op.BT_RI64: Fast.bt64(c, i); break;
            case Op.LOAD64: Fast.load64(c, i); break;
            case Op.LOAD32: Fast.load32(c, i); break;
            case Op.STORE64: Fast.store64(c, i); break;
            case Op.STORE32: Fast.store32(c, i); break;

            case Op.ALU_EG: Alu.aluEG(c, i); break;
            case Op.ALU_GE: Alu.aluGE(c, i); break;
            case Op.ALU_EI: Alu.aluEI(c, i); break;
            case Op.TEST_EG: Alu.testEG(c, i); break;
            case Op.TEST_EI: Alu.testEI(c, i); break;
            case Op.INC: Alu.incDec(c, i, true); break;
            case Op.DEC: Alu.incDec(c, i, false); break;
            case Op.NOT: Alu.not(c, i); break;
            case Op.NEG: Alu.neg(c, i); break;
            case Op.MUL: MulDiv.mul(c, i); break;
            case Op.IMUL1: MulDiv.imul1(c, i); break;
            case Op.DIV: MulDiv.div(c, i); break;
            case Op.IDIV: MulDiv.idiv(c, i); break;
            case Op.IMUL_GE: MulDiv.imul(c, i, Operands.readG(c, i), Operands.readE(c, i)); break;
            case Op.IMUL_GEI: MulDiv.imul(c, i, Operands.readE(c, i), i.imm); break;
            case Op.SHIFT_I: Shift.shift(c, i, (int) i.imm); break;
            case Op.SHIFT_CL: Shift.shift(c, i, (int) c.gpr[Cpu.RCX] & 0xFF); break;
            case Op.SHLD_I: Shift.doubleShift(c, i, (int) i.imm, true); break;
            case Op.SHLD_CL: Shift.doubleShift(c, i, (int) c.gpr[Cpu.RCX] & 0xFF, true); break;
            case Op.SHRD_I: Shift.doubleShift(c, i, (int) i.imm, false); break;
            case Op.SHRD_CL: Shift.doubleShift(c, i, (int) c.gpr[Cpu.RCX] & 0xFF, false); break;
            case Op.BT_EG: Bits.btG(c, i); break;
            case Op.BT_EI: Bits.btI(c, i); break;
            case Op.BSF: Bits.bsfBsr(c, i, true); break;
            case Op.BSR: Bits.bsfBsr(c, i, false); break;
            case Op.TZCNT: Bits.tzLzCnt(c, i, true); break;
            case Op.LZCNT: Bits.tzLzCnt(c, i, false); break;
            case Op.POPCNT: Bits.popcnt(c, i); break;
            case Op.XADD: Data.xadd(c, i); break;
            case Op.CMPXCHG: Data.cmpxchg(c, i); break;
            case Op.CMPXCHG8B: Data.cmpxchg8b(c, i); break;
            case Op.DAA: Alu.daa(c); break;
            case Op.DAS: Alu.das(c); break;
            case Op.AAA: Alu.aaaAas(c, true); break;
            case Op.AAS: Alu.aaaAas(c, false); break;
            case Op.AAM: Alu.aam(c, i); break;
            case Op.AAD: Alu.aad(c, i); break;

            case Op.MOV_EG: Operands.writeE(c, i, Operands.readG(c, i)); break;
            case Op.MOV_GE: Operands.writeG(c, i, Operands.readE(c, i)); break;
            case Op.MOV_EI: Operands.writeE(c, i, i.imm); break;
            case Op.MOV_E_SREG: Data.movSregToE(c, i); break;
            case Op.MOV_SREG_E: Data.movEToSreg(c, i); break;
            case Op.MOVZX_B: Data.movzx(c, i, 1); break;
            case Op.MOVZX_W: Data.movzx(c, i, 2); break;
            case Op.MOVSX_B: Data.movsx(c, i, 1); break;
            case Op.MOVSX_W: Data.movsx(c, i, 2); break;
            case Op.MOVSXD: Data.movsxd(c, i); break;
            case Op.MOVBE_GM: Data.movbe(c, i, true); break;
            case Op.MOVBE_MG: Data.movbe(c, i, false); break;
            case Op.LEA: Data.lea(c, i); break;
            case Op.XCHG: Data.xchg(c, i); break;
            case Op.BSWAP: Data.bswap(c, i); break;
            case Op.CMOV: Data.cmov(c, i); break;
            case Op.SETCC: Data.setcc(c, i); break;
            case Op.PUSH_E: Data.pushE(c, i); break;
            case Op.PUSH_I: Operands.push(c, i.imm, i.opSize); break;
            case Op.PUSH_SREG: Data.pushSreg(c, i); break;
            case Op.POP_E: Data.popE(c, i); break;
            case Op.POP_SREG: Data.popSreg(c, i); break;
            case Op.PUSHA: Data.pusha(c, i); break;
            case Op.POPA: Data.popa(c, i); break;
            case Op.PUSHF: Data.pushf(c, i); break;
            case Op.POPF: Data.popf(c, i); break;
            case Op.ENTER: Data.enter(c, i); break;
            case Op.LEAVE: Data.leave(c, i); break;
            case Op.XLAT: Data.xlat(c, i); break;
            case Op.CBW: Data.cbw(c, i); break;
            case Op.CWD: Data.cwd(c, i); break;
            case Op.LOAD_FAR: Data.loadFar(c, i); break;
            case Op.BOUND: Data.bound(c, i); break;
            case Op.ARPL: Data.arpl(c, i); break;
            case Op.CLC: Data.carry(c, 0); break;
            case Op.STC: Data.carry(c, 1); break;
            case Op.CMC: Data.carry(c, 2); break;
            case Op.CLD: Data.direction(c, false); break;
            case Op.STD: Data.direction(c, true); break;
            case Op.CLI: Data.interruptFlag(c, false); break;
            case Op.STI: Data.interruptFlag(c, true); break;
            case Op.LAHF: Data.lahf(c); break;
            case Op.SAHF: Data.sahf(c); break;
            case Op.CLAC: Data.acFlag(c, false); break;
            case Op.STAC: Data.acFlag(c, true); break;

            case Op.JCC: Control.jcc(c, i); break;
            case Op.JMP_REL: Control.jmpRel(c, i); break;
            case Op.JMP_E: Control.jmpE(c, i); break;
            case Op.CALL_REL: Control.callRel(c, i); break;
            case Op.CALL_E: Control.callE(c, i); break;
            case Op.RET: Control.ret(c, i); break;
            case Op.JMPF_PTR: Control.farPtr(c, i, false); break;
            case Op.CALLF_PTR: Control.farPtr(c, i, true); break;
            case Op.JMPF_M: Control.farMem(c, i, false); break;
            case Op.CALLF_M: Control.farMem(c, i, true); break;
            case Op.RETF: Control.retf(c, i); break;
            case Op.LOOP: Control.loop(c, i, 0); break;
            case Op.LOOPE: Control.loop(c, i, 1); break;
            case Op.LOOPNE: Control.loop(c, i, 2); break;
            case Op.JCXZ: Control.jcxz(c, i); break;
            case Op.INT: Control.intN(c, i); break;
            case Op.INT3: Control.int3(c); break;
            case Op.INTO: Control.into(c); break;
            case Op.INT1: Control.int1(c); break;
            case Op.IRET: Control.iret(c, i); break;

            case Op.MOVS: Strings.string(c, i, Strings.MOVS); break;
            case Op.CMPS: Strings.string(c, i, Strings.CMPS); break;
            case Op.STOS: Strings.string(c, i, Strings.STOS); break;
            case Op.LODS: Strings.string(c, i, Strings.LODS); break;
            case Op.SCAS: Strings.string(c, i, Strings.SCAS); break;
            case Op.INS: Strings.string(c, i, Strings.INS); break;
            case Op.OUTS: Strings.string(c, i, Strings.OUTS); break;
            case Op.IN_I: Strings.in(c, i, (int) i.imm); break;
            case Op.IN_DX: Strings.in(c, i, (int) c.gpr[Cpu.RDX] & 0xFFFF); break;
            case Op.OUT_I: Strings.out(c, i, (int) i.imm); break;
            case Op.OUT_DX: Strings.out(c, i, (int) c.gpr[Cpu.RDX] & 0xFFFF); break;

            case Op.NOP: case Op.FENCE: break;
            case Op.PAUSE: SystemOps.pause(c, i); break;
            case Op.HLT: SystemOps.hlt(c, i); break;
            case Op.CLFLUSH: SystemOps.clflush(c, i); break;

            case Op.SGDT: SystemOps.storeTable(c, i, 0); break;
            case Op.SIDT: SystemOps.storeTable(c, i, 1); break;
            case Op.LGDT: SystemOps.loadTable(c, i, 2); break;
            case Op.LIDT: SystemOps.loadTable(c, i, 3); break;
            case Op.SLDT: SystemOps.storeSelector(c, i, 0); break;
            case Op.STR: SystemOps.storeSelector(c, i, 1); break;
            case Op.LLDT: SystemOps.loadSelector(c, i, 2); break;
            case Op.LTR: SystemOps.loadSelector(c, i, 3); break;
            case Op.VERR: SystemOps.verify(c, i, false); break;
            case Op.VERW: SystemOps.verify(c, i, true); break;
            case Op.LAR: SystemOps.larLsl(c, i, true); break;
            case Op.LSL: SystemOps.larLsl(c, i, false); break;
            case Op.SMSW: SystemOps.smsw(c, i); break;
            case Op.LMSW: SystemOps.lmsw(c, i); break;
            case Op.CLTS: SystemOps.clts(c, i); break;
            case Op.INVLPG: SystemOps.invlpg(c, i); break;
            case Op.INVD: SystemOps.cacheInvalidate(c, i, false); break;
            case Op.WBINVD: SystemOps.cacheInvalidate(c, i, true); break;
            case Op.MOV_R_CR: SystemOps.movCr(c, i, false); break;
            case Op.MOV_CR_R: SystemOps.movCr(c, i, true); break;
            case Op.MOV_R_DR: SystemOps.movDr(c, i, false); break;
            case Op.MOV_DR_R: SystemOps.movDr(c, i, true); break;
            case Op.RDMSR: SystemOps.rdmsr(c, i); break;
            case Op.WRMSR: SystemOps.wrmsr(c, i); break;
            case Op.RDTSC: SystemOps.rdtsc(c, i, false); break;
            case Op.RDTSCP: SystemOps.rdtsc(c, i, true); break;
            case Op.RDPMC: SystemOps.rdpmc(c, i); break;
            case Op.CPUID: SystemOps.cpuid(c, i); break;
            case Op.SYSCALL: SystemOps.syscall(c); break;
            case Op.SYSRET: SystemOps.sysret(c, i); break;
            case Op.SYSENTER: SystemOps.sysenter(c); break;
            case Op.SYSEXIT: SystemOps.sysexit(c, i); break;
            case Op.SWAPGS: SystemOps.swapgs(c); break;
            case Op.MONITOR: SystemOps.monitor(c, i); break;
            case Op.MWAIT: SystemOps.mwait(c, i); break;
            case Op.XGETBV: SystemOps.xgetbv(c, i); break;
            case Op.XSETBV: SystemOps.xsetbv(c, i); break;
            case Op.RDRAND: SystemOps.random(c, i, false); break;
            case Op.RDSEED: SystemOps.random(c, i, true); break;
            case Op.GETSEC: SystemOps.getsec(c, i); break;
            case Op.RDFSBASE: case Op.WRFSBASE: SystemOps.fsgsbase(c, i); break;
            case Op.VMX: SystemOps.vmx(c, i); break;

            case Op.ANDN: BitManip.andn(c, i); break;
            case Op.BEXTR: BitManip.bextr(c, i); break;
            case Op.BLSI: BitManip.blsi(c, i); break;
            case Op.BLSMSK: BitManip.blsmsk(c, i); break;
            case Op.BLSR: BitManip.blsr(c, i); break;
            case Op.BZHI: BitManip.bzhi(c, i); break;
            case Op.MULX: BitManip.mulx(c, i); break;
            case Op.PDEP: BitManip.pdep(c, i); break;
            case Op.PEXT: BitManip.pext(c, i); break;
            case Op.RORX: BitManip.rorx(c, i); break;
            case Op.SARX: BitManip.shiftX(c, i, Op.SARX); break;
            case Op.SHLX: BitManip.shiftX(c, i, Op.SHLX); break;
            case Op.SHRX: BitManip.shiftX(c, i, Op.SHRX); break;
            case Op.ADCX: BitManip.adcx(c, i); break;
            case Op.ADOX: BitManip.adox(c, i); break;

            case Op.UD: case Op.UD2: case Op.RSM: throw CpuFault.ud();
            case Op.TOO_LONG: throw CpuFault.gp0();
            case Op.NOT_IMPLEMENTED:
                if (i.sub == Decoder.NI_AVX) BitManip.requireVexMode(c);   // VEX in real/virtual-8086 mode: #UD
                throw new NotImplemented(describeNotImplemented(i));
            default: throw new IllegalStateException("no execution for decoded op " + Op.name(i.op));
        }
    }

    private static String describeNotImplemented(Insn i) {
        String kind;
        switch (i.sub) {
            case Decoder.NI_X87: kind = "x87"; break;
            case Decoder.NI_SSE: kind = "SSE/MMX"; break;
            case Decoder.NI_AVX: kind = "AVX"; break;
            default: kind = "instruction";
        }
        String opc;
        if (i.opcode > 0xFFFF) opc = String.format("%02X %02X %02X", i.opcode >>> 16, (i.opcode >>> 8) & 0xFF, i.opcode & 0xFF);
        else if (i.opcode > 0xFF) opc = String.format("%02X %02X", i.opcode >>> 8, i.opcode & 0xFF);
        else opc = String.format("%02X", i.opcode);
        return kind + " (opcode " + opc + ")";
    }

    // ---- services for the instruction families and the VMX layer ----

    /** Status flags into cpu.rflags before handing control to code that reads or writes RFLAGS directly. */
    static void materializeForSystem(Cpu c) {
        if (c.flagsOp != Flags.NONE) Flags.materialize(c);
    }

    /** Starts an interrupt shadow (1 = blocking by STI, 2 = blocking by MOV SS) for the next instruction. */
    static void blockEvents(Cpu c, int bits) {
        c.interruptShadow |= bits;
        c.interpreter.shadowFresh = true;
    }

    /** Deterministic RDRAND/RDSEED source (xorshift64*), reseeded by {@link #seedRandom}. */
    long nextRandom() {
        long x = randomState;
        x ^= x >>> 12;
        x ^= x << 25;
        x ^= x >>> 27;
        randomState = x;
        return x * 0x2545F4914F6CDD1DL;
    }

    public void seedRandom(long seed) {
        randomState = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    /** Segment-relative effective address of {@code insn}'s memory operand (RIP-relative uses cpu.rip = next instruction). */
    public long effectiveAddress(Insn insn) {
        return Operands.ea(cpu, insn);
    }

    /** Reads general register {@code reg} (0..15) with {@code size} bytes (1 means the low byte). */
    public long readRegister(int reg, int size) {
        return Operands.getReg(cpu, reg, size, false);
    }

    /** Writes general register {@code reg} with SDM merge/zero-extension rules for {@code size}. */
    public void writeRegister(int reg, int size, long value) {
        Operands.setReg(cpu, reg, size, false, value);
    }

    /** Decodes the instruction at the current CS:RIP without executing it (diagnostics, tests). */
    public Insn decodeAt(long rip) {
        int cs = codeSize();
        long linear = linearRip(cpu, cs, rip);
        long pa = cpu.mmu.fetchPhysical(linear);
        Insn i = new Insn();
        fetch.start(linear, pa, rip, cs);
        decoder.decode(i, fetch, cs);
        return i;
    }
}
