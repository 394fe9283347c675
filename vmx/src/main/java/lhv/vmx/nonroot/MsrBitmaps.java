package lhv.vmx.nonroot;

import lhv.cpu.bus.PhysicalMemory;

/**
 * The RDMSR/WRMSR exit decision of SDM Vol. 3C 26.1.3 with the MSR bitmaps of SDM 25.6.9: one 4 KiB
 * page of four 1 KiB bitmaps — read low (MSRs 00000000H-00001FFFH) at offset 0, read high
 * (C0000000H-C0001FFFH) at 1024, write low at 2048, write high at 3072.
 *
 * <p>Context: non-root intercept of RDMSR/WRMSR (after the CPL check, which has priority).
 */
public final class MsrBitmaps {
    private MsrBitmaps() { }

    /**
     * Whether RDMSR ({@code write} false) or WRMSR of MSR {@code ecx} exits: always when "use MSR
     * bitmaps" is 0 or ECX is outside both ranges, otherwise when the MSR's bit is 1.
     */
    public static boolean exits(PhysicalMemory mem, boolean useMsrBitmaps, long bitmap, int ecx, boolean write) {
        if (!useMsrBitmaps) return true;
        int offset;
        if (Integer.compareUnsigned(ecx, 0x1FFF) <= 0) offset = 0;
        else if (Integer.compareUnsigned(ecx, 0xC0000000) >= 0 && Integer.compareUnsigned(ecx, 0xC0001FFF) <= 0) offset = 1024;
        else return true;
        if (write) offset += 2048;
        return IoBitmaps.bitSet(mem, bitmap + offset, ecx & 0x1FFF);
    }
}
