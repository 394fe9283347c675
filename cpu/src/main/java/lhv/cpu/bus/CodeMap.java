package lhv.cpu.bus;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Which physical 4 KiB pages hold decoded code, so that a write to one of them discards what was
 * decoded from it (self-modifying code takes effect, SDM Vol. 3A 11.6). It also watches the pages
 * that hold paging structures the MMU has walked ({@link #markTable}): every write to one of them
 * advances {@link #tableWrites}, which tells the MMU whether translations it keeps across VM
 * entries and exits can still equal a fresh page walk.
 *
 * <p>Context: the processor's store paths and Java host code writing guest memory. The decoder marks
 * code pages, the MMU marks table pages; any writer of physical memory calls {@link #written} for the
 * pages it touches.
 */
public final class CodeMap {
    private long[] bits = new long[1024];
    /** Pages that held a paging-structure entry used by a page walk (only while the MMU asks for it). */
    private long[] tables = new long[1024];
    /** Writes to table pages so far: a change means cached translations may differ from the tables. */
    private long tableWrites;
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

    /**
     * Marks physical page {@code ppn} as holding paging structures; returns true when it was not
     * marked before (the caller then drops cached write permissions for it, as for code pages).
     * A mark stays: a page once used for paging structures is watched from then on.
     */
    public boolean markTable(long ppn) {
        int word = (int) (ppn >>> 6);
        if (ppn < 0 || ppn >>> 6 > Integer.MAX_VALUE - 8) return false;
        if (word >= tables.length) {
            tables = java.util.Arrays.copyOf(tables, Math.max(word + 1, tables.length * 2));
        }
        if ((tables[word] & (1L << ppn)) != 0) return false;
        tables[word] |= 1L << ppn;
        return true;
    }

    /** True when physical page {@code ppn} holds paging structures a page walk used. */
    public boolean isTable(long ppn) {
        int word = (int) (ppn >>> 6);
        return ppn >= 0 && word < tables.length && (tables[word] & (1L << ppn)) != 0;
    }

    /** How many writes reached table pages so far (compared, never interpreted). */
    public long tableWrites() {
        return tableWrites;
    }

    /** To be called after physical page {@code ppn} was written; drops its decoded code if any. */
    public void written(long ppn) {
        if (isTable(ppn)) tableWrites++;
        codeWritten(ppn);
    }

    /**
     * Like {@link #written} for the MMU's own updates of accessed and dirty flags (SDM 4.8): they only
     * set those flags, so no cached translation stops being what a walk would produce (a translation
     * is cached only once its flags are set) and table watchers are not told.
     */
    public void flagsWritten(long ppn) {
        codeWritten(ppn);
    }

    private void codeWritten(long ppn) {
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
