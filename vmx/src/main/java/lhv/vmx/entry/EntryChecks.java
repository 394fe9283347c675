package lhv.vmx.entry;

import java.util.ArrayList;
import java.util.List;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Every VM-entry check of SDM Vol. 3C 27.2 and 27.3, in the SDM's order: VMX controls (27.2.1),
 * host state (27.2.2-27.2.4), then guest state (27.3.1.1-27.3.1.6). {@link #firstFailure} stops at
 * the first failing rule, as the processor does; {@link #all} reports every failing rule (diagnose
 * mode for {@code hv check}).
 *
 * <p>Context: called by VMLAUNCH/VMRESUME in VMX root operation after the instruction's own checks
 * (SDM 27.1) and by Java host tooling. The check list is built once and shared.
 */
public final class EntryChecks {
    private EntryChecks() { }

    private static final List<EntryCheck> CHECKS;
    static {
        List<EntryCheck> l = new ArrayList<>();
        l.addAll(ControlChecks.all());
        l.addAll(HostStateChecks.all());
        l.addAll(GuestRegisterChecks.all());
        l.addAll(GuestSegmentChecks.all());
        l.addAll(GuestDescriptorTableChecks.all());
        l.addAll(GuestRipRflagsChecks.all());
        l.addAll(GuestNonRegisterChecks.all());
        l.addAll(GuestPdpteChecks.all());
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (EntryCheck c : l) {
            if (!ids.add(c.id)) throw new ExceptionInInitializerError("duplicate check id " + c.id);
        }
        CHECKS = List.copyOf(l);
    }

    /** All checks in evaluation order. */
    public static List<EntryCheck> checks() {
        return CHECKS;
    }

    /** The check with stable id {@code id}, or null. */
    public static EntryCheck byId(String id) {
        for (EntryCheck c : CHECKS) if (c.id.equals(id)) return c;
        return null;
    }

    /** The first failing check in SDM order, or null when the VMCS passes every check. */
    public static CheckFailure firstFailure(VmcsSnapshot s, EntryContext c) {
        for (int i = 0, n = CHECKS.size(); i < n; i++) {
            EntryCheck k = CHECKS.get(i);
            if (!k.holds(s, c)) return k.failure(s, c);
        }
        return null;
    }

    /** Every failing check, in SDM order (empty when the VMCS would enter). */
    public static List<CheckFailure> all(VmcsSnapshot s, EntryContext c) {
        List<CheckFailure> out = new ArrayList<>();
        for (EntryCheck k : CHECKS) {
            if (!k.holds(s, c)) out.add(k.failure(s, c));
        }
        return out;
    }

    /**
     * The first failure of one phase only, so VM entry can run the phases at their own points
     * (controls and host state before committing, guest state after, SDM 27.2/27.3).
     */
    public static CheckFailure firstFailure(VmcsSnapshot s, EntryContext c, Phase phase) {
        for (EntryCheck k : CHECKS) {
            if (k.phase == phase && !k.holds(s, c)) return k.failure(s, c);
        }
        return null;
    }
}
