package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * Bit operations: BT/BTS/BTR/BTC, BSF/BSR, TZCNT/LZCNT, POPCNT (SDM Vol. 2 pages of the same names).
 *
 * <p>Context: guest instruction execution. With a register bit offset and a memory operand the
 * offset is a signed number that may address bits outside the operand (SDM Vol. 2 BT: "bit base"
 * addressing), so the accessed unit moves by whole operand-size units.
 */
final class Bits {
    private Bits() { }

    static final int BT = 0, BTS = 1, BTR = 2, BTC = 3;

    private static long modify(int kind, long v, long bit) {
        switch (kind) {
            case BTS: return v | bit;
            case BTR: return v & ~bit;
            case BTC: return v ^ bit;
            default: return v;
        }
    }

    /** Only CF is defined (the bit's old value); OF/SF/AF/PF are undefined and left as they were. */
    private static void setCf(Cpu c, boolean cf) {
        Flags.materialize(c);
        c.rflags = cf ? c.rflags | Flags.CF : c.rflags & ~Flags.CF;
    }

    static void btG(Cpu c, Insn i) {
        int size = i.opSize, bits = size << 3;
        long offset = signExtend(readG(c, i), size);
        if (!i.mem) {
            long v = readE(c, i);
            long bit = 1L << (offset & (bits - 1));
            if (i.sub != BT) writeRmReg(c, i, modify(i.sub, v, bit));
            setCf(c, (v & bit) != 0);
            return;
        }
        int shift = Integer.numberOfTrailingZeros(bits);
        long off = (ea(c, i) + (offset >> shift) * size) & addrMask(i.addrSize);
        long v = load(c, i.seg, off, size);
        long bit = 1L << (offset & (bits - 1));
        if (i.sub != BT) store(c, i.seg, off, size, modify(i.sub, v, bit));
        setCf(c, (v & bit) != 0);
    }

    static void btI(Cpu c, Insn i) {
        int bits = i.opSize << 3;
        long bit = 1L << (i.imm & (bits - 1));
        if (!i.mem) {
            long v = readE(c, i);
            if (i.sub != BT) writeRmReg(c, i, modify(i.sub, v, bit));
            setCf(c, (v & bit) != 0);
            return;
        }
        long off = ea(c, i);
        long v = load(c, i.seg, off, i.opSize);
        if (i.sub != BT) store(c, i.seg, off, i.opSize, modify(i.sub, v, bit));
        setCf(c, (v & bit) != 0);
    }

    /** BSF/BSR: ZF=1 and the destination unchanged for a zero source (as AMD documents and Intel does). */
    static void bsfBsr(Cpu c, Insn i, boolean forward) {
        long v = readE(c, i);
        Flags.materialize(c);
        if (v == 0) {
            c.rflags |= Flags.ZF;
            return;
        }
        long idx = forward ? Long.numberOfTrailingZeros(v) : 63 - Long.numberOfLeadingZeros(v);
        writeG(c, i, idx);
        Flags.setStatus(c, c.rflags & ~Flags.ZF);
    }

    /** TZCNT/LZCNT: CF = source is zero, ZF = result is zero. */
    static void tzLzCnt(Cpu c, Insn i, boolean trailing) {
        int size = i.opSize, bits = size << 3;
        long v = readE(c, i);
        long n;
        if (v == 0) n = bits;
        else n = trailing ? Long.numberOfTrailingZeros(v) : Long.numberOfLeadingZeros(v) - (64 - bits);
        writeG(c, i, n);
        Flags.materialize(c);
        long f = c.rflags & ~(Flags.CF | Flags.ZF);
        if (v == 0) f |= Flags.CF;
        if (n == 0) f |= Flags.ZF;
        Flags.setStatus(c, f);
    }

    /** POPCNT: ZF = source is zero; OF SF AF CF PF cleared. */
    static void popcnt(Cpu c, Insn i) {
        long v = readE(c, i);
        writeG(c, i, Long.bitCount(v));
        Flags.setStatus(c, v == 0 ? Flags.ZF : 0);
    }
}
