package lhv.vmx.entry;

/**
 * One failed VM-entry check: which rule ({@code id}, stable across releases), where the SDM states it,
 * the phase (which decides VMfailValid 7/8 vs exit 33), the field(s) and value(s) involved, and for
 * guest-state failures the exit qualification of SDM 27.8 (0 default, 2 PDPTE loading, 3 NMI
 * injection, 4 VMCS link pointer).
 *
 * <p>Context: value produced by the VM-entry checks in VMX root operation; shown to users by
 * {@code hv run} and {@code hv check}.
 */
public record CheckFailure(String id, String section, Phase phase, String detail, int exitQualification) {

    /** The one-line report, e.g. {@code VM-entry check failed [SDM 27.3.1.2] guest CS access rights: ...}. */
    public String message() {
        return "VM-entry check failed [SDM " + section + "] " + detail;
    }

    @Override
    public String toString() {
        return message() + " {" + id + "}";
    }
}
