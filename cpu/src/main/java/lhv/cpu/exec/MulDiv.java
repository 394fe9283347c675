package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV (SDM Vol. 2 pages of the same names).
 *
 * <p>Context: guest instruction execution. CF = OF tell whether the product needed the upper half;
 * SF/ZF/AF/PF are undefined after multiplies (we give SF/ZF/PF of the low half and clear AF) and all
 * status flags are undefined after divides (left unchanged here). Division by zero and quotients
 * that do not fit raise #DE.
 */
final class MulDiv {
    private MulDiv() { }

    private static void mulFlags(Cpu c, long low, int size, boolean overflow) {
        Flags.setStatus(c, Flags.szp(low, size) | (overflow ? Flags.CF | Flags.OF : 0));
    }

    /** MUL r/m: unsigned AX / DX:AX / EDX:EAX / RDX:RAX = accumulator * source. */
    static void mul(Cpu c, Insn i) {
        long src = readE(c, i);
        long[] g = c.gpr;
        switch (i.opSize) {
            case 1: {
                long p = (g[0] & 0xFF) * src;
                g[0] = (g[0] & ~0xFFFFL) | p;
                mulFlags(c, p & 0xFF, 1, (p >>> 8) != 0);
                break;
            }
            case 2: {
                long p = (g[0] & 0xFFFF) * src;
                g[0] = (g[0] & ~0xFFFFL) | (p & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | ((p >>> 16) & 0xFFFF);
                mulFlags(c, p & 0xFFFF, 2, (p >>> 16) != 0);
                break;
            }
            case 4: {
                long p = (g[0] & 0xFFFFFFFFL) * src;
                g[0] = p & 0xFFFFFFFFL;
                g[2] = p >>> 32;
                mulFlags(c, p, 4, (p >>> 32) != 0);
                break;
            }
            default: {
                long a = g[0];
                long hi = Math.unsignedMultiplyHigh(a, src);
                long lo = a * src;
                g[0] = lo;
                g[2] = hi;
                mulFlags(c, lo, 8, hi != 0);
            }
        }
    }

    /** IMUL r/m (one operand): signed double-width product in the accumulator pair. */
    static void imul1(Cpu c, Insn i) {
        long src = signExtend(readE(c, i), i.opSize);
        long[] g = c.gpr;
        switch (i.opSize) {
            case 1: {
                long p = (byte) g[0] * src;
                g[0] = (g[0] & ~0xFFFFL) | (p & 0xFFFF);
                mulFlags(c, p, 1, p != (byte) p);
                break;
            }
            case 2: {
                long p = (short) g[0] * src;
                g[0] = (g[0] & ~0xFFFFL) | (p & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | ((p >>> 16) & 0xFFFF);
                mulFlags(c, p, 2, p != (short) p);
                break;
            }
            case 4: {
                long p = (int) g[0] * src;
                g[0] = p & 0xFFFFFFFFL;
                g[2] = (p >>> 32) & 0xFFFFFFFFL;
                mulFlags(c, p, 4, p != (int) p);
                break;
            }
            default: {
                long a = g[0];
                long hi = Math.multiplyHigh(a, src);
                long lo = a * src;
                g[0] = lo;
                g[2] = hi;
                mulFlags(c, lo, 8, hi != (lo >> 63));
            }
        }
    }

    /** IMUL r, r/m and IMUL r, r/m, imm: truncated signed product. */
    static void imul(Cpu c, Insn i, long a, long b) {
        int size = i.opSize;
        long sa = signExtend(a, size), sb = signExtend(b, size);
        long lo = sa * sb;
        boolean overflow;
        if (size == 8) overflow = Math.multiplyHigh(sa, sb) != (lo >> 63);
        else overflow = lo != signExtend(lo, size);
        writeG(c, i, lo & mask(size));
        mulFlags(c, lo, size, overflow);
    }

    /** DIV r/m: unsigned; #DE for a zero divisor or a quotient wider than the operand. */
    static void div(Cpu c, Insn i) {
        int size = i.opSize;
        long d = readE(c, i);
        if (d == 0) throw CpuFault.de();
        long[] g = c.gpr;
        switch (size) {
            case 1: {
                long n = g[0] & 0xFFFF;
                long q = n / d, r = n % d;
                if (q > 0xFF) throw CpuFault.de();
                g[0] = (g[0] & ~0xFFFFL) | (r << 8) | q;
                break;
            }
            case 2: {
                long n = ((g[2] & 0xFFFF) << 16) | (g[0] & 0xFFFF);
                long q = n / d, r = n % d;
                if (q > 0xFFFF) throw CpuFault.de();
                g[0] = (g[0] & ~0xFFFFL) | q;
                g[2] = (g[2] & ~0xFFFFL) | r;
                break;
            }
            case 4: {
                long n = ((g[2] & 0xFFFFFFFFL) << 32) | (g[0] & 0xFFFFFFFFL);
                long q = Long.divideUnsigned(n, d), r = Long.remainderUnsigned(n, d);
                if ((q >>> 32) != 0) throw CpuFault.de();
                g[0] = q;
                g[2] = r;
                break;
            }
            default: {
                long hi = g[2], lo = g[0];
                if (Long.compareUnsigned(hi, d) >= 0) throw CpuFault.de();
                long q = hi == 0 ? Long.divideUnsigned(lo, d) : udiv128(hi, lo, d);
                g[0] = q;
                g[2] = lo - q * d;          // remainder: (hi:lo) - q*d fits in 64 bits
            }
        }
    }

    /** IDIV r/m: signed, quotient truncated toward zero; #DE when it does not fit. */
    static void idiv(Cpu c, Insn i) {
        int size = i.opSize;
        long d = signExtend(readE(c, i), size);
        if (d == 0) throw CpuFault.de();
        long[] g = c.gpr;
        switch (size) {
            case 1: {
                long n = (short) g[0];
                long q = n / d, r = n % d;
                if (q != (byte) q) throw CpuFault.de();
                g[0] = (g[0] & ~0xFFFFL) | ((r & 0xFF) << 8) | (q & 0xFF);
                break;
            }
            case 2: {
                long n = (int) (((g[2] & 0xFFFF) << 16) | (g[0] & 0xFFFF));
                long q = n / d, r = n % d;
                if (q != (short) q) throw CpuFault.de();
                g[0] = (g[0] & ~0xFFFFL) | (q & 0xFFFF);
                g[2] = (g[2] & ~0xFFFFL) | (r & 0xFFFF);
                break;
            }
            case 4: {
                long n = ((g[2] & 0xFFFFFFFFL) << 32) | (g[0] & 0xFFFFFFFFL);
                if (n == Long.MIN_VALUE && d == -1) throw CpuFault.de();
                long q = n / d, r = n % d;
                if (q != (int) q) throw CpuFault.de();
                g[0] = q & 0xFFFFFFFFL;
                g[2] = r & 0xFFFFFFFFL;
                break;
            }
            default: {
                long hi = g[2], lo = g[0];
                if (hi == (lo >> 63)) {
                    if (lo == Long.MIN_VALUE && d == -1) throw CpuFault.de();
                    g[0] = lo / d;
                    g[2] = lo % d;
                } else {
                    // Divide magnitudes, then apply the signs (quotient truncated toward zero).
                    boolean negN = hi < 0, negQ = negN != (d < 0);
                    long mh = hi, ml = lo;
                    if (negN) { ml = -lo; mh = ~hi + (lo == 0 ? 1 : 0); }
                    long md = d < 0 ? -d : d;
                    if (Long.compareUnsigned(mh, md) >= 0) throw CpuFault.de();
                    long qm = udiv128(mh, ml, md);
                    if (negQ ? Long.compareUnsigned(qm, Long.MIN_VALUE) > 0 : qm < 0) throw CpuFault.de();
                    long q = negQ ? -qm : qm;
                    g[0] = q;
                    g[2] = lo - q * d;
                }
            }
        }
    }

    /**
     * Unsigned 128-by-64-bit division (hi:lo) / d for hi < d, so the quotient fits in 64 bits:
     * restoring division, one quotient bit per step, without allocation.
     */
    static long udiv128(long hi, long lo, long d) {
        long q = 0, r = hi;
        for (int k = 63; k >= 0; k--) {
            boolean top = r < 0;                       // bit 64 of the shifted remainder
            r = (r << 1) | ((lo >>> k) & 1);
            q <<= 1;
            if (top || Long.compareUnsigned(r, d) >= 0) {
                r -= d;
                q |= 1;
            }
        }
        return q;
    }
}
