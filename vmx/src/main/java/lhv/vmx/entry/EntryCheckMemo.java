package lhv.vmx.entry;

import java.util.List;
import lhv.cpu.bus.PhysicalMemory;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * The VM-entry checks of SDM 27.2-27.3 evaluated incrementally: same result as
 * {@link EntryChecks#firstFailure(VmcsSnapshot, EntryContext)}, but a check whose inputs did not
 * change since it last held is not evaluated again. A hypervisor's VMRESUME after a CPUID exit
 * changes a handful of fields (guest RIP, the exit-information fields); re-running all ~200 checks
 * for that cost most of a VM-exit round trip.
 *
 * <p>Why skipping cannot change the outcome: a check is a pure function of the VMCS fields it reads,
 * the {@link EntryContext} and physical memory. Each evaluation records the set of fields the check
 * actually read (its path through the rule is decided by those values alone) and whether it touched
 * memory. A check is skipped only when (1) it held at the previous VM entry of this logical
 * processor, (2) none of the fields it read then has a different value now (values are compared, so
 * it makes no difference whether a field changed by VMWRITE, VMPTRLD of another VMCS, VMCLEAR or a VM
 * exit), (3) the context is equal, and (4) it did not read memory (memory can change without any
 * VMCS write: the link-pointer revision, the VTPR on the virtual-APIC page and the PDPTEs are
 * therefore read again on every entry). Under (1)-(4) the rule takes the same path over the same
 * values and holds again. Every entry considers every check in SDM order, so the first failure
 * reported is exactly the one the full evaluation reports (a skipped check holds); after a failure
 * nothing is remembered and the next entry evaluates everything. The guest-state checks therefore
 * also hold for the state a VM exit saved: whenever a saved value differs, the checks reading it run.
 *
 * <p>Context: one per logical processor's VMX unit, used by VMLAUNCH/VMRESUME in VMX root operation.
 * Not thread-safe.
 */
public final class EntryCheckMemo {
    private static final int WORDS = VmcsSnapshot.READ_SET_WORDS;

    private final List<EntryCheck> checks = EntryChecks.checks();
    private final int n = checks.size();
    /** Per check: held at the previous entry (and the fields below are what it read then). */
    private final boolean[] held = new boolean[n];
    /** Per check: touched physical memory at its last evaluation (must then always run). */
    private final boolean[] touchedMemory = new boolean[n];
    /** Per check, WORDS words: the fields read at its last evaluation. */
    private final long[] readSets = new long[n * WORDS];
    /** Field values at the previous entry, and the fields that differ now. */
    private final long[] lastValues = new long[VmcsField.COUNT];
    private final long[] changed = new long[WORDS];
    private final long[] scratch = new long[WORDS];
    private boolean primed;
    private EntryContext lastContext;
    /** {@link #lastContext} with its memory seen through {@link #memory}. */
    private EntryContext recordingContext;
    private final TouchRecordingMemory memory = new TouchRecordingMemory();

    /** The first failing check in SDM order, or null when every check holds (VM entry may proceed). */
    public CheckFailure firstFailure(VmcsSnapshot s, EntryContext c) {
        if (!c.equals(lastContext)) {
            lastContext = c;
            memory.target = c.memory();
            recordingContext = new EntryContext(c.caps(), c.physicalAddressWidth(), memory, c.hostIa32eMode(),
                    c.currentVmcsPointer(), c.perfGlobalCtrlReserved());
            primed = false;
        }
        if (!primed) java.util.Arrays.fill(changed, -1L);
        for (int i = 0; i < VmcsField.COUNT; i++) {
            long v = s.valueAt(i);
            if (primed && v != lastValues[i]) changed[i >>> 6] |= 1L << i;
            lastValues[i] = v;
        }
        primed = true;
        EntryContext x = recordingContext;
        try {
            for (int k = 0; k < n; k++) {
                if (held[k] && !touchedMemory[k] && !intersects(k)) continue;
                java.util.Arrays.fill(scratch, 0L);
                s.recordReadsInto(scratch);
                memory.touched = false;
                boolean holds = checks.get(k).holds(s, x);
                s.recordReadsInto(null);
                System.arraycopy(scratch, 0, readSets, k * WORDS, WORDS);
                touchedMemory[k] = memory.touched;
                held[k] = holds;
                if (!holds) {
                    forget();
                    return checks.get(k).failure(s, c);
                }
            }
        } catch (RuntimeException | Error e) {
            forget();
            throw e;
        } finally {
            s.recordReadsInto(null);
            java.util.Arrays.fill(changed, 0L);
        }
        return null;
    }

    /** Nothing is known: the next entry evaluates every check. */
    public void forget() {
        primed = false;
        java.util.Arrays.fill(held, false);
    }

    private boolean intersects(int k) {
        int base = k * WORDS;
        for (int w = 0; w < WORDS; w++) {
            if ((readSets[base + w] & changed[w]) != 0) return true;
        }
        return false;
    }

    /** Physical memory seen by the checks, noting whether a check read it. */
    private static final class TouchRecordingMemory implements PhysicalMemory {
        PhysicalMemory target;
        boolean touched;

        @Override
        public java.lang.foreign.MemorySegment ram() {
            touched = true;
            return target.ram();
        }

        @Override
        public long ramSize() {
            touched = true;
            return target.ramSize();
        }

        @Override
        public boolean isRam(long pa, int size) {
            touched = true;
            return target.isRam(pa, size);
        }

        @Override
        public long read(long pa, int size) {
            touched = true;
            return target.read(pa, size);
        }

        @Override
        public void write(long pa, int size, long value) {
            throw new IllegalStateException("a VM-entry check must not write memory");
        }
    }
}
