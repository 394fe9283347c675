package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.NotImplemented;

/**
 * The processor's system architecture: control and debug registers, descriptor tables, segment
 * loads with their protection checks, far control transfers, exception and interrupt delivery,
 * MSRs, CPUID, fast system calls. Instruction semantics only: the interpreter has already decoded
 * the instruction and fetched the operands, and passes plain values.
 *
 * <p>Context: guest instruction execution; also VM entry/exit (which reuse the segment and mode
 * helpers). Faults are thrown as {@link CpuFault}. In VMX non-root operation the interpreter has
 * already asked the VMX layer (lhv.cpu.intercept) before calling the methods that can exit.
 *
 * <p>SKELETON: the processor issue fills every method; the signatures are the contract.
 */
public final class SystemUnit {
    private final Cpu cpu;

    public SystemUnit(Cpu cpu) {
        this.cpu = cpu;
    }

    // ---- control, debug and descriptor-table registers (SDM 2.5, 2.4, 17.2) ----
    public void writeCr(int cr, long value) { throw new NotImplemented("sys"); }
    public long readCr(int cr) { throw new NotImplemented("sys"); }
    public void writeDr(int dr, long value) { throw new NotImplemented("sys"); }
    public long readDr(int dr) { throw new NotImplemented("sys"); }
    public void lmsw(int value) { throw new NotImplemented("sys"); }
    public void clts() { throw new NotImplemented("sys"); }
    public void lgdt(long base, int limit) { throw new NotImplemented("sys"); }
    public void lidt(long base, int limit) { throw new NotImplemented("sys"); }
    public void lldt(int selector) { throw new NotImplemented("sys"); }
    public void ltr(int selector) { throw new NotImplemented("sys"); }

    // ---- segments (SDM 3.4.3, 5.5-5.10) ----
    /** MOV/POP to a segment register, LDS/LES/LFS/LGS/LSS: all protection checks, mode-appropriate load. */
    public void loadSegment(int seg, int selector) { throw new NotImplemented("sys"); }
    /** LAR: returns access rights in the instruction's format, or -1 when ZF must be cleared. */
    public long lar(int selector) { throw new NotImplemented("sys"); }
    /** LSL: returns the byte-granular limit, or -1 when ZF must be cleared. */
    public long lsl(int selector) { throw new NotImplemented("sys"); }
    public boolean verr(int selector) { throw new NotImplemented("sys"); }
    public boolean verw(int selector) { throw new NotImplemented("sys"); }

    // ---- far control transfers (SDM Vol. 2 JMP/CALL/RET/IRET) ----
    /** Far JMP to selector:offset; nextRip is the RIP after the instruction. */
    public void farJump(int selector, long offset, int opSize) { throw new NotImplemented("sys"); }
    /** Far CALL: pushes CS:RIP of the next instruction (cpu.rip already points past it). */
    public void farCall(int selector, long offset, int opSize) { throw new NotImplemented("sys"); }
    /** Far RET with {@code popBytes} extra bytes released. */
    public void farReturn(int opSize, int popBytes) { throw new NotImplemented("sys"); }
    public void iret(int opSize) { throw new NotImplemented("sys"); }

    // ---- events (SDM chapter 6) ----
    /** Delivers an exception raised by an instruction; cpu.rip already rewound to the faulting instruction. */
    public void deliverFault(CpuFault fault) { throw new NotImplemented("sys"); }
    /** INT n (kind 4), INT3 (6), INTO (6), INT1/ICEBP (5); cpu.rip points past the instruction. */
    public void softwareInterrupt(int vector, int kind) { throw new NotImplemented("sys"); }
    /** Delivers an external interrupt or NMI (vector 2) at an instruction boundary. */
    public void externalInterrupt(int vector) { throw new NotImplemented("sys"); }

    // ---- MSRs, CPUID, fast system calls ----
    public long rdmsr(int index) { throw new NotImplemented("sys"); }
    public void wrmsr(int index, long value) { throw new NotImplemented("sys"); }
    /** Executes CPUID: reads EAX/ECX, writes EAX/EBX/ECX/EDX. */
    public void cpuid() { throw new NotImplemented("sys"); }
    public void syscall() { throw new NotImplemented("sys"); }
    public void sysret(int opSize) { throw new NotImplemented("sys"); }
    public void sysenter() { throw new NotImplemented("sys"); }
    public void sysexit(int opSize) { throw new NotImplemented("sys"); }
    public void swapgs() { throw new NotImplemented("sys"); }
}
