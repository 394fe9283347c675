package lhv.cpu.mmu;

import lhv.cpu.Cpu;
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

    @Override public void write(long pa, int size, long value) {
        if (isRam(pa, size)) {
            for (int i = 0; i < size; i++) ram.set(ValueLayout.JAVA_BYTE, pa + i, (byte) (value >>> (8 * i)));
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

    /** A processor on a fresh 4 MiB RAM. */
    public static Cpu cpu() {
        return new Cpu(CpuModel.withVmx(), new TestRam(4 << 20));
    }

    public static TestRam of(Cpu cpu) {
        return (TestRam) cpu.mem;
    }
}
