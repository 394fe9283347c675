package lhv.vmx.caps;

import lhv.cpu.CpuFault;

/**
 * IA32_FEATURE_CONTROL (MSR 3AH), the firmware's switch for VMX (SDM Vol. 3C 24.7, Vol. 4 Table 2-2):
 * bit 0 lock, bit 1 enable VMXON inside SMX operation, bit 2 enable VMXON outside SMX operation.
 * Once the lock bit is set, every WRMSR to it causes #GP until the next reset. Our processor has no
 * SMX, SENTER, SGX or LMCE, so setting any bit other than 0 and 2 causes #GP, as on a processor
 * lacking those features.
 *
 * <p>Context: per-processor state, read by VMXON (which #GPs unless the MSR is locked and the
 * applicable enable bit is set) and read/written by RDMSR/WRMSR through {@link VmxMsrs}.
 */
public final class FeatureControl {
    public static final long LOCK = 1L, VMXON_INSIDE_SMX = 1L << 1, VMXON_OUTSIDE_SMX = 1L << 2;
    /** Value after power-up reset: all bits 0 (SDM Vol. 4 Table 2-2). */
    public static final long RESET_VALUE = 0;
    /** The value firmware leaves when it enables VMX outside SMX and locks the MSR. */
    public static final long FIRMWARE_ENABLED = LOCK | VMXON_OUTSIDE_SMX;
    /** Bits our processor lets software set. */
    public static final long WRITABLE = LOCK | VMXON_OUTSIDE_SMX;

    private long value;

    public FeatureControl(long initialValue) {
        this.value = initialValue;
    }

    /** The MSR as it is after power-up reset. */
    public static FeatureControl atReset() {
        return new FeatureControl(RESET_VALUE);
    }

    public long value() {
        return value;
    }

    public boolean locked() {
        return (value & LOCK) != 0;
    }

    /** VMXON outside SMX operation is allowed (SDM 31.3 VMXON: needs lock and bit 2). */
    public boolean vmxonAllowedOutsideSmx() {
        return locked() && (value & VMXON_OUTSIDE_SMX) != 0;
    }

    /** WRMSR: #GP when locked or when {@code newValue} sets an unsupported bit. */
    public void write(long newValue) {
        if (locked() || (newValue & ~WRITABLE) != 0) throw CpuFault.gp0();
        value = newValue;
    }

    /** Power-up reset clears the MSR, including its lock. */
    public void reset() {
        value = RESET_VALUE;
    }
}
