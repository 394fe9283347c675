package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;

/**
 * A stack being pushed or popped by a system operation (event delivery, far CALL/RET, IRET) whose
 * stack segment may not be loaded yet: the hidden SS values are held here, the stack pointer moves
 * only here, and the processor's registers are committed by the caller once every access has
 * succeeded (SDM Vol. 3A 6.12.1: a fault during delivery leaves the old state).
 *
 * <p>Context: guest instruction execution inside the system unit. Limit violations raise
 * #SS(error code chosen by the caller); 64-bit stacks check canonicality instead (SDM 6.14.3).
 */
final class StackFrame {
    private final Cpu cpu;
    private long base;
    private long limit;
    private int attributes;
    /** Stack pointer; only the low {@link #addressSize} bytes are meaningful. */
    long sp;
    /** Stack address size in bytes: 2 (SS.B=0), 4 (SS.B=1) or 8 (64-bit mode). */
    int addressSize;
    private int faultCode;
    private boolean supervisor;

    StackFrame(Cpu cpu) {
        this.cpu = cpu;
    }

    /** Uses the current SS and RSP at the current privilege level. */
    StackFrame current(int faultCode) {
        Segment ss = cpu.seg[Segment.SS];
        int size = cpu.mode == lhv.cpu.Mode.LONG64 ? 8 : ss.big() ? 4 : 2;
        return init(ss.base, ss.limit, ss.attributes, cpu.gpr[Cpu.RSP], size, faultCode, false);
    }

    StackFrame init(long base, int limit, int attributes, long sp, int addressSize, int faultCode, boolean supervisor) {
        this.base = base;
        this.limit = limit & 0xFFFFFFFFL;
        this.attributes = attributes;
        this.sp = sp;
        this.addressSize = addressSize;
        this.faultCode = faultCode;
        this.supervisor = supervisor;
        return this;
    }

    private long mask() {
        return addressSize == 8 ? -1L : addressSize == 4 ? 0xFFFFFFFFL : 0xFFFFL;
    }

    private long linear(long offset, int size) {
        if (addressSize == 8) {
            if (!Mmu.canonical(offset) || !Mmu.canonical(offset + size - 1)) throw CpuFault.ss(faultCode);
            return offset;
        }
        long last = offset + size - 1;
        if ((attributes & 0xC) == 0x4) {
            // Expand-down stack segment (SDM 5.3).
            long upper = (attributes & Segment.AR_DB) != 0 ? 0xFFFFFFFFL : 0xFFFFL;
            if (offset <= limit || last > upper) throw CpuFault.ss(faultCode);
        } else if (last > limit) {
            throw CpuFault.ss(faultCode);
        }
        return (base + offset) & 0xFFFFFFFFL;
    }

    void push(int size, long value) {
        long next = (sp - size) & mask();
        cpu.mmu.writeLinear(linear(next, size), size, value, supervisor);
        sp = (sp & ~mask()) | next;
    }

    long pop(int size) {
        long at = sp & mask();
        long v = cpu.mmu.readLinear(linear(at, size), size, supervisor);
        sp = (sp & ~mask()) | ((at + size) & mask());
        return v;
    }

    /** Reads {@code size} bytes at stack offset {@code +skip} without moving the pointer. */
    long peek(int skip, int size) {
        long at = (sp + skip) & mask();
        return cpu.mmu.readLinear(linear(at, size), size, supervisor);
    }

    void release(int bytes) {
        sp = (sp & ~mask()) | ((sp + bytes) & mask());
    }

    /** Writes the final stack pointer into RSP: 16-bit stacks keep RSP[63:16], 32-bit stacks zero-extend. */
    void commit() {
        if (addressSize == 2) cpu.gpr[Cpu.RSP] = (cpu.gpr[Cpu.RSP] & ~0xFFFFL) | (sp & 0xFFFF);
        else if (addressSize == 4) cpu.gpr[Cpu.RSP] = sp & 0xFFFFFFFFL;
        else cpu.gpr[Cpu.RSP] = sp;
    }

    /** Stack address size for SS in the given mode after a load (64-bit code uses 8). */
    static int addressSizeFor(Cpu cpu, boolean longCode, int ssAttributes) {
        if (longCode && (cpu.efer & Cr.EFER_LMA) != 0) return 8;
        return (ssAttributes & Segment.AR_DB) != 0 ? 4 : 2;
    }
}
