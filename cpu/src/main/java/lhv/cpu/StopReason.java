package lhv.cpu;

/** Why {@link Cpu#run} returned control to its Java caller. */
public enum StopReason {
    /** HLT with RFLAGS.IF=0 and nothing that can wake the processor. */
    HALTED,
    /** Triple fault or another shutdown condition (SDM Vol. 3A 6.15, interrupt 8). */
    SHUTDOWN,
    /** The retired-instruction budget given to run() was used up. */
    INSTRUCTION_LIMIT,
    /** A VM exit in hosted mode: control goes back to the Java hypervisor (as reaching HOST_RIP). */
    VM_EXIT,
    /** A device or the host asked the processor to stop (e.g. isa-debug-exit was written). */
    REQUESTED,
    /** The guest used an instruction this model does not implement. */
    NOT_IMPLEMENTED
}
