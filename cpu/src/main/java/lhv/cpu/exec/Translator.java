package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.decode.Insn;
import lhv.cpu.decode.Op;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.constant.ConstantDescs.CD_boolean;
import static java.lang.constant.ConstantDescs.CD_int;
import static java.lang.constant.ConstantDescs.CD_long;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * Translates the hot decoded blocks (64-, 32- and 16-bit code) of one code page into JVM bytecode: one
 * hidden class ({@link Region}) per region, built with {@code java.lang.classfile}.
 *
 * <p>Context: guest execution; called by the {@link Interpreter}'s run loop when a block became hot.
 *
 * <p>32-bit code (protected mode with or without paging, compatibility mode): a region is
 * specialised for the CS base and limit it was translated with ({@link Code}; the run loop enters
 * it only while CS has them), so its EIP values are constants (linear address minus CS base,
 * modulo 2^32), a member block lies within the limit (the check lookup makes on entry), and a
 * relative branch's target, truncated to its operand size, is known at translation to be within
 * the limit (a JVM jump or RIP store) or not (left to execute, which raises #GP(0) at the branch,
 * SDM Vol. 2 Jcc/JMP). Jcc ends a block outside 64-bit code; a region continues through it as
 * through a 64-bit Jcc at a block's end: both paths are branches that check the run loop's
 * boundary conditions, so the instruction boundaries the run loop would see are the same.
 * Memory operands go through the same Mmu calls as the interpreter (segment checks, TLB).
 * 16-bit code (real, virtual-8086 and 16-bit protected mode) is translated the same way, except
 * that a member block must end before offset 10000h, where IP wraps ({@code Interpreter.wrapIp16}):
 * a block that reaches or crosses the wrap stays interpreted, so no region ever needs the wrap.
 *
 * <p>Shape of a region's {@code run} method: a switch on the entry block, then each block's
 * instructions in order. A branch (Jcc, JMP rel, the fall-through at a block's end) to a
 * block of the region is a JVM jump once the run loop's boundary conditions are checked (stop
 * request, VMX boundary work, written code page, budget for the whole next block); any other branch
 * stores RIP and returns. The hottest instructions are emitted as calls of the interpreter's tiny
 * helpers ({@link Fast}, {@link Flags}, {@code Mmu} reads and writes) with registers and immediates
 * as constants, so the JIT inlines and folds them; every other instruction calls the interpreter's
 * {@code execute} for its {@link Insn}. Bookkeeping follows runBlock exactly: plain register
 * instructions (see {@link Interpreter#plain}) store nothing; before any other instruction RIP,
 * the instruction start and the retired count are made exact; the budget is taken per block; an
 * exception table entry per instruction makes the state exact on a throw, as runBlock's catch does.
 */
final class Translator {
    private Translator() { }

    /** Instructions per region: keeps the method under HotSpot's 8,000-byte limit for compiling it. */
    static final int MAX_INSNS = 192;
    /** HotSpot does not JIT-compile larger methods (-XX:HugeMethodLimit, DontCompileHugeMethods). */
    private static final int MAX_CODE_BYTES = 7900;
    private static final long M32 = 0xFFFFFFFFL;

    private static final ClassDesc CD_CPU = ClassDesc.of("lhv.cpu.Cpu");
    private static final ClassDesc CD_INTERPRETER = ClassDesc.of("lhv.cpu.exec.Interpreter");
    private static final ClassDesc CD_SYSTEM_OPS = ClassDesc.of("lhv.cpu.exec.SystemOps");
    private static final ClassDesc CD_REGION = ClassDesc.of("lhv.cpu.exec.Region");
    private static final ClassDesc CD_INSN = ClassDesc.of("lhv.cpu.decode.Insn");
    private static final ClassDesc CD_FAST = ClassDesc.of("lhv.cpu.exec.Fast");
    private static final ClassDesc CD_FLAGS = ClassDesc.of("lhv.cpu.exec.Flags");
    private static final ClassDesc CD_MMU = ClassDesc.of("lhv.cpu.mmu.Mmu");
    private static final ClassDesc CD_FIX = ClassDesc.of("lhv.cpu.exec.Translator$Fix");
    private static final ClassDesc CD_TRANSLATOR = ClassDesc.of("lhv.cpu.exec.Translator");
    private static final ClassDesc CD_STOP = ClassDesc.of("lhv.cpu.StopReason");
    private static final ClassDesc CD_LONGS = CD_long.arrayType();
    private static final ClassDesc CD_THIS = ClassDesc.of("lhv.cpu.exec.TranslatedRegion");

    private static final MethodTypeDesc RUN = MethodTypeDesc.of(CD_int, CD_CPU, CD_INTERPRETER, CD_int);
    private static final MethodTypeDesc BINARY = MethodTypeDesc.of(CD_long, CD_CPU, CD_long, CD_long);
    private static final MethodTypeDesc COMPARE = MethodTypeDesc.of(CD_void, CD_CPU, CD_long, CD_long);
    private static final MethodTypeDesc UNARY = MethodTypeDesc.of(CD_long, CD_CPU, CD_long);
    private static final MethodTypeDesc SHIFT = MethodTypeDesc.of(CD_long, CD_CPU, CD_long, CD_int);
    private static final MethodTypeDesc COND = MethodTypeDesc.of(CD_boolean, CD_CPU, CD_int);
    private static final MethodTypeDesc RECORD = MethodTypeDesc.of(CD_void, CD_CPU, CD_int, CD_int, CD_long, CD_long, CD_long);
    private static final MethodTypeDesc ROTATE = MethodTypeDesc.of(CD_long, CD_long, CD_int);
    private static final MethodTypeDesc ROTATE32 = MethodTypeDesc.of(CD_int, CD_int, CD_int);
    private static final MethodTypeDesc EXECUTE = MethodTypeDesc.of(CD_void, CD_CPU, CD_INSN);
    private static final MethodTypeDesc BAD_ENTRY = MethodTypeDesc.of(ClassDesc.of("java.lang.IllegalStateException"), CD_int);
    private static final MethodTypeDesc AFTER_THROW = MethodTypeDesc.of(CD_void, CD_CPU, CD_INTERPRETER, CD_FIX, CD_int);

    // local variable slots of run(Cpu c, Interpreter it, int entry)
    private static final int C = 1, IT = 2, ENTRY = 3, G = 4, T_INDEX = 5, T_THROWN = 6;

    private static final ClassFile CLASS_FILE = ClassFile.of(ClassFile.ClassHierarchyResolverOption.of(
            ClassHierarchyResolver.defaultResolver().orElse(ClassHierarchyResolver.ofClassLoading(Translator.class.getClassLoader()))));

    /**
     * What runBlock would have left when instruction j of the region throws: RIP after it, its
     * length, the retired instructions not yet counted (-1: the state was stored before it), and
     * how many instructions of its block have started (the budget is charged when the block is left).
     */
    static final class Fix {
        final long[] next;
        final int[] length;
        final int[] pending;
        final int[] started;

        Fix(int n) {
            next = new long[n];
            length = new int[n];
            pending = new int[n];
            started = new int[n];
        }
    }

    private static final MethodTypeDesc TAKE_EXIT_ENDED = MethodTypeDesc.of(CD_boolean, CD_INTERPRETER);

    /** True (and cleared) when a VM exit ended the instruction just executed without throwing. */
    static boolean takeExitEnded(Interpreter it) {
        if (!it.exitEnded) return false;
        it.exitEnded = false;
        return true;
    }

    /** Called by a region's exception handler for instruction j before the throwable propagates. */
    static void afterThrow(Cpu c, Interpreter it, Fix f, int j) {
        it.remaining -= f.started[j];
        if (f.pending[j] >= 0) {
            c.rip = f.next[j];
            c.instructionStart = f.next[j] - f.length[j];
            c.instructionsRetired += f.pending[j];
        }
    }

    /** The run loop passed an entry number the region does not have: an emulator defect. */
    static IllegalStateException badEntry(int entry) {
        return new IllegalStateException("translated region has no entry " + entry);
    }

    /** A block chosen for a region: its page offset and its entry number. */
    private record Member(Interpreter.Block block, int offset, int entry) { }

    /**
     * What a region is specialised for: its linear code page and code size, and outside 64-bit
     * mode the CS base and limit its instruction pointers and limit checks were computed with
     * (the run loop enters it only while CS still has them, see {@link Region#fits}).
     */
    record Code(long linearPage, int codeSize, long csBase, long csLimit) {
        /** The instruction pointer of page offset {@code off}: the linear address, or its offset in CS (modulo 2^32). */
        long ripOf(int off) {
            long lin = (linearPage << 12) + off;
            return codeSize == 8 ? lin : (lin - csBase) & M32;
        }

        /** The linear address of instruction pointer {@code rip}. */
        long linearOf(long rip) {
            return codeSize == 8 ? rip : (csBase + rip) & M32;
        }

        /**
         * True when the block at offset {@code off} lies within the CS limit (the interpreter's
         * withinLimit on entry). In 16-bit code it must also end before offset 10000h: IP wraps
         * there (Interpreter.wrapIp16), so no region member runs up to or across the wrap, and
         * sequential flow inside a region never needs it.
         */
        boolean withinLimit(int off, Interpreter.Block b) {
            if (codeSize == 8) return true;
            long end = ripOf(off) + b.bytes;
            return end - 1 <= csLimit && (codeSize == 4 || end <= 0xFFFF);
        }

        /**
         * The target of a relative JMP or Jcc ending at {@code next} when it can be taken without a
         * fault, else -1: truncated to the operand size and within the CS limit outside 64-bit mode
         * (Operands.branchTarget: #GP(0) otherwise, SDM Vol. 2 Jcc, JMP), canonical in 64-bit mode.
         */
        long target(Insn i, long next) {
            long t = next + i.imm;
            if (codeSize == 8) return Operands.canonical(t) ? t : -1;
            t &= i.opSize == 2 ? 0xFFFF : M32;
            return t <= csLimit ? t : -1;
        }
    }

    /** The conditional and unconditional relative jumps a region runs inline (Jcc ends a block outside 64-bit code). */
    private static boolean isJcc(int op) {
        return op == Op.JCC64 || op == Op.JCC;
    }

    private static boolean isJmpRel(int op) {
        return op == Op.JMP_REL64 || op == Op.JMP_REL;
    }

    /**
     * Translates the region grown from {@code root} (at page offset {@code rootOffset}): the
     * already decoded 64-bit blocks of {@code page} reachable from it by direct branches within
     * the page, breadth first, up to {@link #MAX_INSNS}. Returns null when nothing can be
     * translated; marks every member block that has no region yet with the new one.
     */
    static Region translate(Interpreter.Block[] page, Code code, Interpreter.Block root, int rootOffset) {
        long linearPage = code.linearPage();
        List<Member> members = new ArrayList<>();
        Map<Integer, Member> byOffset = new HashMap<>();
        List<Integer> queue = new ArrayList<>();
        queue.add(rootOffset);
        int total = 0;
        for (int q = 0; q < queue.size(); q++) {
            int off = queue.get(q);
            if (byOffset.containsKey(off)) continue;
            Interpreter.Block b = off == rootOffset ? root : page[off];
            if (b == null || b.codeSize != code.codeSize() || !code.withinLimit(off, b) || total + b.count > MAX_INSNS) continue;
            Member m = new Member(b, off, members.size());
            members.add(m);
            byOffset.put(off, m);
            total += b.count;
            long base = code.ripOf(off);
            for (int k = 0; k < b.count; k++) {
                Insn i = b.insns[k];
                if (isJcc(i.op) || (isJmpRel(i.op) && k == b.count - 1)) {
                    long t = code.target(i, base + b.end[k]);
                    if (t < 0) continue;
                    long lin = code.linearOf(t);
                    if ((lin >>> 12) == linearPage) queue.add((int) (lin & 0xFFF));
                }
            }
            if (fallsThrough(b) && off + b.bytes < 4096) queue.add(off + b.bytes);
        }
        if (members.isEmpty()) return null;
        for (int limit = members.size(); limit > 0; limit = limit / 2) {
            List<Member> chosen = members.subList(0, limit);
            byte[] bytes = generate(chosen, code);
            if (bytes == null) continue;
            Region r = define(bytes, chosen, code);
            for (Member m : chosen) {
                if (m.block.region == null) {
                    m.block.region = r;
                    m.block.regionEntry = m.entry;
                }
            }
            return r;
        }
        return null;
    }

    /** True when a block's last instruction lets execution continue at the next byte (no transfer). */
    private static boolean fallsThrough(Interpreter.Block b) {
        Insn last = b.insns[b.count - 1];
        if (isJcc(last.op)) return true;
        if (Interpreter.endsBlock(last.op)) return false;
        return !Interpreter.repString(last);
    }

    private static Region define(byte[] bytes, List<Member> chosen, Code code) {
        List<Object> data = new ArrayList<>();
        data.add(fixOf(chosen, code));
        for (Member m : chosen) {
            for (int k = 0; k < m.block.count; k++) data.add(m.block.insns[k]);
        }
        try {
            // Not STRONG: the class unloads once its blocks (the only references) are dropped.
            MethodHandles.Lookup l = MethodHandles.lookup().defineHiddenClassWithClassData(bytes, List.copyOf(data), true);
            Region r = (Region) l.findConstructor(l.lookupClass(), MethodType.methodType(void.class)).invoke();
            r.linearPage = code.linearPage();
            r.codeSize = code.codeSize();
            r.csBase = code.csBase();
            r.csLimit = code.csLimit();
            return r;
        } catch (Throwable t) {
            throw new IllegalStateException("translated region failed to load", t);
        }
    }

    private static Fix fixOf(List<Member> chosen, Code code) {
        int n = 0;
        for (Member m : chosen) n += m.block.count;
        Fix f = new Fix(n);
        int j = 0;
        for (Member m : chosen) {
            Interpreter.Block b = m.block;
            long base = code.ripOf(m.offset);
            int pr = 0;
            for (int k = 0; k < b.count; k++, j++) {
                Insn i = b.insns[k];
                f.next[j] = base + b.end[k];
                f.length[j] = i.length;
                f.started[j] = k + 1;
                if (b.plain[k] || inlineJcc(i, f.next[j], code)) {
                    f.pending[j] = pr;
                    pr++;
                } else {
                    f.pending[j] = -1;
                    pr = 1;
                }
            }
        }
        return f;
    }

    /**
     * A Jcc whose target can be taken without a fault runs inline; one whose target is non-canonical
     * (64-bit) or beyond the CS limit goes to execute (#GP(0) when taken).
     */
    private static boolean inlineJcc(Insn i, long next, Code code) {
        return isJcc(i.op) && code.target(i, next) >= 0;
    }

    // ---- status-flag liveness ----

    /** A plain instruction's effect on the status flags: none, all six written from its operands alone, or anything else. */
    private static final int F_NONE = 0, F_FULL = 1, F_OTHER = 2;

    private static int flagEffect(Insn i) {
        int op = i.op;
        if (op >= Op.ALU_RR32 && op < Op.ALU_RI64 + 8) {
            int alu = (op - Op.ALU_RR32) & 7;
            return alu == 2 || alu == 3 ? F_OTHER : F_FULL;      // ADC and SBB read CF
        }
        return switch (op) {
            // non-zero counts only (the decoder's rule for these forms): all six flags defined
            case Op.SHL_RI32, Op.SHL_RI64, Op.SHR_RI32, Op.SHR_RI64, Op.SAR_RI32, Op.SAR_RI64,
                 Op.IMUL_GE64, Op.IMUL_GEI64, Op.TEST_EI, Op.TEST_EG -> F_FULL;
            case Op.IMUL_GE, Op.IMUL_GEI -> i.opSize == 4 ? F_FULL : F_OTHER;   // MulDiv.imul sets all six
            case Op.MOV_RR32_EG, Op.MOV_RR64_EG, Op.MOV_RR32_GE, Op.MOV_RR64_GE, Op.MOV_RI32, Op.MOV_RI64,
                 Op.LEA64, Op.LEA, Op.MOV_EG, Op.MOV_GE, Op.MOV_EI, Op.MOVZX_B, Op.MOVZX_W, Op.MOVSX_B,
                 Op.MOVSX_W, Op.MOVSXD, Op.BSWAP, Op.CBW, Op.CWD, Op.NOP -> F_NONE;
            default -> F_OTHER;                                   // INC/DEC keep CF, rotates keep SF ZF AF PF, ...
        };
    }

    /**
     * For each instruction of a block: true when it is plain, only writes status flags (all or
     * some, reading none for its result), and a later plain instruction of the block writes them
     * all before anything reads them or anything could leave the block (every non-plain
     * instruction may fault, exit or branch, and the block's end hands the flags on). What such an
     * instruction does to the flags can never be observed.
     */
    private static boolean[] deadFlags(Interpreter.Block b) {
        boolean[] dead = new boolean[b.count];
        for (int k = 0; k < b.count; k++) {
            if (!b.plain[k] || !hasFlaglessForm(b.insns[k])) continue;
            for (int m = k + 1; m < b.count; m++) {
                if (!b.plain[m]) break;
                int e = flagEffect(b.insns[m]);
                if (e == F_OTHER) break;
                if (e == F_FULL) {
                    dead[k] = true;
                    break;
                }
            }
        }
        return dead;
    }

    private static boolean hasFlaglessForm(Insn i) {
        int op = i.op;
        if (op >= Op.ALU_RR32 && op < Op.ALU_RI64 + 8) {
            int alu = (op - Op.ALU_RR32) & 7;
            return alu != 2 && alu != 3;                          // ADC and SBB use CF for their result
        }
        if (op == Op.TEST_EI || op == Op.TEST_EG) return !i.mem;
        if (op == Op.IMUL_GE || op == Op.IMUL_GEI) return i.opSize == 4;
        if (op == Op.SHIFT_I) return rotate32(i);
        return switch (op) {
            case Op.SHL_RI32, Op.SHL_RI64, Op.SHR_RI32, Op.SHR_RI64, Op.SAR_RI32, Op.SAR_RI64,
                 Op.IMUL_GE64, Op.IMUL_GEI64, Op.ROL_RI64, Op.ROR_RI64, Op.INC32, Op.INC64, Op.DEC32, Op.DEC64 -> true;
            default -> false;
        };
    }

    /** ROL/ROR r32 by a non-zero immediate count: the forms {@link Fast#rol32}/{@link Fast#ror32} compute. */
    private static boolean rotate32(Insn i) {
        return i.op == Op.SHIFT_I && i.opSize == 4 && (i.sub == 0 || i.sub == 1) && ((int) i.imm & 31) != 0;
    }

    // ---- code generation ----

    /** Returns the class bytes, or null when the method would be too large for the JIT. */
    private static byte[] generate(List<Member> chosen, Code code) {
        Map<Integer, Member> byOffset = new HashMap<>();
        for (Member m : chosen) byOffset.put(m.offset, m);
        byte[] bytes = CLASS_FILE.build(CD_THIS, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withSuperclass(CD_REGION);
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                    c -> c.aload(0).invokespecial(CD_REGION, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void).return_());
            cb.withMethodBody("run", RUN, 0, c -> new Emitter(c, chosen, byOffset, code).emit());
        });
        int size = CLASS_FILE.parse(bytes).methods().stream().filter(m -> m.methodName().equalsString("run"))
                .findFirst().flatMap(m -> m.findAttribute(java.lang.classfile.Attributes.code()))
                .map(CodeAttribute::codeLength).orElse(Integer.MAX_VALUE);
        return size <= MAX_CODE_BYTES ? bytes : null;
    }

    /** Emits one region's run method. */
    private static final class Emitter {
        private final CodeBuilder code;
        private final List<Member> chosen;
        private final Map<Integer, Member> byOffset;
        private final Code where;
        private final Label[] entries;
        private final List<Runnable> stubs = new ArrayList<>();
        private final List<Label> handlers = new ArrayList<>();
        private int pending;
        /** An instruction of the current block that is neither plain nor an inline Jcc has been emitted. */
        private boolean touched;
        private int insnIndex;
        /** Region-wide index of the instruction being emitted (its Insn is class data 1 + current). */
        private int current;

        Emitter(CodeBuilder code, List<Member> chosen, Map<Integer, Member> byOffset, Code where) {
            this.code = code;
            this.chosen = chosen;
            this.byOffset = byOffset;
            this.where = where;
            this.entries = new Label[chosen.size()];
            for (int e = 0; e < entries.length; e++) entries[e] = code.newLabel();
        }

        void emit() {
            code.aload(C).getfield(CD_CPU, "gpr", CD_LONGS).astore(G);
            Label bad = code.newLabel();
            List<java.lang.classfile.instruction.SwitchCase> cases = new ArrayList<>();
            for (int e = 0; e < entries.length; e++) cases.add(java.lang.classfile.instruction.SwitchCase.of(e, entries[e]));
            code.iload(ENTRY).tableswitch(0, entries.length - 1, bad, cases);
            for (Member m : chosen) block(m);
            for (Runnable s : stubs) s.run();
            code.labelBinding(bad);
            code.iload(ENTRY).invokestatic(CD_TRANSLATOR, "badEntry", BAD_ENTRY).athrow();
            // One handler per instruction: its index, then the common fix-up.
            Label fix = code.newLabel();
            for (int j = 0; j < handlers.size(); j++) {
                code.labelBinding(handlers.get(j));
                code.loadConstant(j).goto_(fix);
            }
            code.labelBinding(fix);
            code.istore(T_INDEX).astore(T_THROWN);
            code.aload(C).aload(IT).ldc(classData(CD_FIX, 0)).iload(T_INDEX).invokestatic(CD_TRANSLATOR, "afterThrow", AFTER_THROW);
            code.aload(T_THROWN).athrow();
        }

        private DynamicConstantDesc<Object> classData(ClassDesc type, int index) {
            return DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT, ConstantDescs.DEFAULT_NAME, type, index);
        }

        private void block(Member m) {
            Interpreter.Block b = m.block;
            long base = where.ripOf(m.offset);
            code.labelBinding(entries[m.entry]);
            // The budget counts instructions started: each way out of the block charges its own
            // count; the check before entering guaranteed room for the whole block.
            pending = 0;
            touched = false;
            boolean[] dead = deadFlags(b);
            for (int k = 0; k < b.count; k++) {
                Insn i = b.insns[k];
                long next = base + b.end[k], start = next - i.length;
                int j = insnIndex++;
                current = j;
                Label h = code.newLabel();
                handlers.add(h);
                Label s = code.newLabel(), e = code.newLabel();
                if (b.plain[k]) {
                    code.labelBinding(s);
                    if (plain(i, dead[k])) {
                        code.labelBinding(e);
                        code.exceptionCatchAll(s, e, h);
                    }
                    pending++;
                } else if (inlineJcc(i, next, where)) {
                    Label taken = code.newLabel();
                    code.labelBinding(s);
                    code.aload(C).loadConstant(i.sub).invokestatic(CD_FLAGS, "cond", COND);
                    code.labelBinding(e);
                    code.exceptionCatchAll(s, e, h);
                    code.ifne(taken);
                    pending++;
                    int retired = pending, started = k + 1;
                    long target = where.target(i, next);
                    boolean checks = touched;
                    stubs.add(() -> {
                        code.labelBinding(taken);
                        addRetired(retired);
                        charge(started);
                        branch(target, start, checks);
                    });
                } else if (isJmpRel(i.op) && where.target(i, next) >= 0) {
                    // The target is a constant that can be taken (canonical, or within the CS
                    // limit): nothing can throw (its handler stays unused).
                    addRetired(pending + 1);
                    charge(k + 1);
                    branch(where.target(i, next), start, touched);
                    return;
                } else {
                    code.labelBinding(s);
                    code.aload(C).loadConstant(next).putfield(CD_CPU, "rip", CD_long);
                    code.aload(C).loadConstant(start).putfield(CD_CPU, "instructionStart", CD_long);
                    addRetired(pending);
                    synced(i, next);
                    touched = true;
                    code.labelBinding(e);
                    code.exceptionCatchAll(s, e, h);
                    pending = 1;
                    boolean last = k == b.count - 1;
                    if (last && !fallsThrough(b)) {
                        // It ends the block: RIP is whatever it left.
                        leaveIfExitEnded(k + 1);
                        addRetired(1);
                        charge(k + 1);
                        code.loadConstant(Interpreter.changesContext(i.op) ? 1 : 0).ireturn();
                        return;
                    }
                    // A store into a code page (possibly this region) ends the run after it, so the
                    // modified code is decoded afresh before it runs (SDM Vol. 3A 11.6).
                    Label written = code.newLabel();
                    code.aload(IT).getfield(CD_INTERPRETER, "codeWritten", CD_boolean).ifne(written);
                    int started = k + 1;
                    stubs.add(() -> {
                        code.labelBinding(written);
                        leaveIfExitEnded(started);
                        addRetired(1);
                        charge(started);
                        code.iconst_0().ireturn();
                    });
                }
            }
            // Fall-through at the block's end (size limit, page end, or a not-taken Jcc last).
            addRetired(pending);
            charge(b.count);
            int lastK = b.count - 1;
            branch(base + b.bytes, base + b.end[lastK] - b.insns[lastK].length, touched);
        }

        /**
         * Sets RIP to {@code target} and jumps to its block if it is in the region and the run loop
         * would run it now. {@code checks}: an instruction other than a plain one or an inline Jcc
         * ran since the block was entered, so a stop request, VMX boundary work or a code write
         * may have appeared; otherwise they are as the last check (the run loop's before entering
         * the region, or the branch into this block) left them: absent (the fields are written only
         * by this thread, by instructions that are not plain).
         */
        private void branch(long target, long lastStart, boolean checks) {
            code.aload(C).loadConstant(target).putfield(CD_CPU, "rip", CD_long);
            long lin = where.linearOf(target);
            Member t = (lin >>> 12) == where.linearPage() ? byOffset.get((int) (lin & 0xFFF)) : null;
            // Only a member run with the very instruction pointers it was translated for (an EIP
            // past 2^32 - 1 reaches the same linear bytes with other values; the run loop decides).
            if (t != null && where.ripOf(t.offset) != target) t = null;
            Label leave = code.newLabel();
            if (t != null) {
                if (checks) {
                    code.aload(C).getfield(CD_CPU, "stopRequest", CD_STOP).ifnonnull(leave);
                    code.aload(C).getfield(CD_CPU, "boundaryWork", CD_boolean).ifne(leave);
                    code.aload(IT).getfield(CD_INTERPRETER, "codeWritten", CD_boolean).ifne(leave);
                }
                code.aload(IT).getfield(CD_INTERPRETER, "remaining", CD_long).loadConstant((long) t.block.count).lcmp().iflt(leave);
                code.goto_(entries[t.entry]);
            }
            code.labelBinding(leave);
            code.aload(C).loadConstant(lastStart).putfield(CD_CPU, "instructionStart", CD_long);
            code.iconst_0().ireturn();
        }

        /**
         * After an instruction the interpreter executed: if a VM exit ended it by returning
         * ({@link Interpreter#endInstructionForVmExit}) it did not retire and the exit has set RIP and
         * the rest, so the region only charges the budget and returns, as runBlock does. It returns 0:
         * whether the block chain still holds is decided where runBlock's exit leaves it too (the exit
         * itself ends it for host code run by this loop; the next run checks it for a Java host).
         */
        private void leaveIfExitEnded(int started) {
            Label normal = code.newLabel();
            code.aload(IT).invokestatic(CD_TRANSLATOR, "takeExitEnded", TAKE_EXIT_ENDED).ifeq(normal);
            charge(started);
            code.iconst_0().ireturn();
            code.labelBinding(normal);
        }

        /** Charges {@code n} started instructions to the run's budget. */
        private void charge(int n) {
            code.aload(IT).dup().getfield(CD_INTERPRETER, "remaining", CD_long).loadConstant((long) n).lsub()
                    .putfield(CD_INTERPRETER, "remaining", CD_long);
        }

        private void addRetired(int n) {
            if (n == 0) return;
            code.aload(C).dup().getfield(CD_CPU, "instructionsRetired", CD_long).loadConstant((long) n).ladd()
                    .putfield(CD_CPU, "instructionsRetired", CD_long);
        }

        private void loadReg(int r) {
            code.aload(G).loadConstant(r).laload();
        }

        private void loadReg32(int r) {
            loadReg(r);
            code.loadConstant(M32).land();
        }

        private void callFast(String name, MethodTypeDesc type) {
            code.invokestatic(CD_FAST, name, type);
        }

        private void execute(Insn i) {
            code.aload(C).ldc(classData(CD_INSN, 1 + current));
            // CPUID, the instruction a hypervisor's guest exits with most, calls its operation directly
            // (Interpreter.execute's case does nothing else): the region's compiled code then holds the
            // exit path instead of one shared 4 KB switch whose inlining varies with C2's budget
            if (i.op == Op.CPUID) code.invokestatic(CD_SYSTEM_OPS, "cpuid", EXECUTE);
            else code.invokestatic(CD_INTERPRETER, "execute", EXECUTE);
        }

        private static final String[] ALU64 = {"add64", "or64", null, null, "and64", "sub64", "xor64", "cmp64"};
        private static final String[] ALU32 = {"add32", "or32", null, null, "and32", "sub32", "xor32", "cmp32"};

        /**
         * A plain register instruction: no bookkeeping, registers and immediates as constants. With
         * {@code flagsDead} its status flags are overwritten before anything can observe them, so
         * only its result is computed. Returns false when nothing was emitted.
         */
        private boolean plain(Insn i, boolean flagsDead) {
            if (flagsDead) return withoutFlags(i);
            int op = i.op;
            if (op >= Op.ALU_RR32 && op < Op.ALU_RI64 + 8) {
                boolean wide = (op >= Op.ALU_RR64 && op < Op.ALU_RI32) || op >= Op.ALU_RI64;
                boolean imm = op >= Op.ALU_RI32;
                int alu = (op - Op.ALU_RR32) & 7;
                String name = (wide ? ALU64 : ALU32)[alu];
                if (name == null) {
                    execute(i);
                    return true;
                }
                boolean cmp = alu == 7;
                if (!cmp) code.aload(G).loadConstant(i.rm);
                code.aload(C);
                if (wide) loadReg(i.rm); else loadReg32(i.rm);
                if (imm) code.loadConstant(wide ? i.imm : i.imm & M32);
                else if (wide) loadReg(i.reg);
                else loadReg32(i.reg);
                callFast(name, cmp ? COMPARE : BINARY);
                if (!cmp) code.lastore();
                return true;
            }
            switch (op) {
                case Op.MOV_RR64_EG -> { code.aload(G).loadConstant(i.rm); loadReg(i.reg); code.lastore(); }
                case Op.MOV_RR32_EG -> { code.aload(G).loadConstant(i.rm); loadReg32(i.reg); code.lastore(); }
                case Op.MOV_RR64_GE -> { code.aload(G).loadConstant(i.reg); loadReg(i.rm); code.lastore(); }
                case Op.MOV_RR32_GE -> { code.aload(G).loadConstant(i.reg); loadReg32(i.rm); code.lastore(); }
                case Op.MOV_RI64 -> code.aload(G).loadConstant(i.rm).loadConstant(i.imm).lastore();
                case Op.MOV_RI32 -> code.aload(G).loadConstant(i.rm).loadConstant(i.imm & M32).lastore();
                case Op.INC64 -> unary(i, "inc64", false);
                case Op.DEC64 -> unary(i, "dec64", false);
                case Op.INC32 -> unary(i, "inc32", true);
                case Op.DEC32 -> unary(i, "dec32", true);
                case Op.SHL_RI64 -> shift(i, "shl64", false);
                case Op.SHR_RI64 -> shift(i, "shr64", false);
                case Op.SAR_RI64 -> shift(i, "sar64", false);
                case Op.ROL_RI64 -> shift(i, "rol64", false);
                case Op.ROR_RI64 -> shift(i, "ror64", false);
                case Op.SHL_RI32 -> shift(i, "shl32", true);
                case Op.SHR_RI32 -> shift(i, "shr32", true);
                case Op.SAR_RI32 -> shift(i, "sar32", true);
                case Op.LEA64 -> { code.aload(G).loadConstant(i.reg); address(i, 0); code.lastore(); }
                case Op.IMUL_GEI64 -> {
                    code.aload(G).loadConstant(i.reg).aload(C);
                    loadReg(i.rm);
                    code.loadConstant(i.imm);
                    callFast("imul64", BINARY);
                    code.lastore();
                }
                case Op.IMUL_GE64 -> {
                    code.aload(G).loadConstant(i.reg).aload(C);
                    loadReg(i.rm);
                    loadReg(i.reg);
                    callFast("imul64", BINARY);
                    code.lastore();
                }
                case Op.BT_RI64 -> {
                    code.aload(C);
                    loadReg(i.rm);
                    code.loadConstant((int) i.imm & 63).invokestatic(CD_FAST, "bt64", MethodTypeDesc.of(CD_void, CD_CPU, CD_long, CD_int));
                }
                case Op.NOP -> {
                    return false;                             // nothing to do, nothing to protect
                }
                case Op.IMUL_GEI, Op.IMUL_GE -> {
                    if (i.opSize != 4) {
                        execute(i);
                        break;
                    }
                    code.aload(G).loadConstant(i.reg).aload(C);
                    loadReg(i.rm);
                    if (op == Op.IMUL_GEI) code.loadConstant(i.imm); else loadReg(i.reg);
                    code.invokestatic(CD_FAST, "imul32", BINARY).lastore();
                }
                case Op.SHIFT_I -> {
                    int n = (int) i.imm & 31;
                    if (!rotate32(i)) {
                        execute(i);
                        break;
                    }
                    code.aload(G).loadConstant(i.rm).aload(C);
                    loadReg(i.rm);
                    code.loadConstant(n).invokestatic(CD_FAST, i.sub == 0 ? "rol32" : "ror32", SHIFT).lastore();
                }
                case Op.LEA -> {
                    // Data.lea: the address (at the address size), written at the operand size
                    if ((i.opSize != 4 && i.opSize != 8) || i.addrSize == 2) {
                        execute(i);
                        break;
                    }
                    code.aload(G).loadConstant(i.reg);
                    address(i, 0);
                    if (i.opSize == 4) code.loadConstant(M32).land();
                    code.lastore();
                }
                case Op.TEST_EI, Op.TEST_EG -> {
                    // Alu.testEI/testEG: a LOGIC record of the masked AND with zero operands
                    code.aload(C).loadConstant(Flags.LOGIC).loadConstant(i.opSize);
                    test(i);
                    code.lconst_0().lconst_0().invokestatic(CD_FLAGS, "record", RECORD);
                }
                default -> execute(i);
            }
            return true;
        }

        /** The value TEST computes: r/m AND (immediate or reg), at the operand size. */
        private void test(Insn i) {
            readSized(i.rm, i.opSize, (i.highByte & 2) != 0);
            if (i.op == Op.TEST_EI) code.loadConstant(i.imm & Flags.mask(i.opSize));
            else readSized(i.reg, i.opSize, (i.highByte & 1) != 0);
            code.land();
        }

        /** A register read as Operands.getReg does it (AH..BH for byte registers 4..7 without REX). */
        private void readSized(int r, int size, boolean high) {
            if (size == 1 && high) {
                loadReg(r - 4);
                code.loadConstant(8).lushr().loadConstant(0xFFL).land();
            } else {
                loadReg(r);
                if (size != 8) code.loadConstant(Flags.mask(size)).land();
            }
        }

        /** Result only, for an instruction whose flags are dead (see {@link #deadFlags}). */
        private boolean withoutFlags(Insn i) {
            int op = i.op;
            if (op == Op.TEST_EI || op == Op.TEST_EG || op == Op.ALU_RR32 + 7 || op == Op.ALU_RR64 + 7
                    || op == Op.ALU_RI32 + 7 || op == Op.ALU_RI64 + 7) {
                return false;                                 // only flags: nothing left
            }
            if (op >= Op.ALU_RR32 && op < Op.ALU_RI64 + 8) {
                boolean wide = (op >= Op.ALU_RR64 && op < Op.ALU_RI32) || op >= Op.ALU_RI64;
                code.aload(G).loadConstant(i.rm);
                loadReg(i.rm);
                if (op >= Op.ALU_RI32) code.loadConstant(i.imm);
                else loadReg(i.reg);
                switch ((op - Op.ALU_RR32) & 7) {
                    case 0 -> code.ladd();
                    case 1 -> code.lor();
                    case 4 -> code.land();
                    case 5 -> code.lsub();
                    default -> code.lxor();
                }
                if (!wide) code.loadConstant(M32).land();
                code.lastore();
                return true;
            }
            code.aload(G).loadConstant(op == Op.IMUL_GE64 || op == Op.IMUL_GEI64 || op == Op.IMUL_GE || op == Op.IMUL_GEI ? i.reg : i.rm);
            switch (op) {
                case Op.SHL_RI64 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 63).lshl(); }
                case Op.SHR_RI64 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 63).lushr(); }
                case Op.SAR_RI64 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 63).lshr(); }
                case Op.SHL_RI32 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 31).lshl().loadConstant(M32).land(); }
                case Op.SHR_RI32 -> { loadReg32(i.rm); code.loadConstant((int) i.imm & 31).lushr(); }
                case Op.SAR_RI32 -> { loadReg(i.rm); code.l2i().i2l().loadConstant((int) i.imm & 31).lshr().loadConstant(M32).land(); }
                case Op.ROL_RI64 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 63).invokestatic(ConstantDescs.CD_Long, "rotateLeft", ROTATE); }
                case Op.ROR_RI64 -> { loadReg(i.rm); code.loadConstant((int) i.imm & 63).invokestatic(ConstantDescs.CD_Long, "rotateRight", ROTATE); }
                case Op.IMUL_GEI64 -> { loadReg(i.rm); code.loadConstant(i.imm).lmul(); }
                case Op.IMUL_GE64 -> { loadReg(i.rm); loadReg(i.reg); code.lmul(); }
                // 32-bit IMUL: the low 32 bits of the product do not depend on sign extension
                case Op.IMUL_GEI -> { loadReg(i.rm); code.loadConstant(i.imm).lmul().loadConstant(M32).land(); }
                case Op.IMUL_GE -> { loadReg(i.rm); loadReg(i.reg); code.lmul().loadConstant(M32).land(); }
                case Op.SHIFT_I -> {
                    loadReg(i.rm);
                    code.l2i().loadConstant((int) i.imm & 31)
                            .invokestatic(ConstantDescs.CD_Integer, i.sub == 0 ? "rotateLeft" : "rotateRight", ROTATE32)
                            .i2l().loadConstant(M32).land();
                }
                case Op.INC64 -> { loadReg(i.rm); code.lconst_1().ladd(); }
                case Op.DEC64 -> { loadReg(i.rm); code.lconst_1().lsub(); }
                case Op.INC32 -> { loadReg(i.rm); code.lconst_1().ladd().loadConstant(M32).land(); }
                case Op.DEC32 -> { loadReg(i.rm); code.lconst_1().lsub().loadConstant(M32).land(); }
                default -> throw new IllegalStateException("no flagless form for " + Op.name(op));
            }
            code.lastore();
            return true;
        }

        private void unary(Insn i, String name, boolean narrow) {
            code.aload(G).loadConstant(i.rm).aload(C);
            if (narrow) loadReg32(i.rm); else loadReg(i.rm);
            callFast(name, UNARY);
            code.lastore();
        }

        private void shift(Insn i, String name, boolean narrow) {
            code.aload(G).loadConstant(i.rm).aload(C);
            if (narrow) loadReg32(i.rm); else loadReg(i.rm);
            code.loadConstant((int) i.imm & (narrow ? 31 : 63));
            callFast(name, SHIFT);
            code.lastore();
        }

        /** Effective address of a 64- or 32-bit address-size memory operand; RIP-relative from {@code next}. */
        private void address(Insn i, long next) {
            if (i.base == Insn.RIP_BASE) {
                code.loadConstant(next + i.disp);
            } else {
                code.loadConstant(i.disp);
                if (i.base >= 0) {
                    loadReg(i.base);
                    code.ladd();
                }
            }
            if (i.index >= 0) {
                loadReg(i.index);
                if (i.scale != 0) code.loadConstant(i.scale).lshl();
                code.ladd();
            }
            if (i.addrSize == 4) code.loadConstant(M32).land();
        }

        /** An instruction after which the state is exact: 32/64-bit loads and stores inline, all else through execute. */
        private void synced(Insn i, long next) {
            boolean addressable = i.addrSize == 8 || i.addrSize == 4;
            switch (addressable ? i.op : -1) {
                case Op.LOAD64 -> {
                    code.aload(G).loadConstant(i.reg).aload(C).getfield(CD_CPU, "mmu", CD_MMU).loadConstant(i.seg);
                    address(i, next);
                    code.invokevirtual(CD_MMU, "read64", MethodTypeDesc.of(CD_long, CD_int, CD_long)).lastore();
                }
                case Op.LOAD32 -> {
                    code.aload(G).loadConstant(i.reg).aload(C).getfield(CD_CPU, "mmu", CD_MMU).loadConstant(i.seg);
                    address(i, next);
                    code.invokevirtual(CD_MMU, "read32", MethodTypeDesc.of(CD_int, CD_int, CD_long)).i2l().loadConstant(M32).land().lastore();
                }
                case Op.STORE64 -> {
                    code.aload(C).getfield(CD_CPU, "mmu", CD_MMU).loadConstant(i.seg);
                    address(i, next);
                    loadReg(i.reg);
                    code.invokevirtual(CD_MMU, "write64", MethodTypeDesc.of(CD_void, CD_int, CD_long, CD_long));
                }
                case Op.STORE32 -> {
                    code.aload(C).getfield(CD_CPU, "mmu", CD_MMU).loadConstant(i.seg);
                    address(i, next);
                    loadReg(i.reg);
                    code.l2i().invokevirtual(CD_MMU, "write32", MethodTypeDesc.of(CD_void, CD_int, CD_long, CD_int));
                }
                default -> execute(i);
            }
        }
    }
}
