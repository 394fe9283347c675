package lhv.hypervisor.setup;

import lhv.cpu.bus.PhysicalMemory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The hypervisor's allocator of machine memory: the role kmalloc/__get_free_pages play in the
 * seed's kernel module. Hands out page-aligned regions (VMXON region, VMCS, I/O and MSR bitmaps,
 * MSR areas, host tables, guest memory) from machine RAM, zero-filled, and counts what is live, so
 * that a test can prove every path frees everything it allocated.
 *
 * <p>Context: Java host (VMX root software). Regions are physical addresses; the hypervisor writes
 * them through {@link PhysicalMemory#ram()} as a kernel writes its direct map.
 */
public final class MachineRegions {
    public static final int PAGE = 4096;

    /** One allocation: a name for diagnostics, its machine-physical base and size in bytes. */
    public record Region(String name, long base, long size) {
        public long end() {
            return base + size;
        }

        @Override
        public String toString() {
            return String.format("%s [%#x-%#x)", name, base, base + size);
        }
    }

    private final PhysicalMemory memory;
    private final long poolBase, poolEnd;
    private final List<Region> live = new ArrayList<>();
    private long allocations, frees;

    /** Allocates from {@code [poolBase, poolEnd)} of {@code memory}'s RAM. */
    public MachineRegions(PhysicalMemory memory, long poolBase, long poolEnd) {
        if (poolEnd > memory.ramSize()) throw new IllegalArgumentException("pool beyond RAM");
        this.memory = memory;
        this.poolBase = poolBase;
        this.poolEnd = poolEnd;
    }

    /** A zeroed region of at least {@code size} bytes aligned to {@code align} (a power of two >= 4 KiB). */
    public Region allocate(String name, long size, long align) {
        long rounded = (size + PAGE - 1) & -PAGE;
        long a = Math.max(align, PAGE);
        for (long base = (poolBase + a - 1) & -a; base + rounded <= poolEnd; base += a) {
            long overlapEnd = overlapEnd(base, rounded);
            if (overlapEnd < 0) return take(new Region(name, base, rounded));
            base = ((overlapEnd + a - 1) & -a) - a;
        }
        throw new OutOfMachineMemory(name, rounded);
    }

    /** A zeroed page-aligned region of {@code size} bytes. */
    public Region allocate(String name, long size) {
        return allocate(name, size, PAGE);
    }

    /** Claims exactly {@code [base, base+size)} (guest memory at the addresses the guest expects). */
    public Region allocateAt(String name, long base, long size) {
        if ((base & (PAGE - 1)) != 0 || base < poolBase || base + size > poolEnd || overlapEnd(base, size) >= 0) {
            throw new OutOfMachineMemory(name, size);
        }
        return take(new Region(name, base, (size + PAGE - 1) & -PAGE));
    }

    private Region take(Region r) {
        ram().asSlice(r.base(), r.size()).fill((byte) 0);
        live.add(r);
        allocations++;
        return r;
    }

    /** Returns {@code r}; its contents are cleared so nothing leaks into the next allocation. */
    public void free(Region r) {
        if (r == null) return;
        if (!live.remove(r)) throw new IllegalStateException("double free of " + r);
        ram().asSlice(r.base(), r.size()).fill((byte) 0);
        frees++;
    }

    private long overlapEnd(long base, long size) {
        long end = -1;
        for (Region r : live) {
            if (base < r.end() && r.base() < base + size) end = Math.max(end, r.end());
        }
        return end;
    }

    private MemorySegment ram() {
        return memory.ram();
    }

    /** The regions not yet freed, in allocation order. */
    public List<Region> live() {
        return Collections.unmodifiableList(new ArrayList<>(live));
    }

    public long allocations() {
        return allocations;
    }

    public long frees() {
        return frees;
    }

    /** Machine memory ran out (or a fixed region was taken): reported like a failed kmalloc. */
    public static final class OutOfMachineMemory extends RuntimeException {
        public OutOfMachineMemory(String name, long size) {
            super("cannot allocate " + size + " bytes of machine memory for " + name, null, false, false);
        }
    }
}
