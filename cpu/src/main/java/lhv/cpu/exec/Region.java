package lhv.cpu.exec;

import lhv.cpu.Cpu;

/**
 * The compiled form of a region: hot 64-bit decoded blocks of one 4 KiB code page, translated by
 * {@link Translator} into one JVM method in which a branch between blocks of the region is a JVM
 * jump, so a guest loop runs as a JVM loop. Each translated region is a hidden class extending
 * this one; it is reachable only from its blocks, so it unloads with them when the page is written.
 *
 * <p>Context: guest execution, called by the {@link Interpreter}'s run loop in place of
 * {@code runBlock} for a block that belongs to a region.
 */
abstract class Region {
    /** The linear page (RIP >>> 12) the region was translated for: its RIP values are constants. */
    long linearPage;

    /**
     * Runs from entry block {@code entry} until a branch leaves the region or a boundary condition
     * asks the run loop to look (stop request, VMX boundary work, written code, budget). Leaves
     * the processor exactly as the interpreter would: RIP, instruction start and retired count
     * exact, {@code it.remaining} reduced by the instructions started. A throw from an instruction
     * leaves that instruction's state as the interpreter's runBlock does.
     *
     * @return 1 when the last instruction may have changed modes or translations (the run loop
     *     must look the next code page up again), else 0
     */
    abstract int run(Cpu c, Interpreter it, int entry);
}
