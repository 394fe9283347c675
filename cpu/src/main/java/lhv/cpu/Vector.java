package lhv.cpu;

/**
 * Architectural exception vectors, SDM Vol. 3A 6.3.1 (Table 6-1), with their class for the
 * double-fault rules of SDM 6.15 (Table 6-4/6-5) and whether they push an error code.
 */
public enum Vector {
    DE(0, Kind.CONTRIBUTORY, false), DB(1, Kind.BENIGN, false), NMI(2, Kind.BENIGN, false),
    BP(3, Kind.BENIGN, false), OF(4, Kind.BENIGN, false), BR(5, Kind.BENIGN, false),
    UD(6, Kind.BENIGN, false), NM(7, Kind.BENIGN, false), DF(8, Kind.DOUBLE_FAULT, true),
    CSO(9, Kind.BENIGN, false), TS(10, Kind.CONTRIBUTORY, true), NP(11, Kind.CONTRIBUTORY, true),
    SS(12, Kind.CONTRIBUTORY, true), GP(13, Kind.CONTRIBUTORY, true), PF(14, Kind.PAGE_FAULT, true),
    MF(16, Kind.BENIGN, false), AC(17, Kind.BENIGN, true), MC(18, Kind.BENIGN, false),
    XM(19, Kind.BENIGN, false), VE(20, Kind.BENIGN, false), CP(21, Kind.CONTRIBUTORY, true);

    /** Class of an exception for the double-fault decision, SDM Vol. 3A 6.15 Table 6-4. */
    public enum Kind { BENIGN, CONTRIBUTORY, PAGE_FAULT, DOUBLE_FAULT }

    public final int number;
    public final Kind kind;
    public final boolean hasErrorCode;

    Vector(int number, Kind kind, boolean hasErrorCode) {
        this.number = number;
        this.kind = kind;
        this.hasErrorCode = hasErrorCode;
    }

    private static final Vector[] BY_NUMBER = new Vector[32];
    static {
        for (Vector v : values()) BY_NUMBER[v.number] = v;
    }

    /** The exception with this vector number, or null for 15, 22..31 and interrupt vectors. */
    public static Vector of(int number) {
        return number >= 0 && number < 32 ? BY_NUMBER[number] : null;
    }
}
