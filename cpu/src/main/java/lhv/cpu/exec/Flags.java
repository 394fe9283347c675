package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Rflags;

/**
 * Lazy arithmetic status flags (CF PF AF ZF SF OF, SDM Vol. 1 3.4.3.1).
 *
 * <p>Context: guest instruction execution. ADD/ADC/SUB/SBB/CMP/NEG, the logical operations and
 * INC/DEC only record their kind, operand size, operands and result in {@link Cpu#flagsOp} and
 * friends; a flag is derived when something reads it (Jcc, SETcc, PUSHF, an exception...).
 * Instructions with rarer, irregular flag rules (shifts, multiplies, bit operations) compute their
 * flags at once with {@link #setStatus}.
 *
 * <p>All recorded values are truncated to the operand size. ADC and SBB share the ADD/SUB formulas:
 * carry out of the top bit and overflow follow from the operands and the result alone, whatever the
 * carry in was.
 */
public final class Flags {
    private Flags() { }

    /** Kinds of recorded operation. NONE: the status bits of cpu.rflags are current. */
    public static final int NONE = 0, ADD = 1, SUB = 2, LOGIC = 3, INC = 4, DEC = 5, ADC = 6, SBB = 7;
    /**
     * Shifts by a non-zero count below the operand width (a = original value, b = count): CF is
     * the last bit shifted out, OF as the SDM defines it for a count of 1 (MSB(result) XOR CF for
     * SHL, MSB(original) for SHR, 0 for SAR) and 0 for larger counts except SHL, AF = 0.
     */
    public static final int SHL = 8, SHR = 9, SAR = 10;

    public static final long CF = Rflags.CF, PF = Rflags.PF, AF = Rflags.AF, ZF = Rflags.ZF,
            SF = Rflags.SF, OF = Rflags.OF, STATUS = Rflags.STATUS;

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size << 3)) - 1;
    }

    static int topBit(int size) {
        return (size << 3) - 1;
    }

    /** Records a lazily evaluated flag-setting operation. */
    static void record(Cpu c, int kind, int size, long res, long a, long b) {
        c.flagsOp = kind;
        c.flagsSize = size;
        c.flagsRes = res;
        c.flagsA = a;
        c.flagsB = b;
    }

    /** INC/DEC keep CF: fold the current CF into rflags before recording them. */
    static void keepCarry(Cpu c) {
        int k = c.flagsOp;
        if (k != NONE && k != INC && k != DEC) foldCarry(c);
    }

    /** Kept out of {@link #keepCarry} so that stays small enough to inline at every INC/DEC. */
    private static void foldCarry(Cpu c) {
        c.rflags = (c.rflags & ~CF) | (cf(c) ? CF : 0);
    }

    /** Sets all six status flags at once (eager evaluation). */
    static void setStatus(Cpu c, long bits) {
        c.flagsOp = NONE;
        c.rflags = (c.rflags & ~STATUS) | (bits & STATUS);
    }

    /** Materializes the status flags into cpu.rflags (one pass per recorded kind). */
    public static void materialize(Cpu c) {
        int k = c.flagsOp;
        if (k == NONE) return;
        long a = c.flagsA, b = c.flagsB, r = c.flagsRes;
        int top = topBit(c.flagsSize);
        long bits = (r == 0 ? ZF : 0) | (((r >>> top) & 1) != 0 ? SF : 0) | parity(r);
        switch (k) {
            case ADD: case ADC:
                bits |= ((((a & b) | ((a | b) & ~r)) >>> top) & 1) * CF
                        | ((((a ^ r) & (b ^ r)) >>> top) & 1) * OF | (((a ^ b ^ r) >>> 4) & 1) * AF;
                break;
            case SUB: case SBB:
                bits |= ((((~a & b) | ((~a | b) & r)) >>> top) & 1) * CF
                        | ((((a ^ b) & (a ^ r)) >>> top) & 1) * OF | (((a ^ b ^ r) >>> 4) & 1) * AF;
                break;
            case INC:
                bits |= (c.rflags & CF) | ((((a ^ r) & (b ^ r)) >>> top) & 1) * OF | (((a ^ b ^ r) >>> 4) & 1) * AF;
                break;
            case DEC:
                bits |= (c.rflags & CF) | ((((a ^ b) & (a ^ r)) >>> top) & 1) * OF | (((a ^ b ^ r) >>> 4) & 1) * AF;
                break;
            case LOGIC:
                break;
            default:                                   // SHL, SHR, SAR
                bits |= (cf(c) ? CF : 0) | (of(c) ? OF : 0);
        }
        c.rflags = (c.rflags & ~STATUS) | bits;
        c.flagsOp = NONE;
    }

    /** SF, ZF and PF of a result, for eagerly evaluated instructions. */
    static long szp(long res, int size) {
        long r = res & mask(size);
        return (r == 0 ? ZF : 0) | (((r >>> topBit(size)) & 1) != 0 ? SF : 0) | parity(r);
    }

    static long parity(long res) {
        return (Integer.bitCount((int) res & 0xFF) & 1) == 0 ? PF : 0;
    }

    public static boolean cf(Cpu c) {
        long a = c.flagsA, b = c.flagsB, r = c.flagsRes;
        switch (c.flagsOp) {
            case ADD: case ADC: return (((a & b) | ((a | b) & ~r)) >>> topBit(c.flagsSize) & 1) != 0;
            case SUB: case SBB: return (((~a & b) | ((~a | b) & r)) >>> topBit(c.flagsSize) & 1) != 0;
            case LOGIC: return false;
            case SHL: return ((a >>> ((c.flagsSize << 3) - b)) & 1) != 0;
            case SHR: return ((a >>> (b - 1)) & 1) != 0;
            case SAR: return (((a << (64 - (c.flagsSize << 3)) >> (64 - (c.flagsSize << 3))) >> (b - 1)) & 1) != 0;
            default: return (c.rflags & CF) != 0;
        }
    }

    public static boolean zf(Cpu c) {
        return c.flagsOp == NONE ? (c.rflags & ZF) != 0 : c.flagsRes == 0;
    }

    public static boolean sf(Cpu c) {
        return c.flagsOp == NONE ? (c.rflags & SF) != 0 : ((c.flagsRes >>> topBit(c.flagsSize)) & 1) != 0;
    }

    public static boolean of(Cpu c) {
        long a = c.flagsA, b = c.flagsB, r = c.flagsRes;
        switch (c.flagsOp) {
            case ADD: case INC: case ADC: return ((((a ^ r) & (b ^ r)) >>> topBit(c.flagsSize)) & 1) != 0;
            case SUB: case DEC: case SBB: return ((((a ^ b) & (a ^ r)) >>> topBit(c.flagsSize)) & 1) != 0;
            case LOGIC: case SAR: return false;
            case SHL: return (((r >>> topBit(c.flagsSize)) & 1) != 0) != cf(c);
            case SHR: return b == 1 && ((a >>> topBit(c.flagsSize)) & 1) != 0;
            default: return (c.rflags & OF) != 0;
        }
    }

    public static boolean pf(Cpu c) {
        return c.flagsOp == NONE ? (c.rflags & PF) != 0 : parity(c.flagsRes) != 0;
    }

    public static boolean af(Cpu c) {
        switch (c.flagsOp) {
            case NONE: return (c.rflags & AF) != 0;
            case LOGIC: case SHL: case SHR: case SAR: return false;   // undefined; cleared as by Shift
            default: return (((c.flagsA ^ c.flagsB ^ c.flagsRes) >>> 4) & 1) != 0;
        }
    }

    /**
     * Condition code cc (0..15) of Jcc/SETcc/CMOVcc, SDM Vol. 1 Table B-1: O NO B AE E NE BE A S NS
     * P NP L GE LE G.
     */
    public static boolean cond(Cpu c, int cc) {
        int k = c.flagsOp;
        if (k == SUB) return subCond(c, cc);
        if (k == LOGIC) return logicCond(c, cc);
        if ((k == DEC || k == INC) && (cc >>> 1) == 2) return (c.flagsRes == 0) ^ ((cc & 1) != 0);
        return slowCond(c, cc >>> 1) ^ ((cc & 1) != 0);
    }

    /** After CMP/SUB/NEG the conditions are plain comparisons of the operands. */
    private static boolean subCond(Cpu c, int cc) {
        long a = c.flagsA, b = c.flagsB;
        int sh = 64 - (c.flagsSize << 3);
        boolean r;
        switch (cc >>> 1) {
            case 1: r = Long.compareUnsigned(a, b) < 0; break;
            case 2: r = a == b; break;
            case 3: r = Long.compareUnsigned(a, b) <= 0; break;
            case 6: r = (a << sh >> sh) < (b << sh >> sh); break;
            case 7: r = (a << sh >> sh) <= (b << sh >> sh); break;
            default: r = slowCond(c, cc >>> 1);
        }
        return r ^ ((cc & 1) != 0);
    }

    /** After logical operations CF = OF = 0. */
    private static boolean logicCond(Cpu c, int cc) {
        long v = c.flagsRes;
        boolean neg = ((v >>> topBit(c.flagsSize)) & 1) != 0;
        boolean r;
        switch (cc >>> 1) {
            case 0: case 1: r = false; break;
            case 2: case 3: r = v == 0; break;
            case 4: case 6: r = neg; break;
            case 7: r = v == 0 || neg; break;
            default: r = parity(v) != 0;
        }
        return r ^ ((cc & 1) != 0);
    }

    private static boolean slowCond(Cpu c, int kind) {
        switch (kind) {
            case 0: return of(c);
            case 1: return cf(c);
            case 2: return zf(c);
            case 3: return cf(c) || zf(c);
            case 4: return sf(c);
            case 5: return pf(c);
            case 6: return sf(c) != of(c);
            default: return zf(c) || sf(c) != of(c);
        }
    }
}
