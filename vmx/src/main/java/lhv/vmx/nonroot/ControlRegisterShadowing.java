package lhv.vmx.nonroot;

import lhv.cpu.Cr;

/**
 * CR0/CR4 guest/host masks and read shadows (SDM Vol. 3C 25.6.6) and the CR3-target values: the
 * exit decisions of SDM 26.1.3 for MOV to CR0/CR3/CR4, CLTS and LMSW, and the changed behaviour of
 * SDM 26.3 for reads and for writes that do not exit.
 *
 * <p>Context: non-root intercept of control-register instructions. A bit set in a mask is owned by
 * the host: the guest reads the shadow's bit and cannot change the real one.
 */
public final class ControlRegisterShadowing {
    private ControlRegisterShadowing() { }

    /** MOV to CR0/CR4 exits unless the source matches the read shadow in every host-owned bit. */
    public static boolean movToCrExits(long mask, long shadow, long value) {
        return ((value ^ shadow) & mask) != 0;
    }

    /** MOV from CR0/CR4 and SMSW: host-owned bits come from the read shadow, the others from the register. */
    public static long read(long mask, long shadow, long actual) {
        return (actual & ~mask) | (shadow & mask);
    }

    /** A MOV to CR0/CR4 that did not exit leaves host-owned bits unmodified (SDM 26.3). */
    public static long written(long mask, long actual, long value) {
        return (value & ~mask) | (actual & mask);
    }

    /** CLTS exits when CR0.TS is set in both the guest/host mask and the read shadow. */
    public static boolean cltsExits(long mask, long shadow) {
        return (mask & shadow & Cr.CR0_TS) != 0;
    }

    /** CLTS that does not exit leaves CR0.TS unmodified when the host owns it (SDM 26.3). */
    public static boolean cltsClearsTs(long mask) {
        return (mask & Cr.CR0_TS) == 0;
    }

    /**
     * LMSW exits when (a) PE is set in the mask and in the source but clear in the shadow, or
     * (b) for a bit among 3:1 set in the mask, source and shadow differ (LMSW never clears PE).
     */
    public static boolean lmswExits(long mask, long shadow, int source) {
        if ((mask & source & ~shadow & 1) != 0) return true;
        return ((source ^ shadow) & mask & 0xE) != 0;
    }

    /** The LMSW source as applied when it did not exit: host-owned bits among 3:0 keep CR0's value (SDM 26.3). */
    public static int lmswApplied(long mask, long actualCr0, int source) {
        int owned = (int) mask & 0xF;
        return (source & ~owned) | ((int) actualCr0 & owned);
    }

    /**
     * MOV to CR3 with "CR3-load exiting" set exits unless the value equals one of the first
     * {@code count} CR3-target values (count 0: always exits).
     */
    public static boolean cr3LoadExits(boolean cr3LoadExiting, long[] targets, int count, long value) {
        if (!cr3LoadExiting) return false;
        for (int i = 0; i < count && i < targets.length; i++) {
            if (targets[i] == value) return false;
        }
        return true;
    }
}
