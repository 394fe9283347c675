package lhv.vmx.vmcs;

/**
 * Width of a VMCS field, encoded in bits 14:13 of its encoding (SDM Vol. 3C 25.11.2, Table 25-21).
 * Natural-width fields are 64 bits wide on processors that support Intel 64 architecture, as ours.
 *
 * <p>Context: static specification data.
 */
public enum FieldWidth {
    BITS_16(16), BITS_64(64), BITS_32(32), NATURAL(64);

    /** Number of bits the field holds on this (Intel 64) processor. */
    public final int bits;

    FieldWidth(int bits) {
        this.bits = bits;
    }

    /** Mask of the bits the field can hold. */
    public long mask() {
        return bits == 64 ? -1L : (1L << bits) - 1;
    }

    /** The width encoded in bits 14:13 of {@code encoding}. */
    public static FieldWidth ofEncoding(int encoding) {
        return values()[(encoding >>> 13) & 3];
    }
}
