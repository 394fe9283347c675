package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Segment;
import lhv.cpu.decode.Insn;

/**
 * Operand access for the interpreter: general registers by size, the effective address of a ModRM
 * memory operand (SDM Vol. 1 3.7.5), memory through the MMU, and the stack (SDM Vol. 1 6.2).
 *
 * <p>Context: guest instruction execution; also used by the VMX layer through
 * {@link Interpreter#effectiveAddress} and friends.
 */
public final class Operands {
    private Operands() { }

    static long mask(int size) {
        return size == 8 ? -1L : (1L << (size << 3)) - 1;
    }

    // ---- registers ----

    /** Reads register {@code r} with {@code size} bytes; {@code high} selects AH..BH for r = 4..7. */
    public static long getReg(Cpu c, int r, int size, boolean high) {
        switch (size) {
            case 1: return high ? (c.gpr[r - 4] >>> 8) & 0xFF : c.gpr[r] & 0xFF;
            case 2: return c.gpr[r] & 0xFFFF;
            case 4: return c.gpr[r] & 0xFFFFFFFFL;
            default: return c.gpr[r];
        }
    }

    /** Writes a register: 8/16-bit writes merge, 32-bit writes zero the upper half (SDM Vol. 1 3.4.1.1). */
    public static void setReg(Cpu c, int r, int size, boolean high, long v) {
        switch (size) {
            case 1:
                if (high) c.gpr[r - 4] = (c.gpr[r - 4] & ~0xFF00L) | ((v & 0xFF) << 8);
                else c.gpr[r] = (c.gpr[r] & ~0xFFL) | (v & 0xFF);
                break;
            case 2: c.gpr[r] = (c.gpr[r] & ~0xFFFFL) | (v & 0xFFFF); break;
            case 4: c.gpr[r] = v & 0xFFFFFFFFL; break;
            default: c.gpr[r] = v;
        }
    }

    static long readG(Cpu c, Insn i) {
        return getReg(c, i.reg, i.opSize, (i.highByte & 1) != 0);
    }

    static void writeG(Cpu c, Insn i, long v) {
        setReg(c, i.reg, i.opSize, (i.highByte & 1) != 0, v);
    }

    static long readE(Cpu c, Insn i) {
        if (i.mem) return load(c, i.seg, ea(c, i), i.opSize);
        return getReg(c, i.rm, i.opSize, (i.highByte & 2) != 0);
    }

    static long readE(Cpu c, Insn i, int size) {
        if (i.mem) return load(c, i.seg, ea(c, i), size);
        return getReg(c, i.rm, size, (i.highByte & 2) != 0);
    }

    static void writeE(Cpu c, Insn i, long v) {
        if (i.mem) store(c, i.seg, ea(c, i), i.opSize, v);
        else setReg(c, i.rm, i.opSize, (i.highByte & 2) != 0, v);
    }

    static void writeRmReg(Cpu c, Insn i, long v) {
        setReg(c, i.rm, i.opSize, (i.highByte & 2) != 0, v);
    }

    // ---- addresses and memory ----

    /** Effective address (segment offset) of the memory operand, truncated to the address size. */
    public static long ea(Cpu c, Insn i) {
        long a = i.disp;
        int b = i.base;
        if (b >= 0) a += b == Insn.RIP_BASE ? c.rip : c.gpr[b];
        if (i.index >= 0) a += c.gpr[i.index] << i.scale;
        switch (i.addrSize) {
            case 2: return a & 0xFFFF;
            case 4: return a & 0xFFFFFFFFL;
            default: return a;
        }
    }

    static long addrMask(int addrSize) {
        return addrSize == 8 ? -1L : addrSize == 4 ? 0xFFFFFFFFL : 0xFFFF;
    }

    static long load(Cpu c, int seg, long off, int size) {
        switch (size) {
            case 1: return c.mmu.read8(seg, off) & 0xFF;
            case 2: return c.mmu.read16(seg, off) & 0xFFFF;
            case 4: return c.mmu.read32(seg, off) & 0xFFFFFFFFL;
            default: return c.mmu.read64(seg, off);
        }
    }

    static void store(Cpu c, int seg, long off, int size, long v) {
        switch (size) {
            case 1: c.mmu.write8(seg, off, (int) v); break;
            case 2: c.mmu.write16(seg, off, (int) v); break;
            case 4: c.mmu.write32(seg, off, (int) v); break;
            default: c.mmu.write64(seg, off, v);
        }
    }

    // ---- stack (SDM Vol. 1 6.2.3: the stack-address size comes from SS.B, 64 bits in 64-bit mode) ----

    static int stackAddrSize(Cpu c) {
        if (c.mode == Mode.LONG64) return 8;
        return c.seg[Segment.SS].big() ? 4 : 2;
    }

    /** RSP after moving it by {@code delta}, respecting the stack-address size (upper bits of SP kept). */
    static long movedRsp(Cpu c, long delta) {
        long rsp = c.gpr[Cpu.RSP];
        switch (stackAddrSize(c)) {
            case 8: return rsp + delta;
            case 4: return (rsp + delta) & 0xFFFFFFFFL;
            default: return (rsp & ~0xFFFFL) | ((rsp + delta) & 0xFFFF);
        }
    }

    static long stackOffset(Cpu c, long rsp) {
        switch (stackAddrSize(c)) {
            case 8: return rsp;
            case 4: return rsp & 0xFFFFFFFFL;
            default: return rsp & 0xFFFF;
        }
    }

    /** PUSH: writes below RSP, then commits RSP (a faulting push leaves RSP unchanged). */
    static void push(Cpu c, long v, int size) {
        long n = movedRsp(c, -size);
        store(c, Segment.SS, stackOffset(c, n), size, v);
        c.gpr[Cpu.RSP] = n;
    }

    /** Reads the stack slot at RSP + {@code at} without moving RSP. */
    static long peek(Cpu c, int at, int size) {
        return load(c, Segment.SS, stackOffset(c, movedRsp(c, at)), size);
    }

    static long pop(Cpu c, int size) {
        long v = load(c, Segment.SS, stackOffset(c, c.gpr[Cpu.RSP]), size);
        c.gpr[Cpu.RSP] = movedRsp(c, size);
        return v;
    }

    // ---- checks ----

    static boolean canonical(long a) {
        return (a << 16 >> 16) == a;
    }

    /** Truncates a branch target to the operand size; in 64-bit mode it must be canonical (#GP(0)). */
    static long branchTarget(Cpu c, long target, int opSize) {
        long t;
        switch (opSize) {
            case 2: t = target & 0xFFFF; break;
            case 4: t = target & 0xFFFFFFFFL; break;
            default:
                if (!canonical(target)) throw CpuFault.gp0();
                return target;
        }
        // SDM Vol. 2 JMP/Jcc/CALL: outside 64-bit mode a target beyond the CS limit is #GP(0).
        if (c.mode != Mode.LONG64 && Long.compareUnsigned(t, c.seg[Segment.CS].limit & 0xFFFFFFFFL) > 0) throw CpuFault.gp0();
        return t;
    }

    static long signExtend(long v, int size) {
        switch (size) {
            case 1: return (byte) v;
            case 2: return (short) v;
            case 4: return (int) v;
            default: return v;
        }
    }
}
