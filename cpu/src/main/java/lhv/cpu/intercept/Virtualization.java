package lhv.cpu.intercept;

import lhv.cpu.Cpu;
import lhv.cpu.decode.Insn;

/**
 * The one narrow interface between the interpreter and VMX (implemented by the vmx layer).
 *
 * <p>Context: called by the interpreter while executing guest instructions. {@link #execute} runs
 * the VMX instructions; {@link #intercept} is called only while {@link Cpu#nonRoot} is true, for the
 * actions listed in {@link Sensitive}; {@link #atBoundary} only while {@link Cpu#boundaryWork} is
 * set (monitor trap flag, interrupt/NMI windows, preemption timer).
 *
 * <p>A method that decides a VM exit performs it and throws {@link VmExitSignal}; only
 * {@link #interceptEnds} may instead return, for the run loop's hot exits.
 */
public interface Virtualization {

    /** Executes a VMX instruction, including all its #UD/#GP checks and VMfail results. */
    void execute(Cpu cpu, VmxInstruction which, Insn insn);

    /**
     * {@link #execute} for the interpreter's own dispatch, which returns right after it: a VM exit
     * (VMCALL in non-root operation) may then end the instruction through the run loop as
     * {@link #interceptEnds} describes instead of throwing. Returns true when it did.
     */
    default boolean executeEnds(Cpu cpu, VmxInstruction which, Insn insn) {
        execute(cpu, which, insn);
        return false;
    }

    /**
     * A sensitive action in VMX non-root operation. Returns the value the guest observes for reads
     * (CR_READ, SMSW, RDTSC*), otherwise the return value is ignored. Throws {@link VmExitSignal}
     * when the action causes a VM exit.
     */
    long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b);

    /**
     * The same decision as {@link #intercept} for an instruction that either causes a VM exit or
     * executes unchanged (CPUID, HLT, RDMSR, WRMSR, PAUSE, IN, OUT), called at the start of the
     * instruction by the interpreter's own dispatch. Returns true when it caused a VM exit that has
     * been carried out completely and has already ended the instruction in the run loop
     * ({@link lhv.cpu.exec.Interpreter#endInstructionForVmExit}): the caller returns at once and does
     * nothing else. The exit may still be thrown as {@link VmExitSignal} (then nothing returns).
     * Returning saves unwinding the interpreter's frames with an exception, which costs about as
     * much as the rest of a VM-exit round trip.
     */
    default boolean interceptEnds(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
        intercept(cpu, what, insn, a, b);
        return false;
    }

    /** Work at an instruction boundary (before the next instruction starts). */
    void atBoundary(Cpu cpu);

    /**
     * RESET of the processor ({@link Cpu#reset}): the power-on state lies outside VMX operation, so
     * VMX forgets VMXON, the current VMCS and any guest (SDM Vol. 3A 10.1).
     */
    default void reset(Cpu cpu) { }

    /** A processor without VMX: every VMX instruction is #UD (CPUID.1:ECX.VMX = 0). */
    Virtualization NONE = new Virtualization() {
        @Override public void execute(Cpu cpu, VmxInstruction which, Insn insn) { throw lhv.cpu.CpuFault.ud(); }
        @Override public long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b) { return b; }
        @Override public void atBoundary(Cpu cpu) { }
    };
}
