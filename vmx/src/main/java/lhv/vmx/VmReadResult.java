package lhv.vmx;

/**
 * Outcome of VMREAD through the Java API: the field value, or the VMX failure (SDM Vol. 3C 31.3 VMREAD).
 *
 * <p>Context: returned to the hosted hypervisor in VMX root operation.
 */
public sealed interface VmReadResult {
    record Value(long value) implements VmReadResult { }

    record Failed(VmxResult failure) implements VmReadResult { }

    /** The value read; throws IllegalStateException when VMREAD failed (host-software defect). */
    default long orThrow() {
        if (this instanceof Value v) return v.value();
        throw new IllegalStateException("VMREAD failed: " + ((Failed) this).failure());
    }
}
