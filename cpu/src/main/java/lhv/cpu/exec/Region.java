package lhv.cpu.exec;

import lhv.cpu.Cpu;

/**
 * The compiled form of a region: hot decoded blocks (64-, 32- or 16-bit code) of one 4 KiB code page, translated by
 * {@link Translator} into one JVM method in which a branch between blocks of the region is a JVM
 * jump, so a guest loop runs as a JVM loop. Each translated region is a hidden class extending
 * this one; it is reachable only from its blocks, so it unloads with them when the page is written.
 *
 * <p>Context: guest execution, called by the {@link Interpreter}'s run loop in place of
 * {@code runBlock} for a block that belongs to a region.
 */
abstract class Region {
    /** The linear page the region was translated for: its RIP values are constants. */
    long linearPage;
    /** The code size (8, 4 or 2) of its blocks. */
    int codeSize;
    /**
     * Outside 64-bit code: the CS base and limit (both as unsigned 32-bit values) its instruction
     * pointers and branch-target limit checks were computed with.
     */
    long csBase, csLimit;

    /**
     * True when the region may run now for a block at linear address {@code linear}: the same
     * linear page, and outside 64-bit code the same CS base and limit (what lookup's withinLimit
     * and the branches' limit checks depend on; the entry block itself was just checked).
     */
    final boolean fits(Cpu c, long linear) {
        if (linearPage != (linear >>> 12)) return false;
        if (codeSize == 8) return true;
        lhv.cpu.Segment cs = c.seg[lhv.cpu.Segment.CS];
        return (cs.base & 0xFFFFFFFFL) == csBase && (cs.limit & 0xFFFFFFFFL) == csLimit;
    }

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
