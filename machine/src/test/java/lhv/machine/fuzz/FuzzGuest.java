package lhv.machine.fuzz;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.machine.Machine;

import java.io.OutputStream;
import java.util.Random;

/**
 * Test fixture for the fuzz properties: a small {@link Machine} whose processor is put straight
 * into one of the operating modes, with descriptor tables, a TSS and page tables laid out at fixed
 * physical addresses, every interrupt/exception handler pointing into the (random) code, and the
 * general registers filled with random values. Whatever the code does, a run must end in a
 * {@link StopReason}; any Java exception out of {@link Cpu#run} is an emulator defect.
 *
 * <p>Context: unit tests only (Java host).
 */
final class FuzzGuest implements AutoCloseable {
    enum Mode { REAL, PROTECTED32, PAGED32, PAE32, VIRTUAL8086, LONG64, COMPAT32, USER64 }

    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, GDT = 0x4000, IDT = 0x5000, TSS = 0x6000;
    static final long PD32 = 0x7000;
    static final long STACK_TOP = 0xF000, CODE = 0x10000;
    static final int CODE32 = 0x08, DATA32 = 0x10, CODE64 = 0x18, CODE16 = 0x20, DATA16 = 0x28, TSS_SEL = 0x30,
            CODE64_U = 0x43, DATA_U = 0x4B, CODE32_U = 0x53;

    final Machine machine;
    final Cpu cpu;

    FuzzGuest(Mode mode, byte[] code, long seed) {
        machine = Machine.builder().memory(4L << 20).console(OutputStream.nullOutputStream()).build();
        cpu = machine.cpu();
        try {
            setUp(mode, code, new Random(seed));
        } catch (RuntimeException | Error e) {
            machine.close();
            throw e;
        }
    }

    private static long seg(long base, long limit, int access, int flags) {
        long lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16;
        long hi = ((base >>> 16) & 0xFF) | (long) access << 8 | ((limit >>> 16) & 0xF) << 16
                | (long) flags << 20 | ((base >>> 24) & 0xFF) << 24;
        return lo | hi << 32;
    }

    private void setUp(Mode mode, byte[] code, Random rnd) {
        var m = machine.memory();
        m.load(CODE, code);
        long[] gdt = {
                0,
                seg(0, 0xFFFFF, 0x9B, 0xC),   // 0x08 code32
                seg(0, 0xFFFFF, 0x93, 0xC),   // 0x10 data
                seg(0, 0xFFFFF, 0x9B, 0xA),   // 0x18 code64
                seg(0, 0xFFFF, 0x9B, 0),      // 0x20 code16
                seg(0, 0xFFFF, 0x93, 0),      // 0x28 data16
                seg(TSS, 0x67, 0x89, 0),      // 0x30 TSS (64-bit: 16 bytes)
                0,
                seg(0, 0xFFFFF, 0xFB, 0xA),   // 0x40 code64 DPL3
                seg(0, 0xFFFFF, 0xF3, 0xC),   // 0x48 data DPL3
                seg(0, 0xFFFFF, 0xFB, 0xC),   // 0x50 code32 DPL3
        };
        for (int i = 0; i < gdt.length; i++) m.put64(GDT + 8L * i, gdt[i]);
        // TSS: ESP0/RSP0 and SS0, I/O map base beyond the limit (no I/O bitmap).
        m.put32(TSS + 4, STACK_TOP);
        m.put32(TSS + 8, DATA32);
        m.put16(TSS + 0x66, 0x68);
        for (int i = 0; i < 8; i++) m.put64(TSS + 0x24 + 8L * i, STACK_TOP - 0x800);   // IST1..7 (64-bit)
        int codeLen = Math.max(code.length, 1);
        cpu.reset();
        for (int r = 0; r < 16; r++) cpu.gpr[r] = interesting(rnd);
        cpu.gpr[Cpu.RSP] = STACK_TOP - (rnd.nextInt(16) * 4L);
        cpu.setRflags(0x2 | (rnd.nextLong() & 0x8D5) );   // status flags, DF; IF/TF off
        switch (mode) {
            case REAL -> {
                for (int v = 0; v < 256; v++) m.put32(4L * v, (CODE >>> 4) << 16 | ((v * 16L) % codeLen));
                for (Segment s : cpu.seg) s.loadReal(0);
                cpu.seg[Segment.CS].set((int) (CODE >>> 4), CODE, 0xFFFF, 0x9B);
                cpu.seg[Segment.SS].loadReal(0);
                cpu.gpr[Cpu.RSP] &= 0xFFFF;
                cpu.setIdtr(0, cpu.idtrLimit);
                cpu.setIdtr(cpu.idtrBase, 0x3FF);
                cpu.rip = 0;
                cpu.stateChanged();
                return;
            }
            case LONG64, COMPAT32, USER64 -> {
                m.put64(PML4, PDPT | 7);
                m.put64(PDPT, PD | 7);
                for (int i = 0; i < 512; i++) m.put64(PD + 8L * i, (i * 0x200000L) | 0x87);
                for (int v = 0; v < 256; v++) {
                    long h = CODE + (v * 16L) % codeLen;
                    int ist = v == 8 || v == 2 ? 1 : 0;
                    long lo = (h & 0xFFFF) | (long) CODE64 << 16 | (long) ist << 32 | (0x8EL | (v >= 0x20 ? 0x60 : 0)) << 40
                            | ((h >>> 16) & 0xFFFF) << 48;
                    m.put64(IDT + 16L * v, lo);
                    m.put64(IDT + 16L * v + 8, h >>> 32);
                }
                cpu.setIdtr(IDT, cpu.idtrLimit);
                cpu.setIdtr(cpu.idtrBase, 256 * 16 - 1);
                cpu.setCr3(PML4);
                cpu.setCr4(Cr.CR4_PAE | 0x600);   // OSFXSR, OSXMMEXCPT
                cpu.setEfer(Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_NXE | Cr.EFER_SCE);
                cpu.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET | Cr.CR0_NE | Cr.CR0_WP);
                cpu.star = (long) CODE64 << 32 | (long) (CODE32_U & ~3 | 0) << 48;
                cpu.lstar = CODE;
                if (mode == Mode.LONG64) {
                    cpu.seg[Segment.CS].set(CODE64, 0, 0xFFFFFFFF, 0xA09B);
                    dataSegments(DATA32, 0xC093);
                    cpu.cpl = 0;
                } else if (mode == Mode.COMPAT32) {
                    cpu.seg[Segment.CS].set(CODE32, 0, 0xFFFFFFFF, 0xC09B);
                    dataSegments(DATA32, 0xC093);
                    cpu.cpl = 0;
                } else {
                    cpu.seg[Segment.CS].set(CODE64_U, 0, 0xFFFFFFFF, 0xA0FB);
                    dataSegments(DATA_U, 0xC0F3);
                    cpu.cpl = 3;
                }
                // 64-bit TSS: RSP0 at offset 4.
                m.put64(TSS + 4, STACK_TOP);
                cpu.tr.set(TSS_SEL, TSS, 0x67, 0x8B);
            }
            default -> {
                for (int v = 0; v < 256; v++) {
                    long h = CODE + (v * 16L) % codeLen;
                    long lo = (h & 0xFFFF) | (long) CODE32 << 16 | (0x8EL | (v >= 0x20 ? 0x60 : 0)) << 40 | ((h >>> 16) & 0xFFFF) << 48;
                    m.put64(IDT + 8L * v, lo);
                }
                cpu.setIdtr(IDT, cpu.idtrLimit);
                cpu.setIdtr(cpu.idtrBase, 256 * 8 - 1);
                cpu.setCr0(Cr.CR0_PE | Cr.CR0_ET | Cr.CR0_NE);
                if (mode == Mode.PAGED32) {
                    for (int i = 0; i < 1024; i++) m.put32(PD32 + 4L * i, (i * 0x400000L) | 0x87);
                    cpu.setCr3(PD32);
                    cpu.setCr4(0x10 | 0x600);   // PSE
                    cpu.setCr0(cpu.cr0 | (Cr.CR0_PG | Cr.CR0_WP));
                } else if (mode == Mode.PAE32) {
                    for (int i = 0; i < 4; i++) m.put64(PDPT + 8L * i, (PD + 0x1000L * i) | 1);
                    for (int i = 0; i < 512 * 4; i++) m.put64(PD + 8L * i, (i * 0x200000L) | 0x87);
                    cpu.setCr3(PDPT);
                    cpu.setCr4(Cr.CR4_PAE | 0x600);
                    cpu.setCr0(cpu.cr0 | (Cr.CR0_PG | Cr.CR0_WP));
                }
                cpu.seg[Segment.CS].set(CODE32, 0, 0xFFFFFFFF, 0xC09B);
                dataSegments(DATA32, 0xC093);
                cpu.tr.set(TSS_SEL, TSS, 0x67, 0x8B);
                cpu.cpl = 0;
            }
        }
        cpu.setGdtr(GDT, cpu.gdtrLimit);
        cpu.setGdtr(cpu.gdtrBase, gdt.length * 8 - 1);
        cpu.rip = CODE;
        if (mode == Mode.VIRTUAL8086) {
            // 8086 segments at CPL 3 (SDM 20.2), IOPL random; events go to the ring-0 handlers via the TSS.
            for (Segment s : cpu.seg) s.set((int) (CODE >>> 4), CODE, 0xFFFF, 0xF3);
            cpu.seg[Segment.SS].set(0, 0, 0xFFFF, 0xF3);
            cpu.gpr[Cpu.RSP] &= 0xFFFF;
            cpu.cpl = 3;
            cpu.rip = 0;
            cpu.setRflags(cpu.getRflags() | 0x20000 | (rnd.nextInt(4) << 12));
        }
        cpu.stateChanged();
        cpu.mmu.flush(true);
        if (mode == Mode.PAE32) cpu.sys.writeCr(3, PDPT);   // loads the PDPTEs (SDM 4.4.1)
    }

    private void dataSegments(int selector, int ar) {
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
            cpu.seg[s].set(selector, 0, 0xFFFFFFFF, ar);
        }
    }

    /** Register values that hit edges: small, page-crossing, canonical edges, all ones, huge counts. */
    static long interesting(Random r) {
        return switch (r.nextInt(10)) {
            case 0 -> 0;
            case 1 -> -1L;
            case 2 -> 1L << 63;
            case 3 -> 0x00007FFFFFFFFFFFL + r.nextInt(3);
            case 4 -> 0xFFF + r.nextInt(3) - 1;
            case 5 -> CODE + r.nextInt(0x2000);
            case 6 -> r.nextInt(0x400000);
            case 7 -> 0xFEE00000L + r.nextInt(0x1000);
            case 8 -> r.nextInt(64);
            default -> r.nextLong();
        };
    }

    /** Runs at most {@code limit} instructions; any Java exception escapes to the caller (the property). */
    StopReason run(long limit) {
        return cpu.run(limit);
    }

    @Override
    public void close() {
        machine.close();
    }
}
