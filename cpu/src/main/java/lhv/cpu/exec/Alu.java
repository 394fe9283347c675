package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP, TEST, INC, DEC, NOT, NEG and the
 * BCD adjustments (SDM Vol. 2 instruction pages of the same names).
 *
 * <p>Context: guest instruction execution. A memory destination is written before the flags change,
 * so a faulting store leaves RFLAGS as it was (the instruction did not happen).
 */
final class Alu {
    private Alu() { }

    static final int ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7;

    /** The result of ALU operation {@code op} on size-truncated a and b (flags not yet touched). */
    static long result(Cpu c, int op, long a, long b, long m) {
        switch (op) {
            case ADD: return (a + b) & m;
            case OR: return a | b;
            case ADC: return (a + b + (Flags.cf(c) ? 1 : 0)) & m;
            case SBB: return (a - b - (Flags.cf(c) ? 1 : 0)) & m;
            case AND: return a & b;
            case XOR: return a ^ b;
            default: return (a - b) & m;       // SUB, CMP
        }
    }

    static void flags(Cpu c, int op, int size, long a, long b, long r) {
        switch (op) {
            case ADD: Flags.record(c, Flags.ADD, size, r, a, b); break;
            case ADC: Flags.record(c, Flags.ADC, size, r, a, b); break;
            case SBB: Flags.record(c, Flags.SBB, size, r, a, b); break;
            case OR: case AND: case XOR: Flags.record(c, Flags.LOGIC, size, r, a, b); break;
            default: Flags.record(c, Flags.SUB, size, r, a, b); break;
        }
    }

    static void aluEG(Cpu c, Insn i) {
        int size = i.opSize, op = i.sub;
        long m = mask(size);
        long b = readG(c, i);
        if (i.mem) {
            long off = ea(c, i);
            long a = load(c, i.seg, off, size);
            long r = result(c, op, a, b, m);
            if (op != CMP) store(c, i.seg, off, size, r);
            flags(c, op, size, a, b, r);
        } else {
            boolean hi = (i.highByte & 2) != 0;
            long a = getReg(c, i.rm, size, hi);
            long r = result(c, op, a, b, m);
            if (op != CMP) setReg(c, i.rm, size, hi, r);
            flags(c, op, size, a, b, r);
        }
    }

    static void aluGE(Cpu c, Insn i) {
        int size = i.opSize, op = i.sub;
        long b = readE(c, i);
        long a = readG(c, i);
        long r = result(c, op, a, b, mask(size));
        if (op != CMP) writeG(c, i, r);
        flags(c, op, size, a, b, r);
    }

    static void aluEI(Cpu c, Insn i) {
        int size = i.opSize, op = i.sub;
        long m = mask(size);
        long b = i.imm & m;
        if (i.mem) {
            long off = ea(c, i);
            long a = load(c, i.seg, off, size);
            long r = result(c, op, a, b, m);
            if (op != CMP) store(c, i.seg, off, size, r);
            flags(c, op, size, a, b, r);
        } else {
            boolean hi = (i.highByte & 2) != 0;
            long a = getReg(c, i.rm, size, hi);
            long r = result(c, op, a, b, m);
            if (op != CMP) setReg(c, i.rm, size, hi, r);
            flags(c, op, size, a, b, r);
        }
    }

    static void testEG(Cpu c, Insn i) {
        long r = readE(c, i) & readG(c, i);
        Flags.record(c, Flags.LOGIC, i.opSize, r, 0, 0);
    }

    static void testEI(Cpu c, Insn i) {
        long r = readE(c, i) & i.imm & mask(i.opSize);
        Flags.record(c, Flags.LOGIC, i.opSize, r, 0, 0);
    }

    static void incDec(Cpu c, Insn i, boolean inc) {
        int size = i.opSize;
        long m = mask(size);
        long a, r;
        if (i.mem) {
            long off = ea(c, i);
            a = load(c, i.seg, off, size);
            r = (inc ? a + 1 : a - 1) & m;
            store(c, i.seg, off, size, r);
        } else {
            boolean hi = (i.highByte & 2) != 0;
            a = getReg(c, i.rm, size, hi);
            r = (inc ? a + 1 : a - 1) & m;
            setReg(c, i.rm, size, hi, r);
        }
        Flags.keepCarry(c);
        Flags.record(c, inc ? Flags.INC : Flags.DEC, size, r, a, 1);
    }

    static void not(Cpu c, Insn i) {
        long m = mask(i.opSize);
        if (i.mem) {
            long off = ea(c, i);
            store(c, i.seg, off, i.opSize, ~load(c, i.seg, off, i.opSize) & m);
        } else {
            writeRmReg(c, i, ~readE(c, i) & m);
        }
    }

    static void neg(Cpu c, Insn i) {
        int size = i.opSize;
        long m = mask(size);
        long a, r;
        if (i.mem) {
            long off = ea(c, i);
            a = load(c, i.seg, off, size);
            r = -a & m;
            store(c, i.seg, off, size, r);
        } else {
            a = readE(c, i);
            r = -a & m;
            writeRmReg(c, i, r);
        }
        Flags.record(c, Flags.SUB, size, r, 0, a);
    }

    // ---- BCD (legacy modes only; the decoder makes them #UD in 64-bit mode) ----

    /** DAA, SDM Vol. 2: decimal adjust AL after addition. OF is undefined; we leave it clear. */
    static void daa(Cpu c) {
        long al = c.gpr[Cpu.RAX] & 0xFF, oldAl = al;
        boolean cf = Flags.cf(c), oldCf = cf, af = Flags.af(c);
        cf = false;
        if ((al & 0xF) > 9 || af) { al = (al + 6) & 0xFF; cf = oldCf || oldAl + 6 > 0xFF; af = true; } else af = false;
        if (oldAl > 0x99 || oldCf) { al = (al + 0x60) & 0xFF; cf = true; } else cf = false;
        setAl(c, al);
        Flags.setStatus(c, Flags.szp(al, 1) | (cf ? Flags.CF : 0) | (af ? Flags.AF : 0));
    }

    /** DAS, SDM Vol. 2: decimal adjust AL after subtraction. */
    static void das(Cpu c) {
        long al = c.gpr[Cpu.RAX] & 0xFF, oldAl = al;
        boolean oldCf = Flags.cf(c), af = Flags.af(c), cf = false;
        if ((al & 0xF) > 9 || af) { cf = oldCf || al < 6; al = (al - 6) & 0xFF; af = true; } else af = false;
        if (oldAl > 0x99 || oldCf) { al = (al - 0x60) & 0xFF; cf = true; }
        setAl(c, al);
        Flags.setStatus(c, Flags.szp(al, 1) | (cf ? Flags.CF : 0) | (af ? Flags.AF : 0));
    }

    /** AAA / AAS: ASCII adjust after addition / subtraction (OF, SF, ZF, PF undefined: computed from AL). */
    static void aaaAas(Cpu c, boolean add) {
        long ax = c.gpr[Cpu.RAX] & 0xFFFF;
        boolean adj = (ax & 0xF) > 9 || Flags.af(c);
        if (adj) {
            if (add) ax = (ax + 0x106) & 0xFFFF;
            else ax = (ax - 6 - 0x100) & 0xFFFF;     // SDM AAS: AX <- AX - 6 (borrowing from AH), AH <- AH - 1
        }
        ax &= 0xFF0F;
        c.gpr[Cpu.RAX] = (c.gpr[Cpu.RAX] & ~0xFFFFL) | ax;
        Flags.setStatus(c, Flags.szp(ax & 0xFF, 1) | (adj ? Flags.CF | Flags.AF : 0));
    }

    /** AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE when imm8 = 0. */
    static void aam(Cpu c, Insn i) {
        int base = (int) i.imm & 0xFF;
        if (base == 0) throw CpuFault.de();
        long al = c.gpr[Cpu.RAX] & 0xFF;
        long ax = ((al / base) << 8) | (al % base);
        c.gpr[Cpu.RAX] = (c.gpr[Cpu.RAX] & ~0xFFFFL) | ax;
        Flags.setStatus(c, Flags.szp(ax & 0xFF, 1));
    }

    /** AAD imm8: AL = (AL + AH * imm8) & 0xFF, AH = 0. */
    static void aad(Cpu c, Insn i) {
        long ax = c.gpr[Cpu.RAX];
        long al = ((ax & 0xFF) + ((ax >>> 8) & 0xFF) * (i.imm & 0xFF)) & 0xFF;
        c.gpr[Cpu.RAX] = (ax & ~0xFFFFL) | al;
        Flags.setStatus(c, Flags.szp(al, 1));
    }

    private static void setAl(Cpu c, long al) {
        c.gpr[Cpu.RAX] = (c.gpr[Cpu.RAX] & ~0xFFL) | al;
    }
}
