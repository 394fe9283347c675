import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.bus.RamOnlyMemory;
import lhv.cpu.model.CpuModel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

/**
 * The cpu benchmark: runs bench/workload.asm as a 64-bit guest on both execution tiers (the
 * interpreter alone, and with hot blocks translated to JVM bytecode) and prints guest instructions
 * per CPU second (MIPS) for each. Whole-process measurement: a few warm-up runs, then timed runs;
 * the best run is reported. Run with bench/run-cpu-bench.
 *
 * <p>Context: a Java host program; the guest has 16 MiB of RAM, identity-mapped with 2 MiB pages.
 */
public final class CpuBench {
    /** bench/workload.asm assembled by nasm. */
    static final String WORKLOAD = "4889feb90004000048ba157c4a7fb979379e488b1e4801d3486bdb1f4989d849c1e8074c31c348891e4801d8"
            + "f6c30174044883c00348c1c2054c8d0c584929c94939d1730349ffc24883c608ffc975c249ffcf75abf4";
    static final long CODE = 0x100000, DATA = 0x200000;
    static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    static Cpu machine() {
        RamOnlyMemory ram = new RamOnlyMemory(16 << 20);
        MemorySegment seg = ram.ram();
        Cpu c = new Cpu(CpuModel.withVmx(), ram);
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x1000, 0x2000 | 7);
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x2000, 0x3000 | 7);
        for (int i = 0; i < 512; i++) seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x3000 + i * 8L, (i * 0x200000L) | 0x87);
        byte[] code = HexFormat.of().parseHex(WORKLOAD);
        MemorySegment.copy(MemorySegment.ofArray(code), 0, seg, CODE, code.length);
        c.cr3 = 0x1000;
        c.cr4 = Cr.CR4_PAE;
        c.efer = Cr.EFER_LME | Cr.EFER_LMA;
        c.cr0 = Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET;
        c.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xA09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS}) c.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        c.stateChanged();
        c.mmu.flush(true);
        return c;
    }

    /** One run of {@code passes} passes over the array; returns {instructions, nanoseconds, checksum}. */
    static long[] run(Cpu c, int passes) {
        c.rip = CODE;
        c.gpr[Cpu.RDI] = DATA;
        c.gpr[15] = passes;
        c.gpr[Cpu.RSP] = 0x90000;
        c.activityState = 0;
        MemorySegment ram = c.mem.ram();
        ram.asSlice(DATA, 8192).fill((byte) 0);
        c.gpr[Cpu.RAX] = 0;
        c.gpr[10] = 0;
        long before = c.instructionsRetired;
        // CPU time of this thread: the machine may be shared, wall time would measure the neighbours.
        long t0 = THREADS.getCurrentThreadCpuTime();
        StopReason r = c.run(Long.MAX_VALUE);
        long t1 = THREADS.getCurrentThreadCpuTime();
        if (r != StopReason.HALTED) throw new IllegalStateException("workload stopped: " + r + " " + c.notImplementedMessage);
        return new long[] {c.instructionsRetired - before, t1 - t0, c.gpr[Cpu.RAX] ^ c.gpr[10]};
    }

    /** Warm-up runs, then {@code runs} timed runs on one tier; returns the best MIPS. */
    static double tier(String name, boolean translate, int passes, int runs) {
        Cpu c = machine();
        c.interpreter.setTranslation(translate);
        for (int w = 0; w < 3; w++) run(c, passes / 4 + 1);
        double best = 0;
        long insns = 0, check = 0;
        for (int k = 0; k < runs; k++) {
            long[] r = run(c, passes);
            double mips = r[0] / (r[1] / 1e3);
            insns = r[0];
            check = r[2];
            System.out.printf("%s run %d: %,d guest instructions in %.3f s CPU time = %.1f MIPS%n", name, k + 1, r[0], r[1] / 1e9, mips);
            best = Math.max(best, mips);
        }
        System.out.printf("%s best: %.1f MIPS (guest instructions per CPU second / 1e6, %,d instructions per run, checksum %x)%n",
                name, best, insns, check);
        return best;
    }

    /**
     * Usage: CpuBench [passes] [runs] [tiers]; tiers is "both" (default), "interpreter" or
     * "translator" (the interpreter alone, or with hot blocks translated to JVM bytecode).
     */
    public static void main(String[] args) {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String tiers = args.length > 2 ? args[2] : "both";
        double interp = 0, trans = 0;
        if (!tiers.equals("translator")) interp = tier("interpreter", false, passes, runs);
        if (!tiers.equals("interpreter")) trans = tier("translator", true, passes, runs);
        if (tiers.equals("both")) System.out.printf("summary: interpreter %.1f MIPS, translator %.1f MIPS%n", interp, trans);
    }
}
