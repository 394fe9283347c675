package lhv.platform.memory;

/**
 * A device register window in the physical address space (local APIC, IOAPIC, HPET later).
 *
 * <p>Context: called from guest instruction execution (loads and stores that reach the window) with
 * the offset inside the window; never for addresses outside it.
 */
public interface MmioDevice {
    /** Reads {@code size} (1, 2, 4 or 8) bytes at {@code offset} inside the window, zero-extended. */
    long read(long offset, int size);

    /** Writes the low {@code size} (1, 2, 4 or 8) bytes of {@code value} at {@code offset}. */
    void write(long offset, int size, long value);
}
