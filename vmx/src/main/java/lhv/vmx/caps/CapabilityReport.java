package lhv.vmx.caps;

import java.util.ArrayList;
import java.util.List;
import lhv.cpu.Msr;
import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.ControlWord;

/**
 * Decodes each VMX capability MSR into named settings, for {@code hv caps}: for the control MSRs,
 * every bit with its allowed-0/allowed-1 state (SDM A.3-A.5); for the others, their fields (A.1,
 * A.6-A.11).
 *
 * <p>Context: Java host code (command line), never on a hot path.
 */
public final class CapabilityReport {
    private CapabilityReport() { }

    /** One MSR: its index, name, value (null when it does not exist on the model) and decoded lines. */
    public record Entry(int index, String name, Long value, List<String> lines) { }

    /** The setting a control MSR allows for one bit. */
    public enum Setting {
        MUST_BE_0("must be 0"), MUST_BE_1("must be 1"), FLEXIBLE("0 or 1");

        public final String text;

        Setting(String text) {
            this.text = text;
        }

        /** The setting for bit {@code bit} of a control capability MSR {@code value} (SDM A.3.1). */
        public static Setting of(long value, int bit) {
            boolean allowed0 = (value & (1L << bit)) == 0;
            boolean allowed1 = (value & (1L << (bit + 32))) != 0;
            if (!allowed1) return MUST_BE_0;
            return allowed0 ? FLEXIBLE : MUST_BE_1;
        }
    }

    public static List<Entry> decode(VmxCapabilities caps) {
        List<Entry> out = new ArrayList<>();
        for (int index : VmxCapabilities.MSR_INDICES) {
            Long v = caps.msr(index);
            out.add(new Entry(index, VmxCapabilities.msrName(index), v,
                    v == null ? List.of("not present on this model (RDMSR causes #GP)") : lines(caps, index, v)));
        }
        return out;
    }

    /** The report as text, one MSR per block: {@code IA32_VMX_BASIC (0x480) = 0x...} then indented lines. */
    public static String render(VmxCapabilities caps) {
        StringBuilder sb = new StringBuilder("VMX capabilities of ").append(caps.processorName).append('\n');
        for (Entry e : decode(caps)) {
            sb.append(String.format("%s (%#x) = %s%n", e.name(), e.index(),
                    e.value() == null ? "absent" : String.format("%#018x", e.value())));
            for (String l : e.lines()) sb.append("    ").append(l).append('\n');
        }
        return sb.toString();
    }

    private static List<String> lines(VmxCapabilities caps, int index, long v) {
        List<String> l = new ArrayList<>();
        ControlWord word = controlWord(index);
        if (word != null) {
            for (int bit = 0; bit < 32; bit++) {
                ControlBit b = word.bit(bit);
                Setting s = Setting.of(v, bit);
                if (b == null && s == Setting.MUST_BE_0) continue;
                String name = b != null ? b.sdmName() : "reserved" + ((word.default1 & (1 << bit)) != 0 ? " (default1)" : "");
                l.add(String.format("bit %2d %-45s %s", bit, name, s.text));
            }
            return l;
        }
        switch (index) {
            case Msr.IA32_VMX_BASIC -> {
                l.add("VMCS revision identifier        " + caps.revisionId());
                l.add("VMXON/VMCS region size          " + caps.regionSize() + " bytes");
                l.add("32-bit physical addresses only  " + caps.limitsAddressesTo32Bits());
                l.add("dual-monitor treatment of SMM   " + ((v & VmxCapabilities.BASIC_DUAL_MONITOR) != 0));
                l.add("VMCS memory type                " + caps.vmcsMemoryType() + (caps.vmcsMemoryType() == 6 ? " (WB)" : ""));
                l.add("INS/OUTS instruction info       " + caps.reportsInsOutsInfo());
                l.add("TRUE capability MSRs            " + caps.hasTrueControls());
                l.add("exceptions without error code   " + caps.injectsExceptionsWithoutErrorCode());
            }
            case Msr.IA32_VMX_MISC -> {
                l.add("preemption timer rate           TSC >> " + caps.preemptionTimerRate());
                l.add("stores EFER.LMA on exit         " + caps.storesLmaOnExit());
                l.add("activity states                 active" + (caps.supportsActivityState(1) ? ", HLT" : "")
                        + (caps.supportsActivityState(2) ? ", shutdown" : "") + (caps.supportsActivityState(3) ? ", wait-for-SIPI" : ""));
                l.add("CR3-target values               " + caps.cr3TargetCount());
                l.add("max MSRs per list               " + caps.maxMsrListSize());
                l.add("VMWRITE to exit-info fields     " + caps.vmwriteAnyField());
                l.add("zero-length injection           " + caps.allowsZeroLengthInjection());
                l.add("MSEG revision identifier        " + caps.msegRevisionId());
            }
            case Msr.IA32_VMX_CR0_FIXED0, Msr.IA32_VMX_CR4_FIXED0 -> l.add("bits fixed to 1 in VMX operation: " + bits(v));
            case Msr.IA32_VMX_CR0_FIXED1, Msr.IA32_VMX_CR4_FIXED1 -> l.add("bits fixed to 0 in VMX operation: " + bits(~v & 0xFFFF_FFFFL) + " (and 63:32)");
            case Msr.IA32_VMX_VMCS_ENUM -> l.add("highest field index             " + ((v >>> 1) & 0x1FF));
            case Msr.IA32_VMX_EPT_VPID_CAP -> l.add("EPT/VPID capabilities           " + Long.toHexString(v));
            case Msr.IA32_VMX_VMFUNC -> l.add("VM functions allowed            " + bits(v));
            default -> { }
        }
        return l;
    }

    private static ControlWord controlWord(int index) {
        for (ControlWord w : ControlWord.values()) {
            if (w.capabilityMsr == index || w.trueCapabilityMsr == index) return w;
        }
        return null;
    }

    private static String bits(long v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 64; i++) {
            if ((v & (1L << i)) != 0) sb.append(sb.isEmpty() ? "" : ",").append(i);
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
