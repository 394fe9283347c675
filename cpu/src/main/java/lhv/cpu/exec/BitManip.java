package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.decode.Insn;
import lhv.cpu.decode.Op;

import static lhv.cpu.exec.Operands.*;

/**
 * Bit-manipulation instructions: the VEX-encoded general-purpose forms of BMI1 (ANDN, BEXTR, BLSI,
 * BLSMSK, BLSR) and BMI2 (BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX), and ADX (ADCX, ADOX), after
 * the SDM Vol. 2 pages of the same names. TZCNT (BMI1) lives with its siblings in {@link Bits}.
 *
 * <p>Context: guest instruction execution. The decoder has already applied the encoding rules
 * (VEX.L, VEX.vvvv, prefixes, CPUID flags); what is left here is the mode rule, which a cached decode
 * cannot know: VEX-encoded instructions are #UD in real-address and virtual-8086 mode (SDM Vol. 2
 * 2.3.2 and Table 2-29). Operands: ModRM.reg is {@link Insn#reg}, ModRM.r/m is read through
 * {@link Operands#readE} (register or memory), VEX.vvvv is {@link Insn#vvvv}; the operand size is 4
 * or 8 and 32-bit results zero the upper half of the register as every 32-bit write does.
 *
 * <p>Flags the SDM leaves undefined (AF and PF everywhere, SF of BEXTR) are set as a logical
 * instruction would set them: AF = 0, PF and SF from the result (docs/QUIRKS.md).
 */
final class BitManip {
    private BitManip() { }

    /** SDM Vol. 2 2.3.2: the VEX prefix is not supported in real-address and virtual-8086 mode. */
    static void requireVexMode(Cpu c) {
        if (c.mode == Mode.REAL || c.mode == Mode.VIRTUAL_8086) throw CpuFault.ud();
    }

    private static long vreg(Cpu c, Insn i) {
        return getReg(c, i.vvvv, i.opSize, false);
    }

    private static void setVreg(Cpu c, Insn i, long v) {
        setReg(c, i.vvvv, i.opSize, false, v);
    }

    private static int bits(Insn i) {
        return i.opSize << 3;
    }

    // ---- BMI1 ----

    /** ANDN: reg = NOT vvvv AND r/m; SF ZF from the result, OF CF cleared (a logical operation). */
    static void andn(Cpu c, Insn i) {
        requireVexMode(c);
        long r = ~vreg(c, i) & readE(c, i) & mask(i.opSize);
        writeG(c, i, r);
        Flags.record(c, Flags.LOGIC, i.opSize, r, 0, 0);
    }

    /**
     * BEXTR: reg = r/m[START+LEN-1:START] with START = vvvv[7:0], LEN = vvvv[15:8]; bits above the
     * operand size read as zero, so START beyond it gives 0. ZF from the result, CF OF cleared.
     */
    static void bextr(Cpu c, Insn i) {
        requireVexMode(c);
        long ctl = vreg(c, i);
        long src = readE(c, i);
        int start = (int) ctl & 0xFF, len = (int) (ctl >>> 8) & 0xFF;
        long r = start >= bits(i) ? 0 : src >>> start;
        if (len < 64) r &= (1L << len) - 1;
        writeG(c, i, r);
        Flags.record(c, Flags.LOGIC, i.opSize, r, 0, 0);
    }

    /** BLSI: vvvv = lowest set bit of r/m; SF ZF from the result, CF = source is not zero, OF = 0. */
    static void blsi(Cpu c, Insn i) {
        requireVexMode(c);
        long src = readE(c, i);
        long r = src & -src & mask(i.opSize);
        setVreg(c, i, r);
        Flags.setStatus(c, Flags.szp(r, i.opSize) | (src != 0 ? Flags.CF : 0));
    }

    /** BLSMSK: vvvv = mask up to and including the lowest set bit; SF from the result, ZF = OF = 0, CF = source is zero. */
    static void blsmsk(Cpu c, Insn i) {
        requireVexMode(c);
        long src = readE(c, i);
        long r = (src ^ (src - 1)) & mask(i.opSize);
        setVreg(c, i, r);
        Flags.setStatus(c, (Flags.szp(r, i.opSize) & ~Flags.ZF) | (src == 0 ? Flags.CF : 0));
    }

    /** BLSR: vvvv = r/m with its lowest set bit cleared; SF ZF from the result, CF = source is zero, OF = 0. */
    static void blsr(Cpu c, Insn i) {
        requireVexMode(c);
        long src = readE(c, i);
        long r = src & (src - 1) & mask(i.opSize);
        setVreg(c, i, r);
        Flags.setStatus(c, Flags.szp(r, i.opSize) | (src == 0 ? Flags.CF : 0));
    }

    // ---- BMI2 ----

    /**
     * BZHI: reg = r/m with the bits from index N = vvvv[7:0] upward cleared; N at or beyond the
     * operand size copies the source and sets CF (CF = 0 otherwise). SF ZF from the result, OF = 0.
     */
    static void bzhi(Cpu c, Insn i) {
        requireVexMode(c);
        int n = (int) vreg(c, i) & 0xFF;
        long src = readE(c, i);
        boolean beyond = n >= bits(i);
        long r = beyond ? src : src & ((1L << n) - 1);
        writeG(c, i, r);
        Flags.setStatus(c, Flags.szp(r, i.opSize) | (beyond ? Flags.CF : 0));
    }

    /**
     * MULX: unsigned EDX/RDX * r/m, low half to vvvv, high half to reg; written in that order so
     * that the high half wins when both name one register. Flags are neither read nor written.
     */
    static void mulx(Cpu c, Insn i) {
        requireVexMode(c);
        long src = readE(c, i);
        long lo, hi;
        if (i.opSize == 8) {
            long a = c.gpr[Cpu.RDX];
            lo = a * src;
            hi = Math.unsignedMultiplyHigh(a, src);
        } else {
            long p = (c.gpr[Cpu.RDX] & 0xFFFFFFFFL) * src;
            lo = p & 0xFFFFFFFFL;
            hi = p >>> 32;
        }
        setVreg(c, i, lo);
        writeG(c, i, hi);
    }

    /** PDEP: the low bits of vvvv are deposited, in order, at the set bits of the r/m mask. Flags unchanged. */
    static void pdep(Cpu c, Insn i) {
        requireVexMode(c);
        long src = vreg(c, i), m = readE(c, i), r = 0;
        for (long bit = 1; m != 0; bit <<= 1, m &= m - 1) {
            if ((src & bit) != 0) r |= m & -m;
        }
        writeG(c, i, r);
    }

    /** PEXT: the bits of vvvv at the set bits of the r/m mask are packed, in order, into the low bits. Flags unchanged. */
    static void pext(Cpu c, Insn i) {
        requireVexMode(c);
        long src = vreg(c, i), m = readE(c, i), r = 0;
        for (long bit = 1; m != 0; bit <<= 1, m &= m - 1) {
            if ((src & m & -m) != 0) r |= bit;
        }
        writeG(c, i, r);
    }

    /** RORX: reg = r/m rotated right by imm8 masked to 5 (32-bit) or 6 (64-bit) bits. Flags unchanged. */
    static void rorx(Cpu c, Insn i) {
        requireVexMode(c);
        long v = readE(c, i);
        int n = (int) i.imm & (bits(i) - 1);
        long r = i.opSize == 8 ? Long.rotateRight(v, n) : Integer.rotateRight((int) v, n) & 0xFFFFFFFFL;
        writeG(c, i, r);
    }

    /** SARX/SHLX/SHRX: reg = r/m shifted by vvvv masked to 5 or 6 bits. Flags unchanged. */
    static void shiftX(Cpu c, Insn i, int op) {
        requireVexMode(c);
        int n = (int) vreg(c, i) & (bits(i) - 1);
        long v = readE(c, i);
        long r;
        if (op == Op.SHLX) r = v << n;
        else if (op == Op.SHRX) r = v >>> n;
        else r = signExtend(v, i.opSize) >> n;
        writeG(c, i, r & mask(i.opSize));
    }

    // ---- ADX ----

    /** ADCX: reg = reg + r/m + CF as an unsigned add; only CF is written (the carry out). */
    static void adcx(Cpu c, Insn i) {
        Flags.materialize(c);
        c.rflags = addWithCarry(c, i, Flags.CF);
    }

    /** ADOX: reg = reg + r/m + OF as an unsigned add; only OF is written (the carry out). */
    static void adox(Cpu c, Insn i) {
        Flags.materialize(c);
        c.rflags = addWithCarry(c, i, Flags.OF);
    }

    /** Adds with the carry held in RFLAGS bit {@code flag}; returns RFLAGS with that bit set to the carry out. */
    private static long addWithCarry(Cpu c, Insn i, long flag) {
        long a = readG(c, i), b = readE(c, i);
        long cin = (c.rflags & flag) != 0 ? 1 : 0;
        long sum = a + b + cin;
        boolean carry;
        if (i.opSize == 8) carry = (((a & b) | ((a | b) & ~sum)) >>> 63) != 0;
        else carry = (sum >>> 32) != 0;
        writeG(c, i, sum);
        return carry ? c.rflags | flag : c.rflags & ~flag;
    }
}
