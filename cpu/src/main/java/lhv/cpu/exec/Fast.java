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
