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
 * The cpu benchmark: runs bench/workload.asm as a 64-bit guest (or bench/workload32.asm, the same
 * loop as 32-bit protected-mode code) on both execution tiers (the interpreter alone, and with hot
 * blocks translated to JVM bytecode) and prints guest instructions per CPU second (MIPS) for each.
 * Whole-process measurement: a few warm-up runs, then timed runs; the best run is reported. Run
 * with bench/run-cpu-bench.
 *
 * <p>Context: a Java host program; the guest has 16 MiB of RAM, identity-mapped with 2 MiB pages
 * (64-bit) or 4 MiB pages (32-bit paging).
 */
public final class CpuBench {
    /** bench/workload.asm assembled by nasm. */
    static final String WORKLOAD = "4889feb90004000048ba157c4a7fb979379e488b1e4801d3486bdb1f4989d849c1e8074c31c348891e4801d8"
            + "f6c30174044883c00348c1c2054c8d0c584929c94939d1730349ffc24883c608ffc975c249ffcf75abf4";
    /** bench/workload32.asm assembled by nasm. */
    static final String WORKLOAD32 = "89feb900040000ba157c4a7f8b1e01d36bdb1f89ddc1ed0731eb891e01d8f6c301740383c003c1c2058d2c58"
            + "29cd39d573014483c6044975d3ff4ffc75c2f4";
    static final long CODE = 0x100000, DATA = 0x200000;
    /** The guest's code size: 8 (workload.asm in 64-bit mode) or 4 (workload32.asm in 32-bit protected mode). */
    static int bits = 8;
    static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    static Cpu machine() {
        if (bits == 4) return machine32();
        RamOnlyMemory ram = new RamOnlyMemory(16 << 20);
        MemorySegment seg = ram.ram();
        Cpu c = new Cpu(CpuModel.withVmx(), ram);
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x1000, 0x2000 | 7);
        seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x2000, 0x3000 | 7);
        for (int i = 0; i < 512; i++) seg.set(ValueLayout.JAVA_LONG_UNALIGNED, 0x3000 + i * 8L, (i * 0x200000L) | 0x87);
        byte[] code = HexFormat.of().parseHex(WORKLOAD);
        MemorySegment.copy(MemorySegment.ofArray(code), 0, seg, CODE, code.length);
        c.setCr3(0x1000);
        c.setCr4(Cr.CR4_PAE);
        c.setEfer(Cr.EFER_LME | Cr.EFER_LMA);
        c.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET);
        c.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xA09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS}) c.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        c.stateChanged();
        c.mmu.flush(true);
        return c;
    }

    /** 32-bit protected mode, CPL 0, flat segments, 32-bit paging with 4 MiB pages identity-mapping 16 MiB. */
    static Cpu machine32() {
        RamOnlyMemory ram = new RamOnlyMemory(16 << 20);
        MemorySegment seg = ram.ram();
        Cpu c = new Cpu(CpuModel.withVmx(), ram);
        for (int i = 0; i < 4; i++) seg.set(ValueLayout.JAVA_INT_UNALIGNED, 0x1000 + i * 4L, (i << 22) | 0x83);
        byte[] code = HexFormat.of().parseHex(WORKLOAD32);
        MemorySegment.copy(MemorySegment.ofArray(code), 0, seg, CODE, code.length);
        c.setCr3(0x1000);
        c.setCr4(Cr.CR4_PSE);
        c.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET);
        c.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xC09B);
        for (int s : new int[] {Segment.DS, Segment.ES, Segment.SS}) c.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        c.stateChanged();
        c.mmu.flush(true);
        return c;
    }

    /** One run of {@code passes} passes over the array; returns {instructions, nanoseconds, checksum}. */
    static long[] run(Cpu c, int passes) {
        if (bits == 4) return run32(c, passes);
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

    /** The 32-bit workload: EDI = the array, the pass count below it, ESP the counter R10 is in 64-bit. */
    static long[] run32(Cpu c, int passes) {
        c.rip = CODE;
        c.gpr[Cpu.RDI] = DATA;
        c.activityState = 0;
        MemorySegment ram = c.mem.ram();
        ram.asSlice(DATA, 4096).fill((byte) 0);
        ram.set(ValueLayout.JAVA_INT_UNALIGNED, DATA - 4, passes * 2);   // half the work per instruction: twice the passes
        c.gpr[Cpu.RAX] = 0;
        c.gpr[Cpu.RSP] = 0;
        long before = c.instructionsRetired;
        long t0 = THREADS.getCurrentThreadCpuTime();
        StopReason r = c.run(Long.MAX_VALUE);
        long t1 = THREADS.getCurrentThreadCpuTime();
        if (r != StopReason.HALTED) throw new IllegalStateException("workload stopped: " + r + " " + c.notImplementedMessage);
        return new long[] {c.instructionsRetired - before, t1 - t0, c.gpr[Cpu.RAX] ^ c.gpr[Cpu.RSP]};
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
     * Usage: CpuBench [passes] [runs] [tiers] [64|32]; tiers is "both" (default), "interpreter" or
     * "translator" (the interpreter alone, or with hot blocks translated to JVM bytecode); 32 runs
     * the 32-bit protected-mode workload instead of the 64-bit one.
     */
    public static void main(String[] args) {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String tiers = args.length > 2 ? args[2] : "both";
        if (args.length > 3) bits = Integer.parseInt(args[3]) / 8;
        double interp = 0, trans = 0;
        if (!tiers.equals("translator")) interp = tier("interpreter", false, passes, runs);
        if (!tiers.equals("interpreter")) trans = tier("translator", true, passes, runs);
        if (tiers.equals("both")) System.out.printf("summary: interpreter %.1f MIPS, translator %.1f MIPS%n", interp, trans);
    }
}
