package lhv.platform.memory;

import lhv.cpu.bus.CodeMap;
import lhv.cpu.bus.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The physical address space of the board: guest RAM at {@code [0, ramSize)}, device windows on the
 * {@link MmioBus}, and nothing elsewhere — reads of unbacked addresses return all ones and writes
 * to them are dropped, as on a PC where no device claims the cycle.
 *
 * <p>Context: the processor (guest execution, page walks, VMCS accesses) through the
 * {@link PhysicalMemory} methods, and Java host code that plays DMA (loaders, the hosted hypervisor)
 * through {@link #load}, {@link #fill} and the {@code put}/{@code get} helpers.
 *
 * <p>RAM is one lazily committed host mapping ({@link AnonymousMapping}). Host writes notify the
 * processor's {@link CodeMap} once one is attached ({@link #attachCodeMap}), so decoded code never
 * outlives the bytes it came from; loaders that run before the processor decoded anything need no
 * attached map.
 */
public final class GuestMemory implements PhysicalMemory, AutoCloseable {
    /** Default guest RAM, as QEMU's {@code -m} default on x86 of recent versions. */
    public static final long DEFAULT_SIZE = 256L << 20;
    /** Smallest RAM we build: the low 1 MiB PC area plus one MiB above it. */
    public static final long MIN_SIZE = 2L << 20;
    /**
     * Largest RAM: everything must sit below the 32-bit device area (IOAPIC at 0xFEC00000, local APIC
     * at 0xFEE00000), because RAM is one range starting at 0; QEMU's pc machine also keeps at most
     * 3.5 GiB below 4 GiB.
     */
    public static final long MAX_SIZE = 0xE000_0000L;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final AnonymousMapping mapping;
    private final MemorySegment ram;
    private final long size;
    private final MmioBus mmio = new MmioBus();
    private CodeMap codeMap;

    /**
     * Reserves {@code size} bytes of guest RAM. Throws IllegalArgumentException for a size outside
     * [{@link #MIN_SIZE}, {@link #MAX_SIZE}] or not a multiple of 4 KiB, or when the host refuses to
     * reserve that much address space.
     */
    public GuestMemory(long size) {
        if (size < MIN_SIZE || size > MAX_SIZE || (size & 0xFFF) != 0) {
            throw new IllegalArgumentException("guest RAM must be a multiple of 4 KiB between "
                    + (MIN_SIZE >> 20) + " MiB and " + (MAX_SIZE >> 20) + " MiB");
        }
        this.size = size;
        this.mapping = AnonymousMapping.allocate(size);
        this.ram = mapping.segment();
    }

    /** The device windows of this address space. */
    public MmioBus mmio() {
        return mmio;
    }

    @Override
    public void attachCodeMap(CodeMap map) {
        this.codeMap = map;
    }

    /** True when RAM is committed lazily by the host (mmap), false for the eager fallback. */
    public boolean lazilyCommitted() {
        return mapping.lazy();
    }

    @Override
    public MemorySegment ram() {
        return ram;
    }

    @Override
    public long ramSize() {
        return size;
    }

    @Override
    public boolean isRam(long pa, int len) {
        return pa >= 0 && pa + len <= size && pa + len > pa && (mmio.isEmpty() || !mmio.overlaps(pa, len));
    }

    @Override
    public long read(long pa, int len) {
        if (isRam(pa, len)) return readRam(pa, len);
        int w = mmio.find(pa);
        if (w >= 0 && pa + len <= mmio.end(w)) return mmio.device(w).read(pa - mmio.base(w), len) & mask(len);
        long v = 0;
        for (int i = len - 1; i >= 0; i--) v = (v << 8) | readByteAnywhere(pa + i);
        return v;
    }

    @Override
    public void write(long pa, int len, long value) {
        if (isRam(pa, len)) {
            writeRam(pa, len, value);
            if (codeMap != null) codeMap.writtenRange(pa, len);
            return;
        }
        int w = mmio.find(pa);
        if (w >= 0 && pa + len <= mmio.end(w)) {
            mmio.device(w).write(pa - mmio.base(w), len, value & mask(len));
            return;
        }
        for (int i = 0; i < len; i++) writeByteAnywhere(pa + i, (int) (value >>> (8 * i)) & 0xFF);
    }

    private int readByteAnywhere(long pa) {
        if (isRam(pa, 1)) return ram.get(ValueLayout.JAVA_BYTE, pa) & 0xFF;
        int w = mmio.find(pa);
        if (w >= 0) return (int) mmio.device(w).read(pa - mmio.base(w), 1) & 0xFF;
        return 0xFF;
    }

    private void writeByteAnywhere(long pa, int b) {
        if (isRam(pa, 1)) {
            ram.set(ValueLayout.JAVA_BYTE, pa, (byte) b);
            if (codeMap != null) codeMap.written(pa >>> 12);
            return;
        }
        int w = mmio.find(pa);
        if (w >= 0) mmio.device(w).write(pa - mmio.base(w), 1, b);
        // else: unbacked, the write is dropped
    }

    private long readRam(long pa, int len) {
        return switch (len) {
            case 1 -> ram.get(ValueLayout.JAVA_BYTE, pa) & 0xFFL;
            case 2 -> ram.get(U16, pa) & 0xFFFFL;
            case 4 -> ram.get(U32, pa) & 0xFFFF_FFFFL;
            case 8 -> ram.get(U64, pa);
            default -> throw new IllegalArgumentException("access size " + len);
        };
    }

    private void writeRam(long pa, int len, long value) {
        switch (len) {
            case 1 -> ram.set(ValueLayout.JAVA_BYTE, pa, (byte) value);
            case 2 -> ram.set(U16, pa, (short) value);
            case 4 -> ram.set(U32, pa, (int) value);
            case 8 -> ram.set(U64, pa, value);
            default -> throw new IllegalArgumentException("access size " + len);
        }
    }

    private static long mask(int len) {
        return len == 8 ? -1L : (1L << (8 * len)) - 1;
    }

    // ---- host (DMA-like) access, RAM only ----

    /** True when {@code [pa, pa+len)} is inside guest RAM (device windows aside). */
    public boolean containsRam(long pa, long len) {
        return pa >= 0 && len >= 0 && pa + len <= size && pa + len >= pa;
    }

    private void checkRam(long pa, long len) {
        if (!containsRam(pa, len)) {
            throw new IllegalArgumentException(String.format("host access [%#x, %#x) is outside guest RAM", pa, pa + len));
        }
    }

    /** Copies {@code data} into RAM at {@code pa}. */
    public void load(long pa, byte[] data) {
        load(pa, data, 0, data.length);
    }

    /** Copies {@code data[from, from+len)} into RAM at {@code pa}. */
    public void load(long pa, byte[] data, int from, int len) {
        checkRam(pa, len);
        MemorySegment.copy(data, from, ram, ValueLayout.JAVA_BYTE, pa, len);
        if (codeMap != null) codeMap.writtenRange(pa, len);
    }

    /** Sets {@code len} bytes of RAM at {@code pa} to {@code value}. */
    public void fill(long pa, long len, byte value) {
        checkRam(pa, len);
        ram.asSlice(pa, len).fill(value);
        if (codeMap != null) codeMap.writtenRange(pa, len);
    }

    /** Reads {@code len} bytes of RAM at {@code pa}. */
    public byte[] bytes(long pa, int len) {
        checkRam(pa, len);
        byte[] out = new byte[len];
        MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, pa, out, 0, len);
        return out;
    }

    public void put8(long pa, int v) { checkRam(pa, 1); writeRam(pa, 1, v); notifyHost(pa, 1); }
    public void put16(long pa, int v) { checkRam(pa, 2); writeRam(pa, 2, v); notifyHost(pa, 2); }
    public void put32(long pa, long v) { checkRam(pa, 4); writeRam(pa, 4, v); notifyHost(pa, 4); }
    public void put64(long pa, long v) { checkRam(pa, 8); writeRam(pa, 8, v); notifyHost(pa, 8); }
    public int get8(long pa) { checkRam(pa, 1); return (int) readRam(pa, 1); }
    public int get16(long pa) { checkRam(pa, 2); return (int) readRam(pa, 2); }
    public long get32(long pa) { checkRam(pa, 4); return readRam(pa, 4); }
    public long get64(long pa) { checkRam(pa, 8); return readRam(pa, 8); }

    private void notifyHost(long pa, int len) {
        if (codeMap != null) codeMap.writtenRange(pa, len);
    }

    /** Guest RAM reservations currently held in this JVM (each machine holds one until closed). */
    public static long liveReservations() {
        return AnonymousMapping.liveMappings();
    }

    /** Bytes of guest RAM currently reserved in this JVM. */
    public static long liveReservedBytes() {
        return AnonymousMapping.liveBytes();
    }

    /**
     * Returns guest RAM to the host. The memory must not be used afterwards: an access then throws
     * IllegalStateException.
     */
    @Override
    public void close() {
        mapping.close();
    }
}
