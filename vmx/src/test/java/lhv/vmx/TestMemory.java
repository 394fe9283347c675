package lhv.vmx;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import lhv.cpu.bus.PhysicalMemory;

/** Plain RAM for tests: {@code size} bytes at physical address 0; other addresses read all ones. */
public final class TestMemory implements PhysicalMemory {
    private final MemorySegment ram;

    public TestMemory(long size) {
        ram = Arena.ofAuto().allocate(size, 4096);
    }

    @Override public MemorySegment ram() { return ram; }
    @Override public long ramSize() { return ram.byteSize(); }

    @Override
    public long read(long pa, int size) {
        if (!isRam(pa, size)) return size == 8 ? -1L : (1L << (8 * size)) - 1;
        return switch (size) {
            case 1 -> ram.get(ValueLayout.JAVA_BYTE, pa) & 0xFFL;
            case 2 -> ram.get(ValueLayout.JAVA_SHORT_UNALIGNED, pa) & 0xFFFFL;
            case 4 -> ram.get(ValueLayout.JAVA_INT_UNALIGNED, pa) & 0xFFFF_FFFFL;
            default -> ram.get(ValueLayout.JAVA_LONG_UNALIGNED, pa);
        };
    }

    @Override
    public void write(long pa, int size, long value) {
        if (!isRam(pa, size)) return;
        switch (size) {
            case 1 -> ram.set(ValueLayout.JAVA_BYTE, pa, (byte) value);
            case 2 -> ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, pa, (short) value);
            case 4 -> ram.set(ValueLayout.JAVA_INT_UNALIGNED, pa, (int) value);
            default -> ram.set(ValueLayout.JAVA_LONG_UNALIGNED, pa, value);
        }
    }
}
