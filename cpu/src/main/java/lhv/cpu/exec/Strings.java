package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.Sensitive;

import static lhv.cpu.exec.Operands.*;

/**
 * String instructions MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS with REP/REPE/REPNE, and IN/OUT
 * (SDM Vol. 2 pages of the same names; Vol. 1 7.3.9 and chapter 19 for I/O).
 *
 * <p>Context: guest instruction execution. The source is DS:rSI (segment override allowed), the
 * destination always ES:rDI; rCX, rSI and rDI are used with the address size. Registers are
 * updated after every iteration, so a fault in the middle of a REP leaves them describing the
 * remaining work and re-executing the instruction resumes it (SDM Vol. 2 REP). A long REP yields
 * after {@link #ITERATIONS_PER_STEP} iterations by re-executing itself, so run limits, stop
 * requests and self-modifying stores are noticed.
 */
final class Strings {
    private Strings() { }

    static final int ITERATIONS_PER_STEP = 4096;

    static final int MOVS = 0, CMPS = 1, STOS = 2, LODS = 3, SCAS = 4, INS = 5, OUTS = 6;

    static void string(Cpu c, Insn i, int kind) {
        int size = i.opSize, as = i.addrSize;
        long am = addrMask(as);
        long delta = (c.rflags & Rflags.DF) != 0 ? -size : size;
        boolean rep = (i.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0;
        if (kind == INS || kind == OUTS) {
            int port = (int) (c.gpr[Cpu.RDX] & 0xFFFF);
            ioPermission(c, port, size);
            if (c.nonRoot) {
                c.vmx.intercept(c, Sensitive.IO, i, port, size | (kind == INS ? 0x100 : 0) | 0x200 | (rep ? 0x400 : 0));
            }
        }
        if (!rep) {
            iteration(c, i, kind, size, as, am, delta);
            return;
        }
        boolean repe = (i.prefixes & Insn.P_REP) != 0;
        for (int n = 0; ; n++) {
            long cnt = c.gpr[Cpu.RCX] & am;
            if (cnt == 0) return;
            if (n == ITERATIONS_PER_STEP) {
                c.rip = c.instructionStart;        // resume later: the instruction is restartable
                return;
            }
            iteration(c, i, kind, size, as, am, delta);
            setReg(c, Cpu.RCX, as, false, cnt - 1);
            if (kind == CMPS || kind == SCAS) {
                boolean zf = Flags.zf(c);
                if (repe ? !zf : zf) return;
            }
        }
    }

    private static void advance(Cpu c, int reg, int as, long am, long delta) {
        setReg(c, reg, as, false, (c.gpr[reg] + delta) & am);
    }

    private static void iteration(Cpu c, Insn i, int kind, int size, int as, long am, long delta) {
        long si = c.gpr[Cpu.RSI] & am, di = c.gpr[Cpu.RDI] & am;
        switch (kind) {
            case MOVS: {
                long v = load(c, i.seg, si, size);
                store(c, Segment.ES, di, size, v);
                advance(c, Cpu.RSI, as, am, delta);
                advance(c, Cpu.RDI, as, am, delta);
                break;
            }
            case CMPS: {
                long a = load(c, i.seg, si, size);
                long b = load(c, Segment.ES, di, size);
                advance(c, Cpu.RSI, as, am, delta);
                advance(c, Cpu.RDI, as, am, delta);
                Flags.record(c, Flags.SUB, size, (a - b) & mask(size), a, b);
                break;
            }
            case STOS:
                store(c, Segment.ES, di, size, c.gpr[Cpu.RAX]);
                advance(c, Cpu.RDI, as, am, delta);
                break;
            case LODS:
                setReg(c, Cpu.RAX, size, false, load(c, i.seg, si, size));
                advance(c, Cpu.RSI, as, am, delta);
                break;
            case SCAS: {
                long a = getReg(c, Cpu.RAX, size, false);
                long b = load(c, Segment.ES, di, size);
                advance(c, Cpu.RDI, as, am, delta);
                Flags.record(c, Flags.SUB, size, (a - b) & mask(size), a, b);
                break;
            }
            case INS: {
                int port = (int) (c.gpr[Cpu.RDX] & 0xFFFF);
                // Probe the destination first so a faulting store does not consume device input.
                load(c, Segment.ES, di, size);
                long v = c.io.in(port, size) & mask(size);
                store(c, Segment.ES, di, size, v);
                advance(c, Cpu.RDI, as, am, delta);
                break;
            }
            default: { // OUTS
                int port = (int) (c.gpr[Cpu.RDX] & 0xFFFF);
                long v = load(c, i.seg, si, size);
                c.io.out(port, size, (int) v);
                advance(c, Cpu.RSI, as, am, delta);
            }
        }
    }

    // ---- IN / OUT ----

    static void in(Cpu c, Insn i, int port) {
        ioPermission(c, port, i.opSize);
        if (c.nonRoot) c.vmx.intercept(c, Sensitive.IO, i, port, i.opSize | 0x100);
        setReg(c, Cpu.RAX, i.opSize, false, c.io.in(port, i.opSize) & mask(i.opSize));
    }

    static void out(Cpu c, Insn i, int port) {
        ioPermission(c, port, i.opSize);
        if (c.nonRoot) c.vmx.intercept(c, Sensitive.IO, i, port, i.opSize);
        c.io.out(port, i.opSize, (int) getReg(c, Cpu.RAX, i.opSize, false));
    }

    /**
     * I/O permission: in protected mode with CPL > IOPL, and always in virtual-8086 mode, every bit of
     * the port range must be clear in the TSS I/O permission bit map (SDM Vol. 1 19.5.1-19.5.2).
     * These #GP faults take priority over a VM exit (SDM Vol. 3C 26.1.1).
     */
    static void ioPermission(Cpu c, int port, int size) {
        if (c.mode == Mode.REAL) return;
        int iopl = (int) ((c.rflags & Rflags.IOPL) >>> 12);
        if (c.mode != Mode.VIRTUAL_8086 && c.cpl <= iopl) return;
        Segment tr = c.tr;
        int type = tr.type();
        // Only a 32-bit (or 64-bit) TSS has a bit map: available (9) or busy (11) types.
        if ((type != 9 && type != 11) || tr.unusable() || Integer.compareUnsigned(tr.limit, 0x67) < 0) throw CpuFault.gp0();
        long mapBase = c.mmu.readLinear(tr.base + 0x66, 2, true) & 0xFFFF;
        long at = mapBase + (port >>> 3);
        if (at + 1 > (tr.limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
        long bits = c.mmu.readLinear(tr.base + at, 2, true);
        long need = ((1L << size) - 1) << (port & 7);
        if ((bits & need) != 0) throw CpuFault.gp0();
    }
}
