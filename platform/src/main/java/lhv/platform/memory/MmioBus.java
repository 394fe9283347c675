package lhv.platform.memory;

import java.util.Arrays;

/**
 * The device windows of the physical address space: non-overlapping ranges, each owned by one
 * {@link MmioDevice}. Lookup is a binary search over the (few) windows sorted by base.
 *
 * <p>Context: registration by the Java host while assembling a machine; lookups from guest
 * execution through {@link GuestMemory}.
 */
public final class MmioBus {
    private long[] bases = new long[0];
    private long[] ends = new long[0]; // exclusive
    private MmioDevice[] devices = new MmioDevice[0];

    /** Claims {@code [base, base+length)} for {@code device}; overlapping an existing window is an error. */
    public void register(long base, long length, MmioDevice device) {
        if (length <= 0 || base < 0 || base + length < base) {
            throw new IllegalArgumentException("bad MMIO window " + Long.toHexString(base) + "+" + Long.toHexString(length));
        }
        long end = base + length;
        int n = bases.length;
        int at = 0;
        while (at < n && bases[at] < base) at++;
        if ((at > 0 && ends[at - 1] > base) || (at < n && bases[at] < end)) {
            throw new IllegalArgumentException("MMIO window at 0x" + Long.toHexString(base) + " overlaps another window");
        }
        bases = insert(bases, at, base);
        ends = insert(ends, at, end);
        MmioDevice[] d = Arrays.copyOf(devices, n + 1);
        System.arraycopy(d, at, d, at + 1, n - at);
        d[at] = device;
        devices = d;
    }

    private static long[] insert(long[] a, int at, long v) {
        long[] r = Arrays.copyOf(a, a.length + 1);
        System.arraycopy(r, at, r, at + 1, a.length - at);
        r[at] = v;
        return r;
    }

    /** Index of the window containing {@code pa}, or -1. */
    int find(long pa) {
        int lo = 0, hi = bases.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (pa < bases[mid]) hi = mid - 1;
            else if (pa >= ends[mid]) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    /** True when any window intersects {@code [pa, pa+size)}. */
    public boolean overlaps(long pa, long size) {
        for (int i = 0; i < bases.length; i++) {
            if (bases[i] < pa + size && ends[i] > pa) return true;
        }
        return false;
    }

    boolean isEmpty() {
        return bases.length == 0;
    }

    long base(int window) {
        return bases[window];
    }

    long end(int window) {
        return ends[window];
    }

    MmioDevice device(int window) {
        return devices[window];
    }
}
