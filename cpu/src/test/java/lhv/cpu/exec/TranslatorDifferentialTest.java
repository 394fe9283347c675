package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.StopReason;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.Virtualization;
import lhv.cpu.intercept.VmExitSignal;
import lhv.cpu.intercept.VmxInstruction;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The translator must be indistinguishable from the interpreter: random guest programs (counted
 * loops whose bodies mix the forms the translator emits inline with ones it hands to execute,
 * forward branches, loads and stores, faults delivered through the IDT, self-modifying stores,
 * RDTSC, CPUID) run on two processors, one interpreting only and one translating every block before
 * its first run. The run is cut into chunks by random instruction budgets (so budgets run out in
 * the middle of regions), and after every chunk the stop reason, RIP, all general registers,
 * RFLAGS, the retired count and the touched memory must be equal; at the end all low memory too.
 * Programs run as 64-bit code, 32-bit protected-mode code (flat; with other CS bases, CS limits
 * that cut the program, paging on and off) and real-mode 16-bit code (IP across FFFFh), each also
 * in VMX non-root operation with VM exits.
 *
 * <p>Context: unit tests only.
 */
class TranslatorDifferentialTest {
    /** Registers a program may use freely (64-bit): RSP, R13 (loop counter), R14 (code base), R15 (data base) are reserved. */
    private static final int[] FREE64 = {0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12};
    /** 32-bit: EBP counts, ESI holds the code base, EDI the data base. */
    private static final int[] FREE32 = {0, 1, 2, 3};

    @Property(tries = 120, seed = "20261126")
    void longModeProgramsRunTheSameTranslated(@ForAll long seed) {
        compare(seed, true, false);
    }

    @Property(tries = 50, seed = "3232")
    void protectedModeProgramsRunTheSameWithTranslationOn(@ForAll long seed) {
        compare(seed, false, false);
    }

    @Property(tries = 60, seed = "777")
    void nonRootProgramsWithVmExitsRunTheSameTranslated(@ForAll long seed) {
        compare(seed, true, true);
    }

    /**
     * 32-bit code with a CS base other than 0 (one that wraps linear addresses past 4 GiB too), CS
     * limits that cut the program (blocks and branch targets beyond them: #GP(0) at the fetch or
     * at the branch), 16-bit-operand branches (targets truncated to 16 bits), paging on and off,
     * and an IDT that delivers the faults.
     */
    @Property(tries = 120, seed = "32032")
    void segmentedProtectedModeProgramsRunTheSameTranslated(@ForAll long seed) {
        Random r = new Random(seed);
        byte[] code = program(r, false);
        Guest[] g = new Guest[2];
        long[] bases = {0, 0x1000, 0xFFFFF000L, 0x80000};
        long csBase = bases[r.nextInt(bases.length)];
        long rip = (Guest.CODE - csBase) & 0xFFFFFFFFL;
        // The limit: flat, or cutting the loop somewhere (also through an instruction).
        long limit = r.nextInt(3) == 0 ? rip + 40 + r.nextInt(code.length) : 0xFFFFFFFFL;
        boolean paging = r.nextBoolean(), nonRoot = r.nextInt(3) == 0;
        for (int k = 0; k < 2; k++) {
            g[k] = protected32(csBase, (int) limit, paging);
            g[k].cpu.rip = rip;
            prepare(g[k], code, k == 1, nonRoot);
        }
        runBoth(g, r, "seed " + seed + " cs base " + Long.toHexString(csBase) + " limit " + Long.toHexString(limit)
                + " paging " + paging + " non-root " + nonRoot + " code " + java.util.HexFormat.of().formatHex(code));
    }

    /** 32-bit code in compatibility mode (IA-32e paging, faults through the 64-bit IDT). */
    @Property(tries = 60, seed = "6432")
    void compatibilityModeProgramsRunTheSameTranslated(@ForAll long seed) {
        Random r = new Random(seed);
        byte[] code = program(r, false);
        boolean nonRoot = r.nextInt(3) == 0;
        Guest[] g = new Guest[2];
        for (int k = 0; k < 2; k++) {
            g[k] = Guest.long64WithIdt();
            Cpu c = g[k].cpu;
            c.seg[lhv.cpu.Segment.CS].set(0x18, 0, 0xFFFFFFFF, 0xC09B);     // L = 0, D = 1
            c.stateChanged();
            assertEquals(lhv.cpu.Mode.COMPATIBILITY, c.mode);
            prepare(g[k], code, k == 1, nonRoot);
        }
        runBoth(g, r, "seed " + seed + " non-root " + nonRoot + " code " + java.util.HexFormat.of().formatHex(code));
    }

    @Property(tries = 40, seed = "3264")
    void nonRootProtectedModeProgramsWithVmExitsRunTheSameTranslated(@ForAll long seed) {
        compare(seed, false, true);
    }

    /**
     * 16-bit code in real mode: CS bases 0 and others, code placed so that IP runs across FFFFh
     * and wraps to 0 (the bytes continue at CS:0000), instructions with and without the
     * operand/address-size prefixes, 16-bit branches, faults delivered through the IVT.
     */
    @Property(tries = 100, seed = "1616")
    void realModeProgramsRunTheSameTranslated(@ForAll long seed) {
        Random r = new Random(seed);
        byte[] code = program16(r);
        int[][] places = {{0, 0x7C00}, {0x7C0, 0}, {0x1000, 0x10000 - code.length / 2}, {0x1000, 0xFF00}};
        int[] place = places[r.nextInt(places.length)];
        int cs = place[0], ip = place[1];
        boolean nonRoot = r.nextInt(4) == 0;
        Guest[] g = new Guest[2];
        for (int k = 0; k < 2; k++) {
            g[k] = Guest.real16();
            Cpu c = g[k].cpu;
            for (int v = 0; v < 256; v++) {
                long h = 0x5000 + 4L * v;
                g[k].ram.b(h, 0xB0);
                g[k].ram.b(h + 1, v);
                g[k].ram.b(h + 2, 0xF4);
                g[k].ram.d(4L * v, (int) h);                 // IVT: offset h, segment 0
            }
            c.seg[lhv.cpu.Segment.CS].loadReal(cs);
            long base = (long) cs << 4;
            for (int i = 0; i < code.length; i++) g[k].ram.b(base + ((ip + i) & 0xFFFF), code[i]);
            c.codeMap.writtenRange(0, 2 << 20);
            c.rip = ip;
            setUp(c, k == 1, nonRoot);
        }
        runBoth(g, r, "seed " + seed + " cs " + Integer.toHexString(cs) + " ip " + Integer.toHexString(ip)
                + " non-root " + nonRoot + " code " + java.util.HexFormat.of().formatHex(code));
    }

    /**
     * A 16-bit program: registers set with 32-bit moves, then a loop counted in EBP whose items
     * are the 32-bit generator's instructions with operand- and address-size prefixes (so they
     * keep their 32-bit meaning), 16-bit register ALU forms, 16-bit loads and stores through
     * [BX+disp8], and short Jcc/JMP (16-bit targets); the code base for self-modifying stores is
     * ESI = 7C00h (the first placement), the data base EDI = 8000h.
     */
    static byte[] program16(Random r) {
        ProgramBuilder p = new ProgramBuilder(false);
        for (int reg : FREE32) {
            long v = switch (r.nextInt(4)) {
                case 0 -> r.nextInt(16);
                case 1 -> r.nextInt();
                case 2 -> 0x8000 + r.nextInt(4000);
                default -> r.nextInt(0x10000);
            };
            p.bytes(0x66, 0xB8 + reg).d(v);
        }
        p.bytes(0x66, 0xBF).d(0x8000);                          // mov edi, 8000h
        p.bytes(0x66, 0xBE).d(0x7C00);                          // mov esi, 7C00h
        p.bytes(0x66, 0xBD).d(2 + r.nextInt(40));              // mov ebp, n
        int loop = p.size();
        int n = 3 + r.nextInt(30);
        List<byte[]> items = new ArrayList<>();
        List<Integer> branches = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            int kind = r.nextInt(100);
            ProgramBuilder m = new ProgramBuilder(false);
            if (kind < 10) {
                branches.add(items.size());
                m.bytes(r.nextBoolean() ? 0x70 + r.nextInt(16) : 0xEB, 0);
            } else if (kind < 25) {                             // ALU r16, r16 / INC r16 / DEC r16
                switch (r.nextInt(3)) {
                    case 0 -> m.bytes(0x01 + 8 * r.nextInt(8), 0xC0 | r.nextInt(4) << 3 | r.nextInt(4));
                    case 1 -> m.bytes(0x40 + r.nextInt(4));
                    default -> m.bytes(0x48 + r.nextInt(4));
                }
            } else if (kind < 35) {                             // MOV r16, [BX+disp8] / MOV [BX+disp8], r16
                m.bytes(r.nextBoolean() ? 0x8B : 0x89, 0x47 | r.nextInt(4) << 3, r.nextInt(256));
            } else {
                m.bytes(0x66, 0x67);
                byte[] x = instruction(r, false, FREE32);
                for (byte b : x) m.bytes(b & 0xFF);
            }
            items.add(m.code());
        }
        for (int b : branches) {
            items.get(b)[1] = (byte) (b + 1 < items.size() ? items.get(b + 1).length : 0);
        }
        for (byte[] it : items) for (byte x : it) p.bytes(x & 0xFF);
        p.bytes(0x66, 0x4D);                                    // dec ebp
        int jnz = p.size() + 4;
        p.bytes(0x0F, 0x85, (loop - jnz) & 0xFF, ((loop - jnz) >> 8) & 0xFF);   // jnz loop (rel16)
        p.bytes(0xF4);
        return p.code();
    }

    /** A 32-bit region is used only with the CS base it was translated for: the same code through another base is interpreted or translated again. */
    @Test
    void regionIsNotReusedWithAnotherCsBase() {
        // mov ecx, 50; l: lea eax, [eax + ecx]; dec ecx; jnz l; hlt  (position-independent)
        String loop = "b932000000" + "8d0408" + "49" + "75fa" + "f4";
        Guest[] g = {protected32(0, -1, false).code(loop), protected32(0, -1, false).code(loop)};
        g[0].cpu.interpreter.setTranslation(false);
        g[1].cpu.interpreter.setTranslationThreshold(0);
        for (long base : new long[] {0, 0x1000, 0, 0x1000}) {
            for (Guest x : g) {
                x.cpu.seg[lhv.cpu.Segment.CS].setBase(base);
                x.cpu.rip = Guest.CODE - base;
                x.cpu.gpr[Cpu.RAX] = 7;
                x.cpu.activityState = 0;
                assertEquals(StopReason.HALTED, x.cpu.run(10_000));
            }
            assertSameState(g[0], g[1], "cs base " + base);
            assertEquals(Guest.CODE - base + loop.length() / 2, g[1].cpu.rip, "cs base " + base);
        }
        assertTrue(g[1].cpu.interpreter.regionsTranslated() > 0);
        assertEquals(0, g[1].cpu.interpreter.translationFailures());
    }

    /** A translated Jcc whose target lies beyond the CS limit raises #GP(0) at the branch when taken, as interpreted. */
    @Test
    void branchBeyondCsLimitFaultsAtTheBranch() {
        // mov ecx, 3; l: dec ecx; jnz l; jmp +0x40 (beyond the limit); hlt
        String code = "b903000000" + "49" + "75fd" + "eb40" + "f4";
        Guest[] g = {protected32(0, (int) (Guest.CODE + 0x20), false).code(code),
                protected32(0, (int) (Guest.CODE + 0x20), false).code(code)};
        g[0].cpu.interpreter.setTranslation(false);
        g[1].cpu.interpreter.setTranslationThreshold(0);
        for (Guest x : g) x.cpu.run(1000);
        assertSameState(g[0], g[1], "jmp beyond the limit");
        assertEquals(13, g[1].cpu.interpreter.lastFault.vector, "#GP");
        assertEquals(13, g[1].cpu.gpr[Cpu.RAX] & 0xFF, "the #GP handler ran");
        assertTrue(g[1].cpu.interpreter.regionsTranslated() > 0);
    }

    /** The benchmark's own loop, long enough for the JIT to compile the region, ends with the same state. */
    @Test
    void hotLoopRunsTheSameTranslated() {
        String loop = "4889feb90004000048ba157c4a7fb979379e488b1e4801d3486bdb1f4989d849c1e8074c31c348891e4801d8"
                + "f6c30174044883c00348c1c2054c8d0c584929c94939d1730349ffc24883c608ffc975c249ffcf75abf4";
        Guest[] g = {Guest.long64WithIdt().code(loop), Guest.long64WithIdt().code(loop)};
        g[0].cpu.interpreter.setTranslation(false);
        g[1].cpu.interpreter.setTranslation(true);
        g[1].cpu.interpreter.setTranslationThreshold(0);
        for (Guest x : g) {
            x.cpu.gpr[Cpu.RDI] = Guest.DATA;
            x.cpu.gpr[15] = 300;
        }
        StopReason a = g[0].cpu.run(Long.MAX_VALUE), b = g[1].cpu.run(Long.MAX_VALUE);
        assertEquals(StopReason.HALTED, a);
        assertEquals(a, b);
        assertSameState(g[0], g[1], "hot loop");
        assertTrue(g[1].cpu.interpreter.regionsTranslated() > 0);
        assertEquals(-1, g[0].ram.ram().asSlice(0, 3 << 20).mismatch(g[1].ram.ram().asSlice(0, 3 << 20)));
    }

    /** A store into the running region's own code takes effect at the next instruction, as interpreted. */
    @Test
    void selfModifyingStoreInsideTranslatedLoop() {
        // mov ecx,100; L: mov eax,1 (imm patched below); add rbx,rax; mov [r14+L+1],ecx; dec ecx; jnz L; hlt
        ProgramBuilder p = new ProgramBuilder(true);
        p.bytes(0x49, 0xBE).q(Guest.CODE);                  // mov r14, CODE
        p.bytes(0xB9).d(100);                               // mov ecx, 100
        int loop = p.size();
        p.bytes(0xB8).d(1);                                 // mov eax, 1
        p.bytes(0x48, 0x01, 0xC3);                          // add rbx, rax
        p.bytes(0x41, 0x89, 0x8E).d(loop + 1);              // mov [r14 + loop + 1], ecx
        p.bytes(0xFF, 0xC9);                                // dec ecx
        p.bytes(0x0F, 0x85).d(loop - (p.size() + 6));       // jnz loop
        p.bytes(0xF4);
        Guest[] g = pair(p.code(), true, false);
        runBoth(g, new Random(1), "self-modifying");
        // rbx = 1 + sum(100..2): each pass adds the value the previous pass stored
        assertEquals(1 + (100 * 101 / 2 - 1), g[1].cpu.gpr[Cpu.RBX]);
    }

    /**
     * The flags of the last arithmetic instruction before a faulting load are observable (the
     * exception frame holds RFLAGS), so the translator must not drop them: mov rax,-1; add rax,1
     * (CF ZF PF AF set); mov rbx,[rcx] with a non-canonical RCX raises #GP (SDM 6.15 vector 13).
     */
    @Test
    void flagsBeforeAFaultReachTheExceptionFrame() {
        String code = "48c7c0ffffffff" + "4883c001" + "488b19" + "f4";
        for (boolean translate : new boolean[] {false, true}) {
            Guest g = Guest.long64WithIdt().code(code);
            g.cpu.interpreter.setTranslation(translate);
            g.cpu.interpreter.setTranslationThreshold(0);
            g.cpu.gpr[Cpu.RCX] = 0x8000_0000_0000_0000L;
            g.runToHalt();
            assertEquals(13, g.cpu.gpr[Cpu.RAX] & 0xFF, "#GP delivered");
            long rsp = g.cpu.gpr[Cpu.RSP];
            // 64-bit frame: error code, RIP, CS, RFLAGS, RSP, SS
            assertEquals(Guest.CODE + 11, g.ram.q(rsp + 8), "RIP of the faulting load");
            // CF PF AF ZF from the ADD, and RF: a fault's saved RFLAGS has RF set (SDM 18.3.1.1)
            assertEquals(0x2 | 0x1 | 0x4 | 0x10 | 0x40 | 0x10000, g.ram.q(rsp + 24), "RFLAGS image");
            assertEquals(4, g.cpu.instructionsRetired, "MOV and ADD retire, the load does not; then the handler's MOV and HLT");
            assertEquals(translate ? 1 : 0, Math.min(1, g.cpu.interpreter.regionsTranslated()));
        }
    }

    /**
     * One physical code page at two linear addresses: a region translated for one must not run
     * with its RIP constants at the other. PD entry 3 maps linear 0x600000-0x7FFFFF onto physical
     * 0-0x1FFFFF, so linear 0x600000 + x is the byte at physical x. The loop's RIP-relative LEA makes
     * the result depend on the linear address it runs at.
     */
    @Test
    void aliasedCodePageRunsWithItsOwnAddresses() {
        // mov ecx,50; L: lea rdx,[rip+0]; add rax,rdx; dec ecx; jnz L; hlt
        String code = "b932000000" + "488d1500000000" + "4801d0" + "ffc9" + "75f2" + "f4";
        long alias = 0x600000;
        Guest[] g = new Guest[2];
        for (int k = 0; k < 2; k++) {
            g[k] = Guest.long64WithIdt().code(code);
            g[k].ram.q(Guest.PD + 3 * 8, 0x87);
            g[k].cpu.interpreter.setTranslation(k == 1);
            g[k].cpu.interpreter.setTranslationThreshold(0);
            assertEquals(StopReason.HALTED, g[k].cpu.run(100_000));
            g[k].cpu.activityState = 0;
            g[k].cpu.rip = alias + (Guest.CODE & 0x1FFFFF);
            assertEquals(StopReason.HALTED, g[k].cpu.run(100_000));
        }
        assertSameState(g[0], g[1], "aliased page");
        // 50 times the address after the LEA at each of the two linear addresses
        long after = (Guest.CODE & 0x1FFFFF) + 5 + 7;
        assertEquals(50 * (Guest.CODE + 5 + 7) + 50 * (alias + after), g[1].cpu.gpr[Cpu.RAX]);
        assertTrue(g[1].cpu.interpreter.regionsTranslated() > 0);
    }

    /**
     * A device that asks the processor to stop while a translated loop stores to it: both tiers
     * finish the running block and stop at the same boundary with the same state. PD entry 4 maps
     * linear 0x800000 onto the device at physical 0xFEC00000 (outside RAM, so every store reaches it).
     * Loop: mov ecx,40; L: mov [r14],ecx; add rax,rcx; dec ecx; jnz L; hlt (R14 = 0x800000).
     */
    @Test
    void deviceStopRequestEndsTranslatedLoopAtTheSameBoundary() {
        String code = "49be0000800000000000" + "b928000000" + "41890e" + "4801c8" + "ffc9" + "75f6" + "f4";
        Cpu[] cpus = new Cpu[2];
        StopReason[] reasons = new StopReason[2];
        for (int k = 0; k < 2; k++) {
            StoppingDevice mem = new StoppingDevice(7);
            Guest g = Guest.long64WithIdt();
            Cpu c = new Cpu(lhv.cpu.model.CpuModel.withVmx(), mem);
            mem.cpu = c;
            MemorySegment.copy(g.ram.ram(), 0, mem.ram, 0, mem.ram.byteSize());      // page tables, IDT, GDT
            mem.ram.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, Guest.PD + 4 * 8, 0xFEC00000L | 0x87);
            byte[] b = java.util.HexFormat.of().parseHex(code);
            MemorySegment.copy(MemorySegment.ofArray(b), 0, mem.ram, Guest.CODE, b.length);
            Cpu t = g.cpu;
            c.setCr3(t.cr3); c.setCr4(t.cr4); c.setEfer(t.efer); c.setCr0(t.cr0);
            for (int s = 0; s < 6; s++) c.seg[s].set(t.seg[s].selector, t.seg[s].base, t.seg[s].limit, t.seg[s].attributes);
            c.stateChanged();
            c.mmu.flush(true);
            c.gpr[Cpu.RSP] = Guest.STACK_TOP;
            c.rip = Guest.CODE;
            c.interpreter.setTranslation(k == 1);
            c.interpreter.setTranslationThreshold(0);
            reasons[k] = c.run(100_000);
            cpus[k] = c;
        }
        assertEquals(StopReason.REQUESTED, reasons[0]);
        assertEquals(reasons[0], reasons[1]);
        // the 7th store (ECX = 34) asks; its block still adds, decrements and branches back to L
        assertEquals(33, cpus[1].gpr[Cpu.RCX]);
        assertEquals(40 + 39 + 38 + 37 + 36 + 35 + 34, cpus[1].gpr[Cpu.RAX]);
        assertEquals(Guest.CODE + 15, cpus[1].rip);
        assertArrayEquals(cpus[0].gpr, cpus[1].gpr);
        assertEquals(cpus[0].rip, cpus[1].rip);
        assertEquals(cpus[0].instructionsRetired, cpus[1].instructionsRetired);
        assertEquals(cpus[0].getRflags(), cpus[1].getRflags());
        assertTrue(cpus[1].interpreter.regionsTranslated() > 0);
    }

    /** RAM plus a device above it that counts stores and requests a stop at the n-th. */
    private static final class StoppingDevice implements lhv.cpu.bus.PhysicalMemory {
        final MemorySegment ram = java.lang.foreign.Arena.ofAuto().allocate(8 << 20, 4096);
        final int stopAt;
        int stores;
        Cpu cpu;

        StoppingDevice(int stopAt) {
            this.stopAt = stopAt;
        }

        @Override public MemorySegment ram() { return ram; }
        @Override public long ramSize() { return ram.byteSize(); }
        @Override public long read(long pa, int size) {
            long v = 0;
            if (isRam(pa, size)) for (int i = 0; i < size; i++) v |= (ram.get(java.lang.foreign.ValueLayout.JAVA_BYTE, pa + i) & 0xFFL) << (8 * i);
            return v;
        }
        lhv.cpu.bus.CodeMap codeMap;
        @Override public void attachCodeMap(lhv.cpu.bus.CodeMap map) { codeMap = map; }
        @Override public void write(long pa, int size, long value) {
            if (isRam(pa, size)) {
                for (int i = 0; i < size; i++) ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, pa + i, (byte) (value >>> (8 * i)));
                codeMap.writtenRange(pa, size);
            } else if (++stores == stopAt) {
                cpu.requestStop(StopReason.REQUESTED);
            }
        }
    }

    // ---- the comparison ----

    private static void compare(long seed, boolean long64, boolean nonRoot) {
        Random r = new Random(seed);
        byte[] code = program(r, long64);
        Guest[] g = pair(code, long64, nonRoot);
        runBoth(g, r, "seed " + seed + " code " + java.util.HexFormat.of().formatHex(code));
    }

    private static Guest[] pair(byte[] code, boolean long64, boolean nonRoot) {
        Guest[] g = new Guest[2];
        for (int k = 0; k < 2; k++) {
            g[k] = long64 ? Guest.long64WithIdt() : Guest.flat32();
            prepare(g[k], code, k == 1, nonRoot);
        }
        return g;
    }

    /** Puts {@code code} at Guest.CODE and sets the tier (translated: every block before its first run) and VMX mode. */
    private static void prepare(Guest g, byte[] code, boolean translated, boolean nonRoot) {
        for (int i = 0; i < code.length; i++) g.ram.b(Guest.CODE + i, code[i]);
        g.cpu.codeMap.writtenRange(Guest.CODE, code.length);
        setUp(g.cpu, translated, nonRoot);
    }

    private static void setUp(Cpu c, boolean translated, boolean nonRoot) {
        c.interpreter.setTranslation(translated);
        c.interpreter.setTranslationThreshold(0);
        if (nonRoot) {
            c.vmx = new ExitOnCpuid();
            c.nonRoot = true;
        }
    }

    /** Runs both in the same random chunks until they stop for another reason than the budget. */
    private static void runBoth(Guest[] g, Random r, String what) {
        long total = 0;
        for (int chunk = 0; total < 40_000; chunk++) {
            long budget = switch (r.nextInt(4)) {
                case 0 -> 1 + r.nextInt(8);
                case 1 -> 1 + r.nextInt(100);
                case 2 -> 1 + r.nextInt(2000);
                default -> 40_000;
            };
            long before = g[0].cpu.instructionsRetired;
            StopReason a = g[0].cpu.run(budget), b = g[1].cpu.run(budget);
            String where = what + " chunk " + chunk + " budget " + budget;
            assertEquals(a, b, where);
            assertSameState(g[0], g[1], where);
            assertSameMemory(g[0], g[1], Guest.CODE, 4096, where);
            assertSameMemory(g[0], g[1], Guest.DATA, 4096, where);
            assertSameMemory(g[0], g[1], Guest.STACK_TOP - 4096, 4096, where);
            total += Math.max(1, g[0].cpu.instructionsRetired - before);
            if (a != StopReason.INSTRUCTION_LIMIT && a != StopReason.VM_EXIT) break;
        }
        assertSameMemory(g[0], g[1], 0, 3 << 20, what + " at the end");
        assertEquals(0, g[0].cpu.interpreter.regionsTranslated(), "the interpreting processor translates nothing");
        assertEquals(0, g[1].cpu.interpreter.translationFailures(), what + ": translator defect");
        assertTrue(g[1].cpu.interpreter.regionsTranslated() > 0, what + ": nothing was translated");
    }

    /**
     * 32-bit protected mode (CPL 0) with CS base {@code csBase} and byte-granular limit {@code limit}
     * in the CS register, flat data segments, an IDT of 32-bit interrupt gates to flat handlers
     * "mov al, v; hlt" (at Guest.HANDLERS through the GDT's flat code selector), and with
     * {@code paging} 32-bit paging identity-mapping 8 MiB (4 KiB pages below 4 MiB, a 4 MiB page above).
     */
    static Guest protected32(long csBase, int limit, boolean paging) {
        Guest g = Guest.flat32();
        Cpu c = g.cpu;
        var ram = g.ram;
        for (int v = 0; v < 256; v++) {
            long h = Guest.HANDLERS + 4L * v;
            ram.b(h, 0xB0);
            ram.b(h + 1, v);
            ram.b(h + 2, 0xF4);
            ram.q(Guest.IDT + 8L * v, (h & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((h >>> 16) & 0xFFFF) << 48);
        }
        c.setIdtr(Guest.IDT, c.idtrLimit);
        c.setIdtr(c.idtrBase, 256 * 8 - 1);
        c.seg[lhv.cpu.Segment.CS].set(8, csBase, limit, 0xC09B);
        if (paging) {
            long pd = 0x7000, pt = 0x8000;
            ram.q(pd, 0);
            for (int i = 0; i < 1024; i++) ram.d(pt + 4L * i, (i << 12) | 3);
            ram.d(pd, (int) pt | 3);
            ram.d(pd + 4, 0x400000 | 0x83);
            for (int i = 2; i < 1024; i++) ram.d(pd + 4L * i, 0);
            c.setCr3(pd);
            c.setCr4(c.cr4 | lhv.cpu.Cr.CR4_PSE);
            c.setCr0(c.cr0 | lhv.cpu.Cr.CR0_PG);
        }
        c.stateChanged();
        c.mmu.flush(true);
        return g;
    }

    private static void assertSameState(Guest x, Guest y, String where) {
        Cpu a = x.cpu, b = y.cpu;
        assertArrayEquals(a.gpr, b.gpr, where + ": registers");
        assertEquals(a.rip, b.rip, where + ": rip");
        assertEquals(a.getRflags(), b.getRflags(), where + ": rflags");
        assertEquals(a.instructionsRetired, b.instructionsRetired, where + ": retired");
        assertEquals(a.activityState, b.activityState, where + ": activity");
        assertEquals(a.cr2, b.cr2, where + ": cr2");
        assertEquals(String.valueOf(a.interpreter.lastFault), String.valueOf(b.interpreter.lastFault), where + ": last fault");
    }

    private static void assertSameMemory(Guest x, Guest y, long at, long size, String where) {
        MemorySegment a = x.ram.ram().asSlice(at, size), b = y.ram.ram().asSlice(at, size);
        long m = a.mismatch(b);
        assertEquals(-1, m, () -> where + ": memory differs at 0x" + Long.toHexString(at + m));
    }

    /** A VMX layer whose guest exits to Java on every CPUID (the run returns VM_EXIT) and passes the rest. */
    private static final class ExitOnCpuid implements Virtualization {
        @Override public void execute(Cpu cpu, VmxInstruction which, Insn insn) { throw lhv.cpu.CpuFault.ud(); }
        @Override public long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
            if (what == Sensitive.CPUID) throw VmExitSignal.TO_JAVA;
            return what == Sensitive.LMSW ? a : what == Sensitive.CLTS ? 1 : b;
        }
        @Override public void atBoundary(Cpu cpu) { }
    }

    // ---- random programs ----

    /** Machine code with little-endian helpers. */
    static final class ProgramBuilder {
        final boolean long64;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        ProgramBuilder(boolean long64) {
            this.long64 = long64;
        }

        ProgramBuilder bytes(int... b) {
            for (int x : b) out.write(x);
            return this;
        }

        ProgramBuilder d(long v) {
            for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        ProgramBuilder q(long v) {
            for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
            return this;
        }

        int size() {
            return out.size();
        }

        byte[] code() {
            return out.toByteArray();
        }
    }

    /**
     * A program: set registers, then a loop counted in R13 (EBP) whose body is a random list of
     * items, then HLT. An item is one instruction or a short forward branch over the next item.
     */
    static byte[] program(Random r, boolean long64) {
        int[] free = long64 ? FREE64 : FREE32;
        ProgramBuilder p = new ProgramBuilder(long64);
        for (int reg : free) {
            long v = switch (r.nextInt(4)) {
                case 0 -> r.nextInt(16);
                case 1 -> r.nextInt();
                case 2 -> Guest.DATA + r.nextInt(4000);
                default -> r.nextLong();
            };
            if (long64) {
                p.bytes(0x48 | (reg >> 3), 0xB8 + (reg & 7)).q(v);
            } else {
                p.bytes(0xB8 + reg).d(v);
            }
        }
        if (long64) {
            p.bytes(0x49, 0xBF).q(Guest.DATA);                  // mov r15, DATA
            p.bytes(0x49, 0xBE).q(Guest.CODE);                  // mov r14, CODE
            p.bytes(0x41, 0xBD).d(2 + r.nextInt(40));          // mov r13d, n
        } else {
            p.bytes(0xBF).d(Guest.DATA);                        // mov edi, DATA
            p.bytes(0xBE).d(Guest.CODE);                        // mov esi, CODE
            p.bytes(0xBD).d(2 + r.nextInt(40));                // mov ebp, n
        }
        int loop = p.size();
        List<byte[]> items = new ArrayList<>();
        List<Integer> branches = new ArrayList<>();
        List<int[]> patches = new ArrayList<>();       // {item index of the store, item index of the mov-imm32 it patches}
        List<Integer> movImm = new ArrayList<>();
        int n = 3 + r.nextInt(40);
        for (int k = 0; k < n; k++) {
            int kind = r.nextInt(100);
            if (kind < 8) {
                branches.add(items.size());
                items.add(new byte[] {(byte) (r.nextBoolean() ? 0x70 + r.nextInt(16) : 0xEB), 0});
            } else if (kind == 8 && !long64 && r.nextInt(3) == 0) {
                // 16-bit operand size: the target is truncated to 16 bits (a jump far below the code)
                items.add(new byte[] {0x66, (byte) (0x70 + r.nextInt(16)), 0});
            } else if (kind < 11 && !movImm.isEmpty()) {
                patches.add(new int[] {items.size(), movImm.get(r.nextInt(movImm.size()))});
                int src = free[r.nextInt(Math.min(free.length, 4))];
                items.add(long64 ? new byte[] {0x41, (byte) 0x89, (byte) (0x86 | src << 3), 0, 0, 0, 0}
                        : new byte[] {(byte) 0x89, (byte) (0x86 | src << 3), 0, 0, 0, 0});
            } else if (kind < 16) {
                int reg = free[r.nextInt(Math.min(free.length, 4))];
                movImm.add(items.size());
                ProgramBuilder m = new ProgramBuilder(long64);
                m.bytes(0xB8 + reg).d(r.nextInt());
                items.add(m.code());
            } else {
                items.add(instruction(r, long64, free));
            }
        }
        int[] offsets = new int[items.size() + 1];
        for (int k = 0; k < items.size(); k++) offsets[k + 1] = offsets[k] + items.get(k).length;
        for (int b : branches) {
            items.get(b)[1] = (byte) (b + 1 < items.size() ? items.get(b + 1).length : 0);
        }
        for (int[] pt : patches) {
            byte[] st = items.get(pt[0]);
            long target = loop + offsets[pt[1]] + 1;       // the imm32 of "mov r32, imm32"
            for (int i = 0; i < 4; i++) st[st.length - 4 + i] = (byte) (target >>> (8 * i));
        }
        for (byte[] it : items) for (byte x : it) p.bytes(x & 0xFF);
        if (long64) p.bytes(0x41, 0xFF, 0xCD); else p.bytes(0x4D);   // dec r13d / dec ebp
        p.bytes(0x0F, 0x85).d(loop - (p.size() + 6));                // jnz loop
        p.bytes(0xF4);
        return p.code();
    }

    /** One random instruction over the free registers (64-bit forms only in long mode). */
    private static byte[] instruction(Random r, boolean long64, int[] free) {
        ProgramBuilder p = new ProgramBuilder(long64);
        int dst = free[r.nextInt(free.length)], src = long64 ? r.nextInt(16) : r.nextInt(8);
        boolean w = long64 && r.nextBoolean();
        int choice = r.nextInt(100);
        if (choice < 25) {                                  // ALU r/m, r (ADD OR ADC SBB AND SUB XOR CMP)
            rr(p, w, 0x01 + 8 * r.nextInt(8), src, dst);
        } else if (choice < 38) {                           // ALU r/m, imm8 / imm32
            boolean imm8 = r.nextBoolean();
            rr(p, w, imm8 ? 0x83 : 0x81, r.nextInt(8), dst);
            if (imm8) p.bytes(r.nextInt(256)); else p.d(r.nextInt());
        } else if (choice < 44) {                           // MOV r, r (both directions)
            if (r.nextBoolean()) rr(p, w, 0x89, src, dst); else rr(p, w, 0x8B, dst, src);
        } else if (choice < 50) {                           // INC / DEC / NOT / NEG
            int[] ext = {0, 1};
            if (r.nextBoolean()) rr(p, w, 0xFF, ext[r.nextInt(2)], dst); else rr(p, w, 0xF7, 2 + r.nextInt(2), dst);
        } else if (choice < 58) {                           // ROL ROR SHL SHR SAR by imm
            int[] kinds = {0, 1, 4, 5, 7};
            rr(p, w, 0xC1, kinds[r.nextInt(kinds.length)], dst);
            p.bytes(r.nextInt(64));
        } else if (choice < 62) {                           // LEA r, [base + index*scale + disp32] or RIP-relative
            int base = long64 ? r.nextInt(16) : r.nextInt(8), index = long64 ? r.nextInt(16) : r.nextInt(8);
            if ((index & 15) == 4) index = 5;
            if (long64 && r.nextInt(4) == 0) {
                rex(p, true, dst, 0, 0, false);
                p.bytes(0x8D, (dst & 7) << 3 | 5).d(r.nextInt(4096));
            } else {
                rex(p, w, dst, index, base, false);
                p.bytes(0x8D, 0x84 | (dst & 7) << 3, r.nextInt(4) << 6 | (index & 7) << 3 | (base & 7)).d(r.nextInt());
            }
        } else if (choice < 67) {                           // IMUL r, r/m, imm32 ; IMUL r, r/m
            if (r.nextBoolean()) {
                rr(p, w, 0x69, dst, src);
                p.d(r.nextInt());
            } else {
                rex(p, w, dst, 0, src, false);
                p.bytes(0x0F, 0xAF, 0xC0 | (dst & 7) << 3 | (src & 7));
            }
        } else if (choice < 79) {                           // loads and stores at the data base + disp8
            int dataBase = long64 ? 15 : 7, disp = r.nextInt(128);
            int opc = switch (r.nextInt(5)) {
                case 0 -> 0x8B;                             // load
                case 1 -> 0x89;                             // store
                case 2 -> 0x88;                             // byte store
                case 3 -> 0x01 + 8 * r.nextInt(8);          // ALU to memory
                default -> 0x03 + 8 * r.nextInt(8);         // ALU from memory
            };
            int reg = opc == 0x88 ? r.nextInt(4) : dst;
            rex(p, w, reg, 0, dataBase, false);
            p.bytes(opc, 0x40 | (reg & 7) << 3 | (dataBase & 7), disp);
        } else if (choice < 83) {                           // TEST r8, imm8 ; TEST r, r ; BT r, imm8 ; NOP
            switch (r.nextInt(4)) {
                case 0 -> p.bytes(0xF6, 0xC0 | r.nextInt(4), r.nextInt(256));
                case 1 -> rr(p, w, 0x85, src, dst);
                case 2 -> {
                    rex(p, w, 0, 0, src, false);
                    p.bytes(0x0F, 0xBA, 0xE0 | (src & 7), r.nextInt(256));
                }
                default -> p.bytes(0x90);
            }
        } else if (choice < 87) {                           // SETcc r8 ; CMOVcc r, r
            if (r.nextBoolean()) {
                p.bytes(0x0F, 0x90 + r.nextInt(16), 0xC0 | r.nextInt(4));
            } else {
                rex(p, w, dst, 0, src, false);
                p.bytes(0x0F, 0x40 + r.nextInt(16), 0xC0 | (dst & 7) << 3 | (src & 7));
            }
        } else if (choice < 91) {                           // PUSH r ; POP r
            int a = src, b = dst;
            if (long64) {
                if (a >= 8) p.bytes(0x41);
                p.bytes(0x50 + (a & 7));
                if (b >= 8) p.bytes(0x41);
                p.bytes(0x58 + (b & 7));
            } else {
                p.bytes(0x50 + a, 0x58 + b);
            }
        } else if (choice < 93) {
            p.bytes(0x0F, 0x31);                            // RDTSC (reads the retired count)
        } else if (choice < 95) {
            p.bytes(0x0F, 0xA2);                            // CPUID (a VM exit in the non-root runs)
        } else if (choice < 97) {
            rr(p, w, 0xF7, 6, free[r.nextInt(free.length)]); // DIV: #DE when it overflows
        } else {                                            // a load through any register: may #GP or #PF
            int base = free[r.nextInt(free.length)];
            if ((base & 7) == 4 || (base & 7) == 5) base = 0;
            rex(p, w, dst, 0, base, false);
            p.bytes(0x8B, (dst & 7) << 3 | (base & 7));
        }
        return p.code();
    }

    /** A ModRM register-register form: opcode, reg field {@code reg}, rm {@code rm}. */
    private static void rr(ProgramBuilder p, boolean w, int opcode, int reg, int rm) {
        rex(p, w, reg, 0, rm, false);
        p.bytes(opcode, 0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    private static void rex(ProgramBuilder p, boolean w, int reg, int index, int base, boolean force) {
        if (!p.long64) return;
        int rex = 0x40 | (w ? 8 : 0) | (reg >> 3) << 2 | (index >> 3) << 1 | (base >> 3);
        if (rex != 0x40 || force) p.bytes(rex);
    }
}
