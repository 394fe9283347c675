package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Segment;
import lhv.vmx.vmcs.StateGroups;
import lhv.vmx.vmcs.Vmcs;

/**
 * Which state groups ({@link StateGroups}) one state-moving procedure of VM entry or exit (saving
 * guest state, loading host state, loading guest state) has to do, so that it can leave alone a group
 * that would come out the same.
 *
 * <p>After a run of the procedure completes, every group's result is in place: for a load, the
 * processor holds what the load would put there; for the save, the fields hold what the save would
 * store. The procedure registers as a watcher at the processor ({@code Cpu.watchStateChanges}) and
 * at the VMCS cache ({@code Vmcs.watchGroupChanges}); both set the watcher's bit for a group on every
 * change of value in it (the processor's counting setters, any store into the group's fields,
 * VMPTRLD and copies set all bits) and the procedure clears its masks when a run completes. Each
 * procedure is a function of exactly the group's processor state, its fields and the VM-exit or
 * VM-entry controls (and constants of the processor: its VMX fixed bits, physical-address width), and
 * applying it twice gives what applying it once gives (a load's CR0 keeps the bits it does not load,
 * EFER.LMA/LME follow the controls either way). So a group whose bits are clear, after a completed
 * run with the same controls, is in place, and skipping it cannot be told from doing it. The usual
 * case costs two loads and compares.
 *
 * <p>With assertions on (every test run), a skipped group is done anyway and must change nothing:
 * a write to tracked state that bypassed the counting setters fails there.
 *
 * <p>Context: three per logical processor's VMX unit, used inside VM entry and exit.
 */
final class StateSync {
    private static final int N = StateGroups.COUNT, ALL = (1 << N) - 1;

    /** One state group's part of a procedure of VM entry or exit. */
    interface Procedure {
        void apply(Vmcs v, int group, int controls);
    }

    /** This procedure's watcher numbers at the processor and at the VMCS cache. */
    private final int cpuWatcher, vmcsWatcher;
    /** Where this procedure's side of the VMCS groups starts in the VMCS change mask. */
    private final int shift;
    /** The last run completed ({@link #done}), with these controls: every group's result was then in place. */
    private boolean complete;
    private int lastControls;
    /** Groups this procedure has done (not skipped) so far: for tests and diagnostics. */
    long groupsDone;

    /**
     * @param hostFields the procedure works on the host-state fields (loading host state), else the guest-state fields
     */
    StateSync(Cpu c, Vmcs v, boolean hostFields) {
        this.cpuWatcher = c.watchStateChanges();
        this.vmcsWatcher = v.watchGroupChanges();
        this.shift = hostFields ? StateGroups.host(0) : StateGroups.guest(0);
    }

    /**
     * The groups whose result is not in place (class comment), as a bit mask (bit g for group g), for
     * the caller to do with its own group method and then report with {@link #done}: the groups whose
     * processor state or fields changed since the last completed run, or all of them when the controls
     * changed or the last run did not complete. Small, so that it inlines into the transition: the usual
     * case is two loads and compares. {@code p} is the same group method, used only by the assertions.
     */
    int outOfPlace(Cpu c, Vmcs v, int controlsNow, Procedure p) {
        int moved = moved(c, v);
        if (!complete || controlsNow != lastControls) moved = ALL;
        assert skippedInPlace(c, v, controlsNow, p, ~moved & ALL);
        complete = false; // until done() reports this run
        return moved;
    }

    /** The groups whose processor state or fields changed since this procedure's masks were last cleared. */
    private int moved(Cpu c, Vmcs v) {
        return c.changedGroups(cpuWatcher) | (int) (v.changedGroups(vmcsWatcher) >>> shift) & ALL;
    }

    /** The caller has done the groups of {@code todo} ({@link #outOfPlace}): every group's result is now in place. */
    void done(Cpu c, Vmcs v, int controlsNow, int todo) {
        c.clearChangedGroups(cpuWatcher);
        v.clearChangedGroups(vmcsWatcher);
        lastControls = controlsNow;
        complete = true;
        groupsDone += Integer.bitCount(todo);
    }

    /** Assertion helper: the groups of {@code skipped} are done anyway and must change nothing. */
    private boolean skippedInPlace(Cpu c, Vmcs v, int controlsNow, Procedure p, int skipped) {
        for (int m = skipped; m != 0; m &= m - 1) {
            int g = Integer.numberOfTrailingZeros(m);
            p.apply(v, g, controlsNow);
            // the group's bits were clear (that is why it was skipped): a change would have set one
            if ((moved(c, v) & 1 << g) != 0) throw new AssertionError("state group " + g + " changed behind its version");
        }
        return true;
    }

    /** Segment s in VMCS order: ES, CS, SS, DS, FS, GS, LDTR, TR. */
    static Segment segment(Cpu c, int s) {
        return s < 6 ? c.seg[s] : s == 6 ? c.ldtr : c.tr;
    }
}
