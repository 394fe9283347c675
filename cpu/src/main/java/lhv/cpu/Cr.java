package lhv.cpu;

/** Control-register, EFER and XCR0 bits, SDM Vol. 3A 2.5 and 2.2.1. */
public final class Cr {
    private Cr() { }
    public static final long CR0_PE = 1L, CR0_MP = 1L << 1, CR0_EM = 1L << 2, CR0_TS = 1L << 3,
            CR0_ET = 1L << 4, CR0_NE = 1L << 5, CR0_WP = 1L << 16, CR0_AM = 1L << 18,
            CR0_NW = 1L << 29, CR0_CD = 1L << 30, CR0_PG = 1L << 31;
    public static final long CR4_VME = 1L, CR4_PVI = 1L << 1, CR4_TSD = 1L << 2, CR4_DE = 1L << 3,
            CR4_PSE = 1L << 4, CR4_PAE = 1L << 5, CR4_MCE = 1L << 6, CR4_PGE = 1L << 7,
            CR4_PCE = 1L << 8, CR4_OSFXSR = 1L << 9, CR4_OSXMMEXCPT = 1L << 10, CR4_UMIP = 1L << 11,
            CR4_LA57 = 1L << 12, CR4_VMXE = 1L << 13, CR4_SMXE = 1L << 14, CR4_FSGSBASE = 1L << 16,
            CR4_PCIDE = 1L << 17, CR4_OSXSAVE = 1L << 18, CR4_SMEP = 1L << 20, CR4_SMAP = 1L << 21,
            CR4_PKE = 1L << 22;
    public static final long EFER_SCE = 1L, EFER_LME = 1L << 8, EFER_LMA = 1L << 10, EFER_NXE = 1L << 11;
}
