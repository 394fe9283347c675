package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.CpuFault;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.mmu.TestRam;
import lhv.cpu.model.CpuModel;

import java.util.HexFormat;

/**
 * Test fixture: a processor on 8 MiB of RAM, put directly into 64-bit mode (identity-mapped with
 * 2 MiB pages), 32-bit flat protected mode or real mode, with code loaded at {@link #CODE}.
 * Programs end with HLT, which makes {@link Cpu#run} return HALTED. Context: unit tests only.
 */
final class Guest {
    static final long CODE = 0x100000, DATA = 0x200000, STACK_TOP = 0x90000;
    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000;
    static final long REAL_CODE = 0x7C00;

    final Cpu cpu;
    final TestRam ram;

    private Guest() {
        ram = new TestRam(8 << 20);
        cpu = new Cpu(CpuModel.withVmx(), ram);
    }

    /** 64-bit mode, CPL 0, identity paging of the first GiB with 2 MiB pages. */
    static Guest long64() {
        Guest g = new Guest();
        TestRam r = g.ram;
        r.q(PML4, PDPT | 7);
        r.q(PDPT, PD | 7);
        for (int i = 0; i < 512; i++) r.q(PD + i * 8L, (i * 0x200000L) | 0x87);
        Cpu c = g.cpu;
        c.setCr3(PML4);
        c.setCr4(Cr.CR4_PAE);
        c.setEfer(Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_NXE | Cr.EFER_SCE);
        c.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET | Cr.CR0_NE);
        c.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xA09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
            c.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        }
        c.stateChanged();
        c.mmu.flush(true);
        c.gpr[Cpu.RSP] = STACK_TOP;
        c.rip = CODE;
        return g;
    }

    static final long GDT = 0x4000, IDT = 0x5000, HANDLERS = 0x6000;

    /**
     * 64-bit mode with a GDT (0x08 code, 0x10 data) and an IDT whose vector v handler at
     * HANDLERS + 4v is "mov al, v; hlt": a delivered event ends the run with AL = vector.
     */
    static Guest long64WithIdt() {
        Guest g = long64();
        TestRam r = g.ram;
        r.q(GDT, 0);
        r.q(GDT + 8, 0x00AF9A000000FFFFL);
        r.q(GDT + 16, 0x00CF92000000FFFFL);
        for (int v = 0; v < 256; v++) {
            long h = HANDLERS + 4L * v;
            r.b(h, 0xB0);
            r.b(h + 1, v);
            r.b(h + 2, 0xF4);
            long lo = (h & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((h >>> 16) & 0xFFFF) << 48;
            r.q(IDT + 16L * v, lo);
            r.q(IDT + 16L * v + 8, h >>> 32);
        }
        g.cpu.setGdtr(GDT, g.cpu.gdtrLimit);
        g.cpu.setGdtr(g.cpu.gdtrBase, 23);
        g.cpu.setIdtr(IDT, g.cpu.idtrLimit);
        g.cpu.setIdtr(g.cpu.idtrBase, 256 * 16 - 1);
        return g;
    }

    /** 32-bit protected mode, flat 4 GiB segments (GDT: 0x08 code, 0x10 data), no paging, CPL 0. */
    static Guest flat32() {
        Guest g = new Guest();
        Cpu c = g.cpu;
        g.ram.q(GDT, 0);
        g.ram.q(GDT + 8, 0x00CF9A000000FFFFL);
        g.ram.q(GDT + 16, 0x00CF92000000FFFFL);
        c.setGdtr(GDT, c.gdtrLimit);
        c.setGdtr(c.gdtrBase, 23);
        c.setCr0(Cr.CR0_PE | Cr.CR0_ET | Cr.CR0_NE);
        c.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xC09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS, Segment.FS, Segment.GS}) {
            c.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        }
        c.stateChanged();
        c.mmu.flush(true);
        c.gpr[Cpu.RSP] = STACK_TOP;
        c.rip = CODE;
        return g;
    }

    /** Real-address mode with all segments at 0 and code at 0000:7C00. */
    static Guest real16() {
        Guest g = new Guest();
        Cpu c = g.cpu;
        for (Segment s : c.seg) s.loadReal(0);
        c.stateChanged();
        c.gpr[Cpu.RSP] = 0x7000;
        c.rip = REAL_CODE;
        return g;
    }

    Guest code(String hex) {
        return codeAt(cpu.mode == lhv.cpu.Mode.REAL ? REAL_CODE : CODE, hex);
    }

    Guest codeAt(long pa, String hex) {
        byte[] b = HexFormat.of().parseHex(hex.replace(" ", ""));
        for (int i = 0; i < b.length; i++) ram.b(pa + i, b[i]);
        cpu.codeMap.writtenRange(pa, b.length);
        return this;
    }

    StopReason run() {
        return cpu.run(10_000_000);
    }

    /** Runs and requires HLT to end the run; otherwise fails with what happened instead. */
    Guest runToHalt() {
        StopReason r = run();
        if (r != StopReason.HALTED) {
            throw new AssertionError("run ended with " + r + " at rip=" + Long.toHexString(cpu.rip)
                    + " (" + cpu.notImplementedMessage + ", last fault " + cpu.interpreter.lastFault + ")");
        }
        return this;
    }

    /** Runs until the first instruction fault; returns it (RIP is left at the faulting instruction). */
    CpuFault runToFault() {
        CpuFault[] seen = new CpuFault[1];
        cpu.interpreter.faultObserver = f -> { seen[0] = f; return true; };
        StopReason r = run();
        cpu.interpreter.faultObserver = null;
        if (seen[0] == null) throw new AssertionError("no fault; run ended with " + r + " " + cpu.notImplementedMessage);
        return seen[0];
    }

    long reg(int r) {
        return cpu.gpr[r];
    }
}
