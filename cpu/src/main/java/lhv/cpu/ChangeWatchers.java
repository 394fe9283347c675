package lhv.cpu;

import java.util.Arrays;

/**
 * Change masks for a small fixed set of watchers: each watcher gets a 64-bit mask; {@link #mark}
 * sets bits in every watcher's mask and a watcher clears its own when it has caught up. The
 * processor ({@link Cpu#watchStateChanges}) and the VMCS cache keep one each, so that each VM entry
 * and exit procedure can tell which state groups changed since it last ran.
 *
 * <p>Context: owned by one processor or VMCS cache; single-threaded like them.
 */
public final class ChangeWatchers {
    private long[] masks = new long[0];

    /** Registers a watcher whose mask starts with every bit set; returns its number. */
    public int add() {
        int k = masks.length;
        masks = Arrays.copyOf(masks, k + 1);
        masks[k] = -1L;
        return k;
    }

    /** Sets {@code bits} in every watcher's mask. */
    public void mark(long bits) {
        long[] m = masks;
        for (int k = 0; k < m.length; k++) m[k] |= bits;
    }

    /** Sets every bit in every watcher's mask. */
    public void markAll() {
        Arrays.fill(masks, -1L);
    }

    /** Watcher {@code k}'s mask: the bits marked since it last cleared it. */
    public long get(int k) {
        return masks[k];
    }

    public void clear(int k) {
        masks[k] = 0;
    }
}
