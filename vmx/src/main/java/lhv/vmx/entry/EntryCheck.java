package lhv.vmx.entry;

import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * One VM-entry rule of SDM Vol. 3C 27.2 or 27.3 as a small named unit: a stable id (e.g.
 * {@code guest.cs.ar.l-requires-d0}), the SDM section, the phase, a cheap {@code holds} and a
 * {@code describe} that builds the message only when the rule fails.
 *
 * <p>Context: immutable specification data evaluated during VM entry (VMX root operation).
 */
public final class EntryCheck {
    /** The rule itself; must not allocate on success. */
    @FunctionalInterface
    public interface Rule {
        boolean holds(VmcsSnapshot s, EntryContext c);
    }

    /** Describes a failure: the field(s), value(s) and what was expected (runs only on failure). */
    @FunctionalInterface
    public interface Description {
        String describe(VmcsSnapshot s, EntryContext c);
    }

    public final String id;
    public final String section;
    public final Phase phase;
    /** Exit qualification of a guest-state failure (SDM 27.8); 0 for other phases. */
    public final int exitQualification;
    private final Rule rule;
    private final Description description;

    public EntryCheck(String id, String section, Phase phase, int exitQualification, Rule rule, Description description) {
        this.id = id;
        this.section = section;
        this.phase = phase;
        this.exitQualification = exitQualification;
        this.rule = rule;
        this.description = description;
    }

    public boolean holds(VmcsSnapshot s, EntryContext c) {
        return rule.holds(s, c);
    }

    public String describe(VmcsSnapshot s, EntryContext c) {
        return description.describe(s, c);
    }

    /** The failure record for this check on {@code s}. */
    public CheckFailure failure(VmcsSnapshot s, EntryContext c) {
        return new CheckFailure(id, section, phase, describe(s, c), exitQualification);
    }

    @Override
    public String toString() {
        return id + " [SDM " + section + "]";
    }
}
