package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * Control transfer: Jcc, JMP, CALL, RET near and far, LOOP/LOOPE/LOOPNE, JrCXZ, INT n, INT3, INTO,
 * INT1, IRET (SDM Vol. 2 pages of the same names). Far forms and interrupts go to the system unit,
 * which owns descriptor checks and event delivery.
 *
 * <p>Context: guest instruction execution; cpu.rip already holds the address of the next
 * instruction, which is what relative targets and pushed return addresses are based on.
 */
final class Control {
    private Control() { }

    static void jcc(Cpu c, Insn i) {
        if (Flags.cond(c, i.sub)) c.rip = branchTarget(c, c.rip + i.imm, i.opSize);
    }

    static void jmpRel(Cpu c, Insn i) {
        c.rip = branchTarget(c, c.rip + i.imm, i.opSize);
    }

    static void jmpE(Cpu c, Insn i) {
        c.rip = branchTarget(c, readE(c, i), i.opSize);
    }

    static void callRel(Cpu c, Insn i) {
        long t = branchTarget(c, c.rip + i.imm, i.opSize);
        push(c, c.rip, i.opSize);
        c.rip = t;
    }

    static void callE(Cpu c, Insn i) {
        long t = branchTarget(c, readE(c, i), i.opSize);
        push(c, c.rip, i.opSize);
        c.rip = t;
    }

    static void ret(Cpu c, Insn i) {
        int size = i.opSize;
        long t = branchTarget(c, peek(c, 0, size), size);
        c.gpr[Cpu.RSP] = movedRsp(c, size + (i.imm & 0xFFFF));
        c.rip = t;
    }

    static void farPtr(Cpu c, Insn i, boolean call) {
        Interpreter.materializeForSystem(c);
        if (call) c.sys.farCall((int) i.imm2, i.imm, i.opSize);
        else c.sys.farJump((int) i.imm2, i.imm, i.opSize);
    }

    /** JMP/CALL m16:16, m16:32, m16:64: the offset comes first, the selector after it. */
    static void farMem(Cpu c, Insn i, boolean call) {
        int size = i.opSize;
        long off = ea(c, i);
        long offset = load(c, i.seg, off, size);
        int sel = (int) load(c, i.seg, (off + size) & addrMask(i.addrSize), 2);
        Interpreter.materializeForSystem(c);
        if (call) c.sys.farCall(sel, offset, size);
        else c.sys.farJump(sel, offset, size);
    }

    static void retf(Cpu c, Insn i) {
        Interpreter.materializeForSystem(c);
        c.sys.farReturn(i.opSize, (int) (i.imm & 0xFFFF));
    }

    /** LOOP/LOOPE/LOOPNE: the counter is CX, ECX or RCX by address size. */
    static void loop(Cpu c, Insn i, int kind) {
        int as = i.addrSize;
        long cnt = (c.gpr[Cpu.RCX] - 1) & addrMask(as);
        boolean take = cnt != 0;
        if (take && kind == 1) take = Flags.zf(c);
        else if (take && kind == 2) take = !Flags.zf(c);
        long t = take ? branchTarget(c, c.rip + i.imm, i.opSize) : 0;
        setReg(c, Cpu.RCX, as, false, cnt);
        if (take) c.rip = t;
    }

    static void jcxz(Cpu c, Insn i) {
        if ((c.gpr[Cpu.RCX] & addrMask(i.addrSize)) == 0) c.rip = branchTarget(c, c.rip + i.imm, i.opSize);
    }

    /** INT n (the system unit applies the virtual-8086 IOPL rule). */
    static void intN(Cpu c, Insn i) {
        int vector = (int) (i.imm & 0xFF);
        Interpreter.materializeForSystem(c);
        c.sys.softwareInterrupt(vector, 4);
    }

    static void int3(Cpu c) {
        Interpreter.materializeForSystem(c);
        c.sys.softwareInterrupt(3, 6);
    }

    static void into(Cpu c) {
        if (!Flags.of(c)) return;
        Interpreter.materializeForSystem(c);
        c.sys.softwareInterrupt(4, 6);
    }

    static void int1(Cpu c) {
        Interpreter.materializeForSystem(c);
        c.sys.softwareInterrupt(1, 5);
    }

    static void iret(Cpu c, Insn i) {
        Interpreter.materializeForSystem(c);
        c.sys.iret(i.opSize);
    }
}
