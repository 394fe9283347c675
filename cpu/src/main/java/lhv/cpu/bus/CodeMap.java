package lhv.cpu.bus;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Which physical 4 KiB pages hold decoded code, so that a write to one of them discards what was
 * decoded from it (self-modifying code takes effect, SDM Vol. 3A 11.6).
 *
 * <p>Context: the processor's store paths and Java host code writing guest memory. The decoder marks
 * pages; any writer of physical memory calls {@link #written} for the pages it touches.
 */
public final class CodeMap {
    private long[] bits = new long[1024];
    private final List<LongConsumer> listeners = new ArrayList<>();
    private final List<LongConsumer> markListeners = new ArrayList<>();

    /** Registers a callback receiving the physical page number of a code page that was written. */
    public void onInvalidate(LongConsumer listener) {
        listeners.add(listener);
    }

    /**
     * Registers a callback receiving the physical page number of a page that has just become code
     * (was not marked before). The MMU uses it to drop cached write permissions for that page, so
     * its store fast path never needs to look at this map.
     */
    public void onMark(LongConsumer listener) {
        markListeners.add(listener);
    }

    /** Marks physical page {@code ppn} as holding decoded code. */
    public void markCode(long ppn) {
        int word = (int) (ppn >>> 6);
        if (ppn < 0 || ppn >>> 6 > Integer.MAX_VALUE - 8) return;
        if (word >= bits.length) {
            bits = java.util.Arrays.copyOf(bits, Math.max(word + 1, bits.length * 2));
        }
        if ((bits[word] & (1L << ppn)) != 0) return;
        bits[word] |= 1L << ppn;
        for (LongConsumer l : markListeners) l.accept(ppn);
    }

    /** True when physical page {@code ppn} holds decoded code. */
    public boolean isCode(long ppn) {
        int word = (int) (ppn >>> 6);
        return ppn >= 0 && word < bits.length && (bits[word] & (1L << ppn)) != 0;
    }

    /** To be called after physical page {@code ppn} was written; drops its decoded code if any. */
    public void written(long ppn) {
        if (!isCode(ppn)) return;
        bits[(int) (ppn >>> 6)] &= ~(1L << ppn);
        for (LongConsumer l : listeners) l.accept(ppn);
    }

    /** Like {@link #written(long)} for every page overlapped by {@code [pa, pa+len)}. */
    public void writtenRange(long pa, long len) {
        if (len <= 0) return;
        for (long p = pa >>> 12; p <= (pa + len - 1) >>> 12; p++) written(p);
    }
}
