package lhv.cpu.bus;

import java.lang.foreign.MemorySegment;

/**
 * The physical address space as the processor sees it. Defined here, at the bottom of the layer
 * graph, and implemented by the board (platform layer).
 *
 * <p>Context: called by the processor (guest instruction execution, page walks, VMCS accesses) and
 * by Java host code that plays DMA (loaders, the hosted hypervisor writing bitmaps).
 *
 * <p>Guest RAM is one off-heap segment covering physical addresses {@code [0, ramSize())}; the
 * processor's fast paths (TLB hits, instruction fetch) access it directly. Every other physical
 * address goes through {@link #read}/{@link #write}, which the board routes to MMIO devices or
 * treats as unbacked (reads all ones, writes dropped).
 */
public interface PhysicalMemory {

    /** Off-heap guest RAM; byte {@code i} is physical address {@code i}. Little-endian accesses. */
    MemorySegment ram();

    /** Size of guest RAM in bytes (a multiple of 4 KiB). */
    long ramSize();

    /** True when {@code [pa, pa+size)} lies wholly inside plain RAM (no MMIO window over it). */
    default boolean isRam(long pa, int size) {
        return pa >= 0 && pa + size <= ramSize() && pa + size > pa;
    }

    /** Reads {@code size} (1, 2, 4 or 8) bytes at any physical address, zero-extended. */
    long read(long pa, int size);

    /**
     * Writes the low {@code size} (1, 2, 4 or 8) bytes of {@code value} at any physical address; a
     * write to RAM is reported to the attached {@link CodeMap}.
     */
    void write(long pa, int size, long value);

    /** From now on writes through this object tell {@code map} which pages changed (the processor attaches its own). */
    void attachCodeMap(CodeMap map);
}
