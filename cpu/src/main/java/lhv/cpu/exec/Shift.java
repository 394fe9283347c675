package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR, SHLD, SHRD (SDM Vol. 2 "RCL/RCR/ROL/ROR",
 * "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 *
 * <p>Context: guest instruction execution. The count is masked to 5 bits (6 with 64-bit operands);
 * a masked count of 0 changes neither the destination nor any flag. Flags the SDM leaves undefined
 * get the values Intel's reference pseudocode would give (OF for counts above 1 computed as for 1,
 * AF cleared); the differential tests mask them.
 */
final class Shift {
    private Shift() { }

    static final int ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;

    static void shift(Cpu c, Insn i, int count) {
        int size = i.opSize;
        int cnt = count & (size == 8 ? 0x3F : 0x1F);
        if (cnt == 0) {
            countZero(c, i);
            return;
        }
        int kind = i.sub;
        boolean cfIn = (kind == RCL || kind == RCR) && Flags.cf(c);
        if (i.mem) {
            long off = ea(c, i);
            long a = load(c, i.seg, off, size);
            long r = result(kind, size, a, cnt, cfIn);
            store(c, i.seg, off, size, r);
            applyFlags(c, flags(kind, size, a, r, cnt, cfIn));
        } else {
            boolean hi = (i.highByte & 2) != 0;
            long a = getReg(c, i.rm, size, hi);
            long r = result(kind, size, a, cnt, cfIn);
            setReg(c, i.rm, size, hi, r);
            applyFlags(c, flags(kind, size, a, r, cnt, cfIn));
        }
    }

    /**
     * Masked count 0: flags and value unchanged; the operand is still read (memory faults happen)
     * and, as silicon does, a 32-bit register destination is still written, clearing bits 63:32.
     */
    private static void countZero(Cpu c, Insn i) {
        long v = readE(c, i);
        if (!i.mem && i.opSize == 4) writeRmReg(c, i, v);
    }

    /** Applies flags given as status bits | (mask of the bits they change) << 32. */
    private static void applyFlags(Cpu c, long f) {
        long changed = f >>> 32;
        Flags.materialize(c);
        c.rflags = (c.rflags & ~changed) | (f & changed);
    }

    private static long shl(long v, int n) { return n >= 64 || n < 0 ? 0 : v << n; }
    private static long shr(long v, int n) { return n >= 64 || n < 0 ? 0 : v >>> n; }

    /** Rotate count after the size-specific reduction (mod size for ROL/ROR, mod size+1 for RCL/RCR). */
    private static int reduced(int kind, int size, int cnt) {
        int bits = size << 3;
        if (kind == ROL || kind == ROR) return cnt % bits;
        if (kind == RCL || kind == RCR) return size == 1 ? cnt % 9 : size == 2 ? cnt % 17 : cnt;
        return cnt;
    }

    static long result(int kind, int size, long a, int cnt, boolean cfIn) {
        int bits = size << 3;
        long m = mask(size);
        long ci = cfIn ? 1 : 0;
        int n = reduced(kind, size, cnt);
        switch (kind) {
            case ROL: return n == 0 ? a : (shl(a, n) | shr(a, bits - n)) & m;
            case ROR: return n == 0 ? a : (shr(a, n) | shl(a, bits - n)) & m;
            case RCL: return n == 0 ? a : (shl(a, n) | (ci << (n - 1)) | shr(a, bits - n + 1)) & m;
            case RCR: return n == 0 ? a : (shr(a, n) | shl(ci, bits - n) | shl(a, bits - n + 1)) & m;
            case SHL: case SAL: return shl(a, cnt) & m;
            case SHR: return shr(a, cnt);
            default: return (signExtend(a, size) >> Math.min(cnt, 63)) & m;
        }
    }

    static long flags(int kind, int size, long a, long r, int cnt, boolean cfIn) {
        int bits = size << 3, top = bits - 1;
        int n = reduced(kind, size, cnt);
        long msb = (r >>> top) & 1;
        switch (kind) {
            case ROL: { long cf = r & 1; return flagsCO(cf, msb ^ cf); }
            case ROR: return flagsCO(msb, msb ^ ((r >>> (top - 1)) & 1));
            case RCL: {
                long cf = n == 0 ? (cfIn ? 1 : 0) : (a >>> (bits - n)) & 1;
                return flagsCO(cf, msb ^ cf);
            }
            case RCR: {
                long cf = n == 0 ? (cfIn ? 1 : 0) : (a >>> (n - 1)) & 1;
                return flagsCO(cf, ((a >>> top) & 1) ^ (cfIn ? 1 : 0));
            }
            case SHL: case SAL: {
                long cf = cnt > bits ? 0 : (a >>> (bits - cnt)) & 1;
                return all(r, size, cf, msb ^ cf);
            }
            case SHR: {
                long cf = cnt > bits ? 0 : (a >>> (cnt - 1)) & 1;
                return all(r, size, cf, cnt == 1 ? (a >>> top) & 1 : 0);
            }
            default: {
                long cf = (signExtend(a, size) >> Math.min(cnt - 1, 63)) & 1;
                return all(r, size, cf, 0);
            }
        }
    }

    private static long flagsCO(long cf, long of) {
        return ((Flags.CF | Flags.OF) << 32) | (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0);
    }

    private static long all(long r, int size, long cf, long of) {
        return (Flags.STATUS << 32) | Flags.szp(r, size) | (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0);
    }

    /** SHLD / SHRD: shift the destination, filling from the source register. */
    static void doubleShift(Cpu c, Insn i, int count, boolean left) {
        int size = i.opSize;
        int bits = size << 3, top = bits - 1;
        int cnt = count & (size == 8 ? 0x3F : 0x1F);
        if (cnt == 0) {
            countZero(c, i);
            return;
        }
        long m = mask(size);
        long src = readG(c, i);
        long off = i.mem ? ea(c, i) : 0;
        long a = i.mem ? load(c, i.seg, off, size) : readE(c, i);
        long r, cf;
        // Counts above the operand size (16-bit operands only) leave result and flags undefined
        // (SDM Vol. 2 SHLD/SHRD); the shifts below simply run past the operand in that case.
        if (left) {
            r = (shl(a, cnt) | shr(src, bits - cnt)) & m;
            cf = cnt > bits ? 0 : (a >>> (bits - cnt)) & 1;
        } else {
            r = (shr(a, cnt) | shl(src, bits - cnt)) & m;
            cf = cnt > bits ? 0 : (a >>> (cnt - 1)) & 1;
        }
        long of = ((r ^ a) >>> top) & 1;
        if (i.mem) store(c, i.seg, off, size, r);
        else writeRmReg(c, i, r);
        applyFlags(c, all(r, size, cf, of));
    }
}
