package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.sys.Breakpoints;
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
        int limit = c.repIterationLimit != 0 ? c.repIterationLimit : ITERATIONS_PER_STEP;
        for (int n = 0; ; n++) {
            long cnt = c.gpr[Cpu.RCX] & am;
            if (cnt == 0) return;
            if (n == limit) {
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
                if (c.breakpointsArmed) Breakpoints.ioAccess(c, port, size);
                long v = c.io.in(port, size) & mask(size);
                store(c, Segment.ES, di, size, v);
                advance(c, Cpu.RDI, as, am, delta);
                break;
            }
            default: { // OUTS
                int port = (int) (c.gpr[Cpu.RDX] & 0xFFFF);
                long v = load(c, i.seg, si, size);
                if (c.breakpointsArmed) Breakpoints.ioAccess(c, port, size);
                c.io.out(port, size, (int) v);
                advance(c, Cpu.RSI, as, am, delta);
            }
        }
    }

    // ---- IN / OUT ----

    static void in(Cpu c, Insn i, int port) {
        ioPermission(c, port, i.opSize);
        if (c.nonRoot && c.vmx.interceptEnds(c, Sensitive.IO, i, port, i.opSize | 0x100)) return;
        if (c.breakpointsArmed) Breakpoints.ioAccess(c, port, i.opSize);
        setReg(c, Cpu.RAX, i.opSize, false, c.io.in(port, i.opSize) & mask(i.opSize));
    }

    static void out(Cpu c, Insn i, int port) {
        ioPermission(c, port, i.opSize);
        if (c.nonRoot && c.vmx.interceptEnds(c, Sensitive.IO, i, port, i.opSize)) return;
        if (c.breakpointsArmed) Breakpoints.ioAccess(c, port, i.opSize);
        c.io.out(port, i.opSize, (int) getReg(c, Cpu.RAX, i.opSize, false));
    }

    /**
     * I/O permission (IOPL, TSS I/O bitmap; SDM Vol. 1 19.5) is checked by the system unit. These
     * #GP faults take priority over a VM exit (SDM Vol. 3C 26.1.1), so this runs first.
     */
    static void ioPermission(Cpu c, int port, int size) {
        if (c.mode == Mode.REAL) return;
        c.sys.checkIoPermission(port, size);
    }
}
