package lhv.vmx.vmcs;

import java.util.Arrays;

/**
 * Read-only access to every VMCS field for the VM-entry checks, so a check can never change the
 * VMCS. Either an immutable copy ({@link Vmcs#snapshot}: diagnosis of any saved state, tests) or a
 * read-only view of the live current VMCS ({@link Vmcs#view}: VM entry, which must not copy ~200
 * fields on every VMRESUME). A view can record which fields a check read ({@link #recordReadsInto}),
 * which lets VM entry skip a check whose inputs did not change ({@link lhv.vmx.entry.EntryCheckMemo}).
 *
 * <p>Context: created in VMX root operation by VMLAUNCH/VMRESUME, {@code hv check} and tests.
 */
public final class VmcsSnapshot {
    private final long[] values;
    /** When non-null, every field read sets its ordinal's bit here (a bit set over VmcsField ordinals). */
    private long[] reads;

    /**
     * For a live view: the VMCS's written-fields bit set (a bit per field ordinal, set by every store
     * that changes a field's value); null for a copy, which never changes.
     */
    private final long[] written;

    VmcsSnapshot(long[] values) {
        this(values, null);
    }

    VmcsSnapshot(long[] values, long[] written) {
        this.values = values;
        this.written = written;
    }

    /**
     * The fields whose value was changed by a store since the last {@link #clearWritten} (a superset of
     * the fields that now differ), as {@link #READ_SET_WORDS} words; null when this is an immutable copy.
     */
    public long[] writtenFields() {
        return written;
    }

    /** Forgets which fields were written (the caller has taken note of their values). */
    public void clearWritten() {
        long[] w = written;
        if (w == null) return;
        for (int i = 0; i < READ_SET_WORDS; i++) w[i] = 0;   // a constant count: unrolled, no call (every VM entry)
    }

    /** A snapshot in which every field is 0. */
    public static VmcsSnapshot empty() {
        return new VmcsSnapshot(new long[VmcsField.COUNT]);
    }

    public long get(VmcsField field) {
        int o = field.ordinal();
        long[] r = reads;
        if (r != null) r[o >>> 6] |= 1L << o;
        return values[o];
    }

    /** The low 32 bits of {@code field}, for 16- and 32-bit fields. */
    public int getInt(VmcsField field) {
        return (int) get(field);
    }

    /** The value of the field with ordinal {@code ordinal}, not recorded as a read (for comparing states). */
    public long valueAt(int ordinal) {
        return values[ordinal];
    }

    /** Words of a bit set with one bit per {@link VmcsField} ordinal. */
    public static final int READ_SET_WORDS = (VmcsField.COUNT + 63) >>> 6;

    /**
     * From now on every field read sets its ordinal's bit in {@code readSet} ({@link #READ_SET_WORDS}
     * words); null stops recording.
     */
    public void recordReadsInto(long[] readSet) {
        this.reads = readSet;
    }

    /** A copy of this snapshot with {@code field} set to {@code value} (truncated to its width). */
    public VmcsSnapshot with(VmcsField field, long value) {
        long[] copy = values.clone();
        copy[field.ordinal()] = value & field.mask();
        return new VmcsSnapshot(copy);
    }

    /** Every non-zero field, one per line as {@code NAME = 0x...}, in field-table order (for diagnostics). */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (VmcsField f : VmcsField.values()) {
            long v = values[f.ordinal()];
            if (v != 0) sb.append(f.name()).append(" = 0x").append(Long.toHexString(v)).append('\n');
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VmcsSnapshot s && Arrays.equals(values, s.values);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }
}
