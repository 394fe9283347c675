package lhv.vmx.vmcs;

import java.util.Arrays;

/**
 * An immutable copy of every VMCS field, taken when VM entry starts. The VM-entry checks read only
 * this, so a check can never change the VMCS and a diagnosis can run on any saved state.
 *
 * <p>Context: created in VMX root operation by VMLAUNCH/VMRESUME, {@code hv check} and tests.
 */
public final class VmcsSnapshot {
    private final long[] values;

    VmcsSnapshot(long[] values) {
        this.values = values;
    }

    /** A snapshot in which every field is 0. */
    public static VmcsSnapshot empty() {
        return new VmcsSnapshot(new long[VmcsField.COUNT]);
    }

    public long get(VmcsField field) {
        return values[field.ordinal()];
    }

    /** The low 32 bits of {@code field}, for 16- and 32-bit fields. */
    public int getInt(VmcsField field) {
        return (int) values[field.ordinal()];
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
