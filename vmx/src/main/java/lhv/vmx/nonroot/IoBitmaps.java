package lhv.vmx.nonroot;

import lhv.cpu.bus.PhysicalMemory;

/**
 * The I/O-instruction exit decision of SDM Vol. 3C 26.1.3 with the I/O bitmaps of SDM 25.6.4:
 * bitmap A (4 KiB at its physical address) covers ports 0000H-7FFFH, bitmap B ports 8000H-FFFFH,
 * one bit per port.
 *
 * <p>Context: non-root intercept of IN/OUT/INS/OUTS, before the access reaches the port bus.
 */
public final class IoBitmaps {
    private IoBitmaps() { }

    /**
     * Whether an access of {@code size} bytes starting at {@code port} exits: with "use I/O bitmaps"
     * clear, exactly when "unconditional I/O exiting" is set; with it set, when the bit of any port
     * touched is 1 or the access wraps from FFFFH to 0000H (the unconditional control is then ignored).
     */
    public static boolean exits(PhysicalMemory mem, boolean useIoBitmaps, boolean unconditional,
                                long bitmapA, long bitmapB, int port, int size) {
        if (!useIoBitmaps) return unconditional;
        port &= 0xFFFF;
        if (port + size - 1 > 0xFFFF) return true; // wraps around the 16-bit port space
        for (int p = port; p < port + size; p++) {
            if (bitSet(mem, p < 0x8000 ? bitmapA : bitmapB, p & 0x7FFF)) return true;
        }
        return false;
    }

    static boolean bitSet(PhysicalMemory mem, long bitmap, int bit) {
        return (mem.read(bitmap + (bit >>> 3), 1) >>> (bit & 7) & 1) != 0;
    }
}
