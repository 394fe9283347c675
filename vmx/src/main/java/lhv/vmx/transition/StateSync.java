package lhv.vmx.transition;

import java.util.Arrays;
import lhv.cpu.Cpu;
import lhv.cpu.Segment;
import lhv.vmx.vmcs.StateGroups;
import lhv.vmx.vmcs.Vmcs;

/**
 * What one state-moving procedure of VM entry or exit (saving guest state, loading host state,
 * loading guest state) last established per state group ({@link StateGroups}), so that it can leave
 * a group alone that would come out the same.
 *
 * <p>A record for group g says: "with the processor's group g at version {@code cpu}, the VMCS
 * fields of g at change count {@code fields} and the VM-exit or VM-entry controls equal to
 * {@code controls}, the procedure's result for g is already in place" — for a load, the processor
 * holds what the load would put there; for the save, the fields hold what the save would store.
 * Versions and change counts only grow and change with every change of value
 * (lhv.cpu.Cpu#stateVersions, Vmcs#groupChanges), so equal numbers mean equal
 * contents, and the statement stays true for as long as all three are equal again. Each procedure
 * is a function of exactly these inputs (and of constants of the processor: its VMX fixed bits and
 * physical-address width) and applying it twice gives what applying it once gives (a load's CR0
 * keeps the bits it does not load, EFER.LMA/LME follow the controls either way), so when the numbers
 * match, skipping the group cannot be told from doing it.
 *
 * <p>The same holds for all groups at once: {@link #outOfPlace} first compares the processor's total
 * ({@code Cpu.stateVersion}) and the VMCS side's total ({@code Vmcs.sideChanges}) with those after
 * its last run, which costs three comparisons where the groups one by one cost about thirty.
 *
 * <p>With assertions on (every test run), a skipped group is done anyway and must change nothing
 * ({@link VmEntry}, {@link VmExit}): a write to tracked state that bypassed the counting setters
 * fails there.
 *
 * <p>Context: three per logical processor's VMX unit, used inside VM entry and exit.
 */
final class StateSync {
    private static final int N = StateGroups.COUNT;

    /** One state group's part of a procedure of VM entry or exit. */
    interface Procedure {
        void apply(Vmcs v, int group, int controls);
    }

    private final boolean hostFields, save;
    /** The VMCS side of the fields the procedure works on ({@link StateGroups#GUEST_SIDE} or {@link StateGroups#HOST_SIDE}). */
    private final int side;
    private final long[] cpu = new long[N], fields = new long[N], controls = new long[N];
    /** Groups this procedure has done (not skipped) so far: for tests and diagnostics. */
    long groupsDone;
    /** After the last {@link #done}: the processor's and the VMCS side's totals and the controls. */
    private long allCpu = -1, allFields, allControls;

    /**
     * @param hostFields the procedure works on the host-state fields (loading host state), else the guest-state fields
     * @param save the procedure writes the fields (saving guest state), else the processor's state
     */
    StateSync(boolean hostFields, boolean save) {
        this.hostFields = hostFields;
        this.save = save;
        this.side = hostFields ? StateGroups.HOST_SIDE : StateGroups.GUEST_SIDE;
        Arrays.fill(cpu, -1); // no version is negative: nothing is known yet
    }

    /**
     * The groups whose result is not in place (class comment), as a bit mask (bit g for group g), for
     * the caller to do with its own group method and then report with {@link #done}. Small, so that it
     * inlines into the transition: the usual case is three comparisons and 0. {@code p} is the same
     * group method, used only by the assertions.
     */
    int outOfPlace(Cpu c, Vmcs v, int controlsNow, Procedure p) {
        if (allCpu == c.stateVersion && allFields == v.sideChanges(side) && allControls == controlsNow) {
            assert everyGroupInPlace(c, v, controlsNow, p);
            return 0;
        }
        return walk(c, v, controlsNow, p);
    }

    /** A plain walk over the eleven groups: three loads and compares each. */
    private int walk(Cpu c, Vmcs v, int controlsNow, Procedure p) {
        long[] versions = c.stateVersions, changes = v.groupChangeCounts();
        int base = vmcsGroup(0), todo = 0;
        for (int g = 0; g < N; g++) {
            if (cpu[g] == versions[g] && fields[g] == changes[base + g] && controls[g] == controlsNow) {
                assert changesNothing(c, v, g, controlsNow, p) : "state group " + g + " changed behind its version";
            } else {
                todo |= 1 << g;
            }
        }
        allCpu = -1; // until done() reports this run complete
        return todo;
    }

    /** The caller has done the groups of {@code todo} ({@link #outOfPlace}): records them and the totals. */
    void done(Cpu c, Vmcs v, int controlsNow, int todo) {
        if (todo == 0 && allCpu != -1) return;
        long[] versions = c.stateVersions, changes = v.groupChangeCounts();
        int base = vmcsGroup(0);
        for (int m = todo; m != 0; m &= m - 1) {
            int g = Integer.numberOfTrailingZeros(m);
            cpu[g] = versions[g];
            fields[g] = changes[base + g];
            controls[g] = controlsNow;
            groupsDone++;
        }
        allCpu = c.stateVersion;
        allFields = v.sideChanges(side);
        allControls = controlsNow;
    }

    private boolean everyGroupInPlace(Cpu c, Vmcs v, int controlsNow, Procedure p) {
        for (int g = 0; g < N; g++) {
            if (!changesNothing(c, v, g, controlsNow, p)) throw new AssertionError("state group " + g + " changed behind the versions");
        }
        return true;
    }

    /** Assertion helper: does group {@code g} again and tells whether that changed anything. */
    private boolean changesNothing(Cpu c, Vmcs v, int g, int controlsNow, Procedure p) {
        long before = save ? v.groupChanges(vmcsGroup(g)) : version(c, g);
        p.apply(v, g, controlsNow);
        return (save ? v.groupChanges(vmcsGroup(g)) : version(c, g)) == before;
    }

    /** The processor's change count of group {@code g}. */
    static long version(Cpu c, int g) {
        return c.stateVersions[g];
    }

    /** Segment s in VMCS order: ES, CS, SS, DS, FS, GS, LDTR, TR. */
    static Segment segment(Cpu c, int s) {
        return s < 6 ? c.seg[s] : s == 6 ? c.ldtr : c.tr;
    }

    private int vmcsGroup(int g) {
        return hostFields ? StateGroups.host(g) : StateGroups.guest(g);
    }
}
