package lhv.vmx.vmcs;

/**
 * Type of a VMCS field, encoded in bits 11:10 of its encoding (SDM Vol. 3C 25.11.2, Table 25-21).
 *
 * <p>Context: static specification data.
 */
public enum FieldType {
    CONTROL("control"), READ_ONLY_DATA("VM-exit information (read-only data)"), GUEST_STATE("guest state"),
    HOST_STATE("host state");

    public final String description;

    FieldType(String description) {
        this.description = description;
    }

    /** The type encoded in bits 11:10 of {@code encoding}. */
    public static FieldType ofEncoding(int encoding) {
        return values()[(encoding >>> 10) & 3];
    }
}
