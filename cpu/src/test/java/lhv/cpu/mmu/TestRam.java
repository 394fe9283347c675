package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.model.CpuModel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * Test fixture: a small guest RAM (off-heap, little-endian) plus a recording MMIO window above it,
 * and helpers to build paging structures. Context: unit tests only.
 */
public final class TestRam implements PhysicalMemory {
    public static final long MMIO_BASE = 0xFEC00000L;
    private final MemorySegment ram;
    /** MMIO accesses seen by the board: physical address -> last value written. */
    public final Map<Long, Long> mmioWrites = new HashMap<>();
    public int mmioReads;
    private lhv.cpu.bus.CodeMap codeMap;

    public TestRam(long size) {
        ram = Arena.ofAuto().allocate(size, 4096);
    }

    @Override public MemorySegment ram() { return ram; }
    @Override public long ramSize() { return ram.byteSize(); }

    @Override public long read(long pa, int size) {
        if (isRam(pa, size)) {
            long v = 0;
            for (int i = 0; i < size; i++) v |= (ram.get(ValueLayout.JAVA_BYTE, pa + i) & 0xFFL) << (8 * i);
            return v;
        }
        mmioReads++;
        return size == 8 ? -1L : (1L << (size * 8)) - 1;
    }

    @Override public void attachCodeMap(lhv.cpu.bus.CodeMap map) { codeMap = map; }

    @Override public void write(long pa, int size, long value) {
        if (isRam(pa, size)) {
            for (int i = 0; i < size; i++) ram.set(ValueLayout.JAVA_BYTE, pa + i, (byte) (value >>> (8 * i)));
            if (codeMap != null) codeMap.writtenRange(pa, size);
            return;
        }
        mmioWrites.put(pa, value);
    }

    public long q(long pa) { return ram.get(ValueLayout.JAVA_LONG_UNALIGNED, pa); }
    public int d(long pa) { return ram.get(ValueLayout.JAVA_INT_UNALIGNED, pa); }
    public void q(long pa, long v) { ram.set(ValueLayout.JAVA_LONG_UNALIGNED, pa, v); }
    public void d(long pa, int v) { ram.set(ValueLayout.JAVA_INT_UNALIGNED, pa, v); }
    public void b(long pa, int v) { ram.set(ValueLayout.JAVA_BYTE, pa, (byte) v); }
    public int b(long pa) { return ram.get(ValueLayout.JAVA_BYTE, pa) & 0xFF; }

    /**
     * Puts {@code cpu} in 64-bit mode with 4-level paging rooted at {@code cr3} (CR4.PAE, EFER.LME,
     * LMA and NXE, CR0.PG and WP, a 64-bit code segment) and flushes its TLB.
     */
    public static void long64(Cpu cpu, long cr3) {
        cpu.setCr3(cr3);
        cpu.setCr4(Cr.CR4_PAE);
        cpu.setEfer(Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_NXE);
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_WP | Cr.CR0_ET);
        cpu.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xA09B);
        cpu.stateChanged();
        cpu.mmu.flush(true);
    }

    /** A processor on a fresh 4 MiB RAM. */
    public static Cpu cpu() {
        return new Cpu(CpuModel.withVmx(), new TestRam(4 << 20));
    }

    public static TestRam of(Cpu cpu) {
        return (TestRam) cpu.mem;
    }
}
