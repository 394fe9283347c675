package lhv.cpu.model;

/**
 * The processor model: what CPUID reports (GenuineIntel, family 6) and which optional features
 * exist. The VMX feature flag (CPUID.1:ECX[5]) is a property of the model, so a model without VMX
 * exists too.
 *
 * <p>Context: immutable configuration read by CPUID and by feature checks.
 */
public final class CpuModel {
    public final String name;
    public final boolean vmx;

    private CpuModel(String name, boolean vmx) {
        this.name = name;
        this.vmx = vmx;
    }

    /** The default model, with VMX. */
    public static CpuModel withVmx() {
        return new CpuModel("lhv-skylake", true);
    }

    /** The same processor with CPUID.1:ECX.VMX clear and no VMX MSRs. */
    public static CpuModel withoutVmx() {
        return new CpuModel("lhv-skylake-novmx", false);
    }

    /**
     * CPUID for leaf {@code eax}, sub-leaf {@code ecx}: returns {eax, ebx, ecx, edx}.
     * (Filled in by the processor issue: leaves 0, 1, 7, 0x80000000.. consistent with what is implemented.)
     */
    public int[] cpuid(int eax, int ecx) {
        throw new lhv.cpu.NotImplemented("CPUID model");
    }
}
