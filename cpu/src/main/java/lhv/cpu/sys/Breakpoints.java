package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;

/**
 * The debug-register breakpoints DR0-DR3 as DR7 enables them (SDM Vol. 3A 18.2.4-18.2.5): instruction
 * breakpoints (R/W 00, a fault before the instruction unless RFLAGS.RF), data write (01) and
 * read/write (11) breakpoints and, with CR4.DE, I/O breakpoints (10), all traps after the
 * instruction. A breakpoint covers the LEN-aligned 1, 2, 4 or 8 bytes (ports) at its address; an
 * access that touches any of them matches.
 *
 * <p>Context: the processor's run loop and memory/I/O accesses, only while {@link Cpu#breakpointsArmed}
 * (DR7 enables a breakpoint), so code without breakpoints pays one flag test per access.
 * Matches are collected per instruction in {@link Cpu#breakpointHits} and become pending debug
 * exceptions only when the instruction completes (a faulting instruction reports none).
 */
public final class Breakpoints {
    /** R/W field values, SDM 18.2.4. */
    static final int EXECUTE = 0, WRITE = 1, IO = 2, READ_WRITE = 3;

    private Breakpoints() { }

    /** Whether DR7 enables any of the four breakpoints (L0-L3 or G0-G3). */
    public static boolean armed(long dr7) {
        return (dr7 & 0xFF) != 0;
    }

    private static boolean enabled(long dr7, int n) {
        return (dr7 >>> 2 * n & 3) != 0;
    }

    private static int rw(long dr7, int n) {
        return (int) (dr7 >>> 16 + 4 * n) & 3;
    }

    /** LEN encoding 00 = 1, 01 = 2, 11 = 4, 10 = 8 bytes (SDM 18.2.4; 8 in IA-32e mode and on later processors). */
    private static int length(long dr7, int n) {
        return switch ((int) (dr7 >>> 18 + 4 * n) & 3) {
            case 0 -> 1;
            case 1 -> 2;
            case 2 -> 8;
            default -> 4;
        };
    }

    /**
     * The B0-B3 bits of the instruction breakpoints that match the instruction at linear address
     * {@code linear} (its first byte, prefixes included, SDM 18.2.5), or 0.
     */
    public static long instructionMatches(Cpu cpu, long linear) {
        long dr7 = cpu.dr[7], hits = 0;
        for (int n = 0; n < 4; n++) {
            if (enabled(dr7, n) && rw(dr7, n) == EXECUTE && cpu.dr[n] == linear) hits |= 1L << n;
        }
        return hits;
    }

    /** Records the data breakpoints a memory access of {@code size} bytes at {@code linear} matches. */
    public static void dataAccess(Cpu cpu, long linear, int size, boolean write) {
        long dr7 = cpu.dr[7];
        for (int n = 0; n < 4; n++) {
            if (!enabled(dr7, n)) continue;
            int rw = rw(dr7, n);
            if ((rw == WRITE && write) || rw == READ_WRITE) {
                if (overlaps(cpu.dr[n], length(dr7, n), linear, size)) cpu.breakpointHits |= 1L << n;
            }
        }
    }

    /** Records the I/O breakpoints (CR4.DE = 1, SDM 18.2.4) an access to {@code size} ports at {@code port} matches. */
    public static void ioAccess(Cpu cpu, int port, int size) {
        if ((cpu.cr4 & Cr.CR4_DE) == 0) return;
        long dr7 = cpu.dr[7];
        for (int n = 0; n < 4; n++) {
            if (enabled(dr7, n) && rw(dr7, n) == IO && overlaps(cpu.dr[n] & 0xFFFF, length(dr7, n), port, size)) {
                cpu.breakpointHits |= 1L << n;
            }
        }
    }

    private static boolean overlaps(long address, int len, long start, int size) {
        long first = address & -len, last = first + len - 1;
        return start <= last && start + size - 1 >= first;
    }
}
