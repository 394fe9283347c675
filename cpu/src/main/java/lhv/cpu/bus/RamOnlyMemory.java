package lhv.cpu.bus;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A physical address space that is nothing but RAM at address 0: no MMIO, every other address
 * unbacked (reads all ones, writes dropped, as on a board with nothing there).
 *
 * <p>Context: processors driven directly through the Java API without a board (tests, benchmarks,
 * teaching programs); the board of the platform layer is the full implementation.
 */
public class RamOnlyMemory implements PhysicalMemory {
    private final MemorySegment ram;
    private CodeMap codeMap;

    /** Uses {@code ram} (its size a multiple of 4 KiB) as physical addresses {@code [0, ram.byteSize())}. */
    public RamOnlyMemory(MemorySegment ram) {
        this.ram = ram;
    }

    /** {@code size} bytes of zeroed RAM, released when this object is no longer reachable. */
    public RamOnlyMemory(long size) {
        this(Arena.ofAuto().allocate(size, 4096));
    }

    @Override public final MemorySegment ram() { return ram; }
    @Override public final long ramSize() { return ram.byteSize(); }

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
    public void attachCodeMap(CodeMap map) {
        this.codeMap = map;
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
        if (codeMap != null) codeMap.writtenRange(pa, size);
    }
}
