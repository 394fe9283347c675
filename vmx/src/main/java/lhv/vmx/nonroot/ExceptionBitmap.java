package lhv.vmx.nonroot;

/**
 * The exception bitmap of SDM Vol. 3C 25.6.3 and its page-fault refinement (26.2, "Exceptions").
 *
 * <p>Context: non-root event delivery of an exception (vector 0..31).
 */
public final class ExceptionBitmap {
    private ExceptionBitmap() { }

    /**
     * Whether exception {@code vector} exits. For #PF (14) the bitmap bit selects the sense of the
     * comparison: with PFEC &amp; mask == match the bit decides as usual, otherwise the opposite.
     */
    public static boolean exits(int bitmap, int vector, int pfec, int pfecMask, int pfecMatch) {
        boolean bit = (bitmap >>> vector & 1) != 0;
        if (vector != 14) return bit;
        boolean matches = (pfec & pfecMask) == pfecMatch;
        return matches == bit;
    }
}
