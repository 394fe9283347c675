package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.decode.Insn;

/**
 * Specialized forms of the hottest instructions (register-register and register-immediate ALU
 * operations, 32/64-bit MOV loads, stores and register moves): the same semantics as {@link Alu}
 * and the MOV cases of the interpreter, with operand size and operation fixed by the op id so the
 * JIT compiles each into a few machine instructions.
 *
 * <p>Context: guest instruction execution (the interpreter's dispatch switch).
 */
final class Fast {
    private Fast() { }

    private static final long M32 = 0xFFFFFFFFL;

    // One tiny pure function per operation and size: each stays under the JIT's always-inline
    // bytecode size (MaxInlineSize, 35 bytes), because in the dispatch switch no single case is
    // frequent enough for the frequency-based inlining of larger methods. The caller reads and
    // writes the registers; these compute the result and record the lazy flags.
    static long add64(Cpu c, long a, long b) { long r = a + b; Flags.record(c, Flags.ADD, 8, r, a, b); return r; }
    static long sub64(Cpu c, long a, long b) { long r = a - b; Flags.record(c, Flags.SUB, 8, r, a, b); return r; }
    static long and64(Cpu c, long a, long b) { long r = a & b; Flags.record(c, Flags.LOGIC, 8, r, a, b); return r; }
    static long or64(Cpu c, long a, long b) { long r = a | b; Flags.record(c, Flags.LOGIC, 8, r, a, b); return r; }
    static long xor64(Cpu c, long a, long b) { long r = a ^ b; Flags.record(c, Flags.LOGIC, 8, r, a, b); return r; }
    static void cmp64(Cpu c, long a, long b) { Flags.record(c, Flags.SUB, 8, a - b, a, b); }
    /** 32-bit forms take operands already truncated to 32 bits (the caller masks with M32). */
    static long add32(Cpu c, long a, long b) { long r = (a + b) & M32; Flags.record(c, Flags.ADD, 4, r, a, b); return r; }
    static long sub32(Cpu c, long a, long b) { long r = (a - b) & M32; Flags.record(c, Flags.SUB, 4, r, a, b); return r; }
    static long and32(Cpu c, long a, long b) { long r = a & b; Flags.record(c, Flags.LOGIC, 4, r, a, b); return r; }
    static long or32(Cpu c, long a, long b) { long r = a | b; Flags.record(c, Flags.LOGIC, 4, r, a, b); return r; }
    static long xor32(Cpu c, long a, long b) { long r = a ^ b; Flags.record(c, Flags.LOGIC, 4, r, a, b); return r; }
    static void cmp32(Cpu c, long a, long b) { Flags.record(c, Flags.SUB, 4, (a - b) & M32, a, b); }

    // INC/DEC keep CF: Flags.keepCarry folds it into rflags first when the recorded kind would lose it.
    static long inc64(Cpu c, long a) { Flags.keepCarry(c); long r = a + 1; Flags.record(c, Flags.INC, 8, r, a, 1); return r; }
    static long dec64(Cpu c, long a) { Flags.keepCarry(c); long r = a - 1; Flags.record(c, Flags.DEC, 8, r, a, 1); return r; }
    static long inc32(Cpu c, long a) { Flags.keepCarry(c); long r = (a + 1) & M32; Flags.record(c, Flags.INC, 4, r, a, 1); return r; }
    static long dec32(Cpu c, long a) { Flags.keepCarry(c); long r = (a - 1) & M32; Flags.record(c, Flags.DEC, 4, r, a, 1); return r; }

    // Shifts by a non-zero immediate count n (the decoder only picks these forms then; the caller masks n).
    static long shl64(Cpu c, long a, int n) { long r = a << n; Flags.record(c, Flags.SHL, 8, r, a, n); return r; }
    static long shr64(Cpu c, long a, int n) { long r = a >>> n; Flags.record(c, Flags.SHR, 8, r, a, n); return r; }
    static long sar64(Cpu c, long a, int n) { long r = a >> n; Flags.record(c, Flags.SAR, 8, r, a, n); return r; }
    static long shl32(Cpu c, long a, int n) { long r = (a << n) & M32; Flags.record(c, Flags.SHL, 4, r, a, n); return r; }
    static long shr32(Cpu c, long a, int n) { long r = a >>> n; Flags.record(c, Flags.SHR, 4, r, a, n); return r; }
    static long sar32(Cpu c, long a, int n) { long r = ((long) (int) a >> n) & M32; Flags.record(c, Flags.SAR, 4, r, a, n); return r; }

    /** ROL/ROR r64, imm (count n non-zero, masked by the caller): only CF and OF change (OF as for a count of 1). */
    static long rol64(Cpu c, long a, int n) { long r = Long.rotateLeft(a, n); setCarryOverflow(c, r & 1, (r >>> 63) ^ (r & 1)); return r; }
    static long ror64(Cpu c, long a, int n) { long r = Long.rotateRight(a, n); setCarryOverflow(c, r >>> 63, (r >>> 63) ^ ((r >>> 62) & 1)); return r; }

    /** Sets CF and OF from bits 0 (cf, of are 0 or 1), keeping the other status flags. */
    private static void setCarryOverflow(Cpu c, long cf, long of) {
        if (c.flagsOp != Flags.NONE) Flags.materialize(c);
        c.rflags = (c.rflags & ~(Flags.CF | Flags.OF)) | cf * Flags.CF | of * Flags.OF;
    }

    /** BT r64, imm8: CF = the bit; the other flags are left as they were. */
    static void bt64(Cpu c, Insn i) {
        bt64(c, c.gpr[i.rm], (int) i.imm & 63);
    }

    /** BT of bit n (0..63) of v: the form the translator emits with n as a constant. */
    static void bt64(Cpu c, long v, int n) {
        long bit = (v >>> n) & 1;
        Flags.materialize(c);
        c.rflags = (c.rflags & ~Flags.CF) | bit;
    }

    static void lea64(Cpu c, Insn i) { c.gpr[i.reg] = Operands.ea(c, i); }

    /** JMP rel8/rel32 in 64-bit mode. */
    static void jmp64(Cpu c, Insn i) {
        long t = c.rip + i.imm;
        if ((t << 16 >> 16) != t) throw lhv.cpu.CpuFault.gp0();
        c.rip = t;
    }

    /** Jcc in 64-bit mode: a non-canonical target is #GP(0) at the branch. */
    static void jcc64(Cpu c, Insn i) {
        if (Flags.cond(c, i.sub)) {
            long t = c.rip + i.imm;
            if ((t << 16 >> 16) != t) throw lhv.cpu.CpuFault.gp0();
            c.rip = t;
        }
    }

    /** IMUL r64, r/m64, imm (withImmediate) or IMUL r64, r/m64: truncated product; CF = OF = it did not fit. */
    static void imul64(Cpu c, Insn i, boolean withImmediate) {
        long a = i.mem ? c.mmu.read64(i.seg, Operands.ea(c, i)) : c.gpr[i.rm];
        c.gpr[i.reg] = imul64(c, a, withImmediate ? i.imm : c.gpr[i.reg]);
    }

    /** The 64-bit truncated product a * b with its flags (the register form the translator emits). */
    static long imul64(Cpu c, long a, long b) {
        long lo = a * b;
        boolean overflow = Math.multiplyHigh(a, b) != (lo >> 63);
        Flags.setStatus(c, Flags.szp(lo, 8) | (overflow ? Flags.CF | Flags.OF : 0));
        return lo;
    }

    // 32-bit forms the translator emits (the interpreter runs these instructions through
    // MulDiv.imul and Shift.shift; the same semantics with the operand size fixed).

    /** IMUL r32, r/m32 (, imm): the product truncated to 32 bits; CF = OF = it did not fit; SF ZF PF of the product. */
    static long imul32(Cpu c, long a, long b) {
        long lo = (long) (int) a * (int) b;
        Flags.setStatus(c, Flags.szp(lo, 4) | (lo != (int) lo ? Flags.CF | Flags.OF : 0));
        return lo & M32;
    }

    /** ROL r32, imm (count n, 1..31): CF = bit 0 of the result, OF = its bit 31 XOR CF; the other flags kept. */
    static long rol32(Cpu c, long a, int n) {
        int r = Integer.rotateLeft((int) a, n);
        setCarryOverflow(c, r & 1, ((r >>> 31) ^ r) & 1);
        return r & M32;
    }

    /** ROR r32, imm (count n, 1..31): CF = bit 31 of the result, OF = bit 31 XOR bit 30. */
    static long ror32(Cpu c, long a, int n) {
        int r = Integer.rotateRight((int) a, n);
        setCarryOverflow(c, (r >>> 31) & 1, ((r >>> 31) ^ (r >>> 30)) & 1);
        return r & M32;
    }

    /** ALU operation {@code op} on 64-bit registers: rm = rm op b. */
    static void alu64(Cpu c, Insn i, int op, long b) {
        long[] g = c.gpr;
        long a = g[i.rm];
        long r;
        switch (op) {
            case Alu.ADD: r = a + b; Flags.record(c, Flags.ADD, 8, r, a, b); g[i.rm] = r; return;
            case Alu.OR: r = a | b; Flags.record(c, Flags.LOGIC, 8, r, a, b); g[i.rm] = r; return;
            case Alu.AND: r = a & b; Flags.record(c, Flags.LOGIC, 8, r, a, b); g[i.rm] = r; return;
            case Alu.SUB: r = a - b; Flags.record(c, Flags.SUB, 8, r, a, b); g[i.rm] = r; return;
            case Alu.XOR: r = a ^ b; Flags.record(c, Flags.LOGIC, 8, r, a, b); g[i.rm] = r; return;
            case Alu.CMP: Flags.record(c, Flags.SUB, 8, a - b, a, b); return;
            default:
                r = Alu.result(c, op, a, b, -1L);
                Alu.flags(c, op, 8, a, b, r);
                g[i.rm] = r;
        }
    }

    /** ALU operation {@code op} on 32-bit registers: rm = rm op b, zero-extended. */
    static void alu32(Cpu c, Insn i, int op, long b) {
        long[] g = c.gpr;
        long a = g[i.rm] & M32;
        b &= M32;
        long r;
        switch (op) {
            case Alu.ADD: r = (a + b) & M32; Flags.record(c, Flags.ADD, 4, r, a, b); g[i.rm] = r; return;
            case Alu.OR: r = a | b; Flags.record(c, Flags.LOGIC, 4, r, a, b); g[i.rm] = r; return;
            case Alu.AND: r = a & b; Flags.record(c, Flags.LOGIC, 4, r, a, b); g[i.rm] = r; return;
            case Alu.SUB: r = (a - b) & M32; Flags.record(c, Flags.SUB, 4, r, a, b); g[i.rm] = r; return;
            case Alu.XOR: r = a ^ b; Flags.record(c, Flags.LOGIC, 4, r, a, b); g[i.rm] = r; return;
            case Alu.CMP: Flags.record(c, Flags.SUB, 4, (a - b) & M32, a, b); return;
            default:
                r = Alu.result(c, op, a, b, M32);
                Alu.flags(c, op, 4, a, b, r);
                g[i.rm] = r;
        }
    }

    static void load64(Cpu c, Insn i) {
        c.gpr[i.reg] = c.mmu.read64(i.seg, Operands.ea(c, i));
    }

    static void load32(Cpu c, Insn i) {
        c.gpr[i.reg] = c.mmu.read32(i.seg, Operands.ea(c, i)) & M32;
    }

    static void store64(Cpu c, Insn i) {
        c.mmu.write64(i.seg, Operands.ea(c, i), c.gpr[i.reg]);
    }

    static void store32(Cpu c, Insn i) {
        c.mmu.write32(i.seg, Operands.ea(c, i), (int) c.gpr[i.reg]);
    }
}
