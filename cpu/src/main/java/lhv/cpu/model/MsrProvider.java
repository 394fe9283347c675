package lhv.cpu.model;

import lhv.cpu.Cpu;

/**
 * MSRs implemented outside the core processor (e.g. the VMX capability MSRs and
 * IA32_FEATURE_CONTROL, owned by the vmx layer), installed with {@code Cpu.addMsrProvider}. Consulted by
 * RDMSR/WRMSR before the core's own MSRs.
 *
 * <p>Context: called during guest RDMSR/WRMSR and by Java host code; may throw CpuFault (#GP).
 */
public interface MsrProvider {
    /**
     * True when this provider implements MSR {@code index}: a fixed answer for each index over the
     * provider's life (a processor may remember it while its provider list is unchanged,
     * {@code Cpu.msrProvidersVersion}).
     */
    boolean handles(int index);

    long read(Cpu cpu, int index);

    void write(Cpu cpu, int index, long value);
}
