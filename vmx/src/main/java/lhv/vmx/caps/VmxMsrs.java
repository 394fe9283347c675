package lhv.vmx.caps;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Msr;
import lhv.cpu.model.MsrProvider;

/**
 * Serves the VMX capability MSRs (read-only: WRMSR causes #GP, SDM Appendix A) and
 * IA32_FEATURE_CONTROL to RDMSR/WRMSR. Capability MSRs that do not exist on the model (e.g.
 * IA32_VMX_EPT_VPID_CAP without EPT and VPID) are left to the core, which raises #GP for unknown
 * MSRs. A processor without VMX installs no provider at all ({@link #forModel} returns null).
 *
 * <p>Context: consulted by the interpreter's RDMSR/WRMSR (guest or VMX root software) and by Java
 * host code.
 */
public final class VmxMsrs implements MsrProvider {
    private final VmxCapabilities caps;
    private final FeatureControl featureControl;

    public VmxMsrs(VmxCapabilities caps, FeatureControl featureControl) {
        this.caps = caps;
        this.featureControl = featureControl;
    }

    /** The provider for a model, or null when the model has no VMX (then nothing here exists). */
    public static VmxMsrs forModel(VmxCapabilities capsOrNull, FeatureControl featureControl) {
        return capsOrNull == null ? null : new VmxMsrs(capsOrNull, featureControl);
    }

    public VmxCapabilities capabilities() {
        return caps;
    }

    public FeatureControl featureControl() {
        return featureControl;
    }

    @Override
    public boolean handles(int index) {
        // the capability MSRs all lie in 480H-4FFH (SDM Appendix A): other indexes need no lookup
        return index == Msr.IA32_FEATURE_CONTROL || (index >>> 7 == 0x480 >>> 7 && caps.msr(index) != null);
    }

    @Override
    public long read(Cpu cpu, int index) {
        if (index == Msr.IA32_FEATURE_CONTROL) return featureControl.value();
        Long v = caps.msr(index);
        if (v == null) throw CpuFault.gp0();
        return v;
    }

    @Override
    public void write(Cpu cpu, int index, long value) {
        if (index == Msr.IA32_FEATURE_CONTROL) {
            featureControl.write(value);
            return;
        }
        throw CpuFault.gp0(); // capability MSRs are read-only (SDM Appendix A)
    }
}
