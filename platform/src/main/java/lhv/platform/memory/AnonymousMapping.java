package lhv.platform.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Reserves guest RAM from the host the way a hypervisor does: one private anonymous mapping with no
 * swap reservation, so the host commits a page only when the guest (or a loader) first touches it.
 * A 4 GiB guest that runs a hello-world costs a few pages, not 4 GiB.
 *
 * <p>Context: Java host, machine construction and teardown. Uses {@code mmap}/{@code munmap} of the
 * C library through the foreign-function API (Linux and macOS flag values). Where that is not
 * possible (another OS, native access denied) it falls back to an {@link Arena} allocation, which
 * the JDK zero-fills and therefore commits in full; {@link #lazy()} tells which one was used.
 */
final class AnonymousMapping implements AutoCloseable {
    private static final int PROT_READ = 1, PROT_WRITE = 2;

    /** Mappings and bytes currently reserved by every machine of this JVM (leak checks, diagnostics). */
    private static final java.util.concurrent.atomic.AtomicLong LIVE_MAPPINGS = new java.util.concurrent.atomic.AtomicLong(),
            LIVE_BYTES = new java.util.concurrent.atomic.AtomicLong();

    private final MemorySegment segment;
    private final Arena arena;
    private final long address;
    private final MethodHandle munmap;
    private boolean closed;

    private AnonymousMapping(MemorySegment segment, Arena arena, long address, MethodHandle munmap) {
        this.segment = segment;
        this.arena = arena;
        this.address = address;
        this.munmap = munmap;
        LIVE_MAPPINGS.incrementAndGet();
        LIVE_BYTES.addAndGet(segment.byteSize());
    }

    static long liveMappings() {
        return LIVE_MAPPINGS.get();
    }

    static long liveBytes() {
        return LIVE_BYTES.get();
    }

    /** Maps {@code size} bytes (a multiple of 4 KiB) of zeroed, lazily committed memory. */
    static AnonymousMapping allocate(long size) {
        int flags = mapFlags();
        if (flags != 0) {
            MemorySegment addr;
            MethodHandle munmap;
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                addr = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, size,
                        PROT_READ | PROT_WRITE, flags, -1, 0L);
            } catch (Throwable e) {
                addr = null; // native access unavailable (e.g. not granted): fall back below
                munmap = null;
            }
            if (addr != null) {
                if (addr.address() == -1L || addr.address() == 0L) {
                    // The host refused the reservation (address space or overcommit limits); an eager
                    // allocation of the same size would fail too.
                    throw new IllegalArgumentException("cannot reserve " + (size >> 20) + " MiB of host memory for guest RAM");
                }
                // The segment belongs to an arena closed before the munmap: a use after close then
                // fails with IllegalStateException instead of touching unmapped memory (a JVM crash).
                Arena arena = Arena.ofShared();
                return new AnonymousMapping(addr.reinterpret(size, arena, null), arena, addr.address(), munmap);
            }
        }
        Arena arena = Arena.ofShared();
        return new AnonymousMapping(arena.allocate(size, 4096), arena, 0, null);
    }

    /** MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE for the host OS, or 0 when we do not know its values. */
    private static int mapFlags() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        if (os.contains("linux")) return 0x02 | 0x20 | 0x4000;
        if (os.contains("mac")) return 0x0002 | 0x1000 | 0x0040;
        return 0;
    }

    MemorySegment segment() {
        return segment;
    }

    /** True when the memory comes from mmap and is committed page by page on first touch. */
    boolean lazy() {
        return munmap != null;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        long size = segment.byteSize();
        arena.close();
        LIVE_MAPPINGS.decrementAndGet();
        LIVE_BYTES.addAndGet(-size);
        if (munmap == null) return;
        try {
            int rc = (int) munmap.invokeExact(MemorySegment.ofAddress(address), size);
            if (rc != 0) throw new IllegalStateException("munmap failed for guest RAM");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("munmap failed for guest RAM", e);
        }
    }
}
