package lhv.cpu;

/** RFLAGS bit positions, SDM Vol. 1 3.4.3 (Figure 3-8). */
public final class Rflags {
    private Rflags() { }
    public static final long CF = 1L, FIXED1 = 1L << 1, PF = 1L << 2, AF = 1L << 4, ZF = 1L << 6,
            SF = 1L << 7, TF = 1L << 8, IF = 1L << 9, DF = 1L << 10, OF = 1L << 11,
            IOPL = 3L << 12, NT = 1L << 14, RF = 1L << 16, VM = 1L << 17, AC = 1L << 18,
            VIF = 1L << 19, VIP = 1L << 20, ID = 1L << 21;
    /** The six arithmetic status flags. */
    public static final long STATUS = CF | PF | AF | ZF | SF | OF;
    /** Bits software can ever see set (others read as 0, bit 1 reads as 1). */
    public static final long DEFINED = STATUS | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID | FIXED1;
}
