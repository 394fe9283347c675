package lhv.cpu.bus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Which physical 4 KiB pages hold decoded code, so that a write to one of them discards what was
 * decoded from it (self-modifying code takes effect, SDM Vol. 3A 11.6). It also watches the pages
 * that hold paging structures the MMU has walked ({@link #markTable}): every write to one of them
 * advances {@link #tableWrites}, which tells the MMU whether translations it keeps across VM
 * entries and exits can still equal a fresh page walk; and the pages VMX transitions read data from
 * and remember (the MSR areas, {@link #markWatched}), whose writes advance {@link #watchedWrites}.
 *
 * <p>Context: the processor's store paths and Java host code writing guest memory. The decoder marks
 * code pages, the MMU marks table pages; any writer of physical memory calls {@link #written} for the
 * pages it touches.
 */
public final class CodeMap {
    /** Pages holding decoded code. */
    private final PageSet code = new PageSet();
    /** Pages that held a paging-structure entry used by a page walk (only while the MMU asks for it). */
    private final PageSet tables = new PageSet();
    /** Pages holding data the processor reads at VM transitions and remembers (VMX MSR areas). */
    private final PageSet watched = new PageSet();
    /** Writes to table pages so far: a change means cached translations may differ from the tables. */
    private long tableWrites;
    /** Writes to watched pages so far: a change means remembered transition data may differ from memory. */
    private long watchedWrites;
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
        if (!code.add(ppn)) return;
        for (LongConsumer l : markListeners) l.accept(ppn);
    }

    /** True when physical page {@code ppn} holds decoded code. */
    public boolean isCode(long ppn) {
        return code.contains(ppn);
    }

    /**
     * Marks physical page {@code ppn} as holding paging structures; returns true when it was not
     * marked before (the caller then drops cached write permissions for it, as for code pages).
     * A mark stays: a page once used for paging structures is watched from then on.
     */
    public boolean markTable(long ppn) {
        return tables.add(ppn);
    }

    /** True when physical page {@code ppn} holds paging structures a page walk used. */
    public boolean isTable(long ppn) {
        return tables.contains(ppn);
    }

    /** How many writes reached table pages so far (compared, never interpreted). */
    public long tableWrites() {
        return tableWrites;
    }

    /**
     * Marks physical page {@code ppn} as holding data the processor remembers between VM transitions
     * (the VMX MSR areas); returns true when it was not marked before (the caller then drops cached
     * write permissions for it, see {@code Mmu.watchWrites}). A mark stays.
     */
    public boolean markWatched(long ppn) {
        return watched.add(ppn);
    }

    /** True when physical page {@code ppn} is watched ({@link #markWatched}). */
    public boolean isWatched(long ppn) {
        return watched.contains(ppn);
    }

    /** How many writes reached watched pages so far (compared, never interpreted). */
    public long watchedWrites() {
        return watchedWrites;
    }

    /** To be called after physical page {@code ppn} was written; drops its decoded code if any. */
    public void written(long ppn) {
        if (tables.contains(ppn)) tableWrites++;
        if (watched.contains(ppn)) watchedWrites++;
        codeWritten(ppn);
    }

    /**
     * Like {@link #written} for the MMU's own updates of accessed and dirty flags (SDM 4.8): they only
     * set those flags, so no cached translation stops being what a walk would produce (a translation
     * is cached only once its flags are set) and table watchers are not told.
     */
    public void flagsWritten(long ppn) {
        if (watched.contains(ppn)) watchedWrites++;
        codeWritten(ppn);
    }

    private void codeWritten(long ppn) {
        if (!code.remove(ppn)) return;
        for (LongConsumer l : listeners) l.accept(ppn);
    }

    /** Like {@link #written(long)} for every page overlapped by {@code [pa, pa+len)}. */
    public void writtenRange(long pa, long len) {
        if (len <= 0) return;
        for (long p = pa >>> 12; p <= (pa + len - 1) >>> 12; p++) written(p);
    }

    /** A set of physical page numbers: a bit map that grows with the highest page marked. */
    private static final class PageSet {
        private long[] bits = new long[1024];

        /** Adds {@code ppn}; true when it was not in the set. Page numbers past the map's reach are ignored. */
        boolean add(long ppn) {
            if (ppn < 0 || ppn >>> 6 > Integer.MAX_VALUE - 8) return false;
            int word = (int) (ppn >>> 6);
            if (word >= bits.length) bits = Arrays.copyOf(bits, Math.max(word + 1, bits.length * 2));
            if ((bits[word] & 1L << ppn) != 0) return false;
            bits[word] |= 1L << ppn;
            return true;
        }

        boolean contains(long ppn) {
            int word = (int) (ppn >>> 6);
            return ppn >= 0 && word < bits.length && (bits[word] & 1L << ppn) != 0;
        }

        /** Removes {@code ppn}; true when it was in the set. */
        boolean remove(long ppn) {
            if (!contains(ppn)) return false;
            bits[(int) (ppn >>> 6)] &= ~(1L << ppn);
            return true;
        }
    }
}
