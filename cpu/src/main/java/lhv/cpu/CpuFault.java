package lhv.cpu;

/**
 * A processor exception raised while executing a guest instruction (#GP, #PF, #UD, ...).
 *
 * <p>Context: thrown inside the interpreter; caught in exactly one place, the run loop, which rewinds
 * RIP to the faulting instruction and delivers the exception (SDM Vol. 3A 6.5: faults report the
 * address of the faulting instruction). Stackless, because faults are part of normal guest behaviour.
 */
public final class CpuFault extends RuntimeException {
    /** Exception vector number (0..31). */
    public final int vector;
    /** Error code pushed on delivery, or -1 when the vector has none. */
    public final int errorCode;
    /**
     * The exception's payload, written to architectural state only when the exception is delivered
     * through the IDT (SDM Vol. 3C 28.1: an exception that causes a VM exit directly leaves it
     * unchanged and the VM exit reports it in the exit qualification): for #PF the faulting linear
     * address that goes to CR2; for #DB the DR6 bits of this debug exception (B0-B3, BD, BS, BT).
     */
    public final long faultAddress;

    public CpuFault(int vector, int errorCode, long faultAddress) {
        super(null, null, false, false);
        this.vector = vector;
        this.errorCode = errorCode;
        this.faultAddress = faultAddress;
    }

    public boolean hasErrorCode() {
        return errorCode >= 0;
    }

    public static CpuFault of(Vector v) {
        return new CpuFault(v.number, v.hasErrorCode ? 0 : -1, 0);
    }

    public static CpuFault ud() { return new CpuFault(6, -1, 0); }
    public static CpuFault de() { return new CpuFault(0, -1, 0); }
    public static CpuFault nm() { return new CpuFault(7, -1, 0); }
    public static CpuFault gp(int errorCode) { return new CpuFault(13, errorCode & 0xFFFF, 0); }
    public static CpuFault gp0() { return new CpuFault(13, 0, 0); }
    public static CpuFault ss(int errorCode) { return new CpuFault(12, errorCode & 0xFFFF, 0); }
    public static CpuFault np(int errorCode) { return new CpuFault(11, errorCode & 0xFFFF, 0); }
    public static CpuFault ts(int errorCode) { return new CpuFault(10, errorCode & 0xFFFF, 0); }
    public static CpuFault pf(int errorCode, long linear) { return new CpuFault(14, errorCode, linear); }
    /** #DB with the DR6 bits that describe it (SDM 18.2.3). */
    public static CpuFault db(long dr6Bits) { return new CpuFault(1, -1, dr6Bits); }

    @Override
    public String getMessage() {
        Vector v = Vector.of(vector);
        return "#" + (v != null ? v.name() : Integer.toString(vector))
                + (errorCode >= 0 ? "(" + Integer.toHexString(errorCode) + ")" : "")
                + (vector == 14 ? " at " + Long.toHexString(faultAddress) : "");
    }
}
