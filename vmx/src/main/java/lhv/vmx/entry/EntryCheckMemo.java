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
 * nothing is remembered and the next entry evaluates everything. To find the changed fields cheaply,
 * the live view of the current VMCS names the fields whose value a store changed since the previous
 * entry (every store into the VMCS that changes a value marks its field: VMWRITE, VM exits; VMPTRLD
 * and copies mark all), and only those values are compared. The guest-state checks therefore also hold for the state a VM exit saved: whenever a
 * saved value differs, the checks reading it run.
 *
 * <p>Context: one per logical processor's VMX unit, used by VMLAUNCH/VMRESUME in VMX root operation.
 * Not thread-safe.
 */
public final class EntryCheckMemo {
    private static final int WORDS = VmcsSnapshot.READ_SET_WORDS;

    private static final List<EntryCheck> CHECKS = EntryChecks.checks();
    private static final int N = CHECKS.size();
    /**
     * Words of a bit set over the checks (bit k = check k in SDM order). Static final like
     * {@link #WORDS}, so the JIT unrolls the per-entry loops over them.
     */
    private static final int CW = (N + 63) >>> 6;
    /** Per check, WORDS words: the fields it read at its last evaluation. */
    private final long[] readSets = new long[N * WORDS];
    /** Per field, CW words: the checks whose last evaluation read it (the inverse of readSets). */
    private final long[] readers = new long[VmcsField.COUNT * CW];
    /** Checks that read physical memory at their last evaluation: they run on every entry. */
    private final long[] touchedMemory = new long[CW];
    /** The checks to evaluate at this entry. */
    private final long[] toRun = new long[CW];
    /** Field values at the previous entry. */
    private final long[] lastValues = new long[VmcsField.COUNT];
    private final long[] scratch = new long[WORDS];
    /** False when nothing is known (first entry, context changed, after a failure): evaluate all. */
    private boolean primed;
    private EntryContext lastContext;
    /** The VMCS view or copy of the previous entry: only for the same live view are its written-field bits complete. */
    private VmcsSnapshot lastSource;
    /** {@link #lastContext} with its memory seen through {@link #memory}. */
    private EntryContext recordingContext;
    private final TouchRecordingMemory memory = new TouchRecordingMemory();
    /** Checks evaluated so far (tests observe which entries took the path that evaluates none). */
    long evaluations;

    /** The first failing check in SDM order, or null when every check holds (VM entry may proceed). */
    public CheckFailure firstFailure(VmcsSnapshot s, EntryContext c) {
        s.recordReadsInto(null);
        if (c != lastContext && !c.equals(lastContext)) useContext(c);
        boolean any = true;
        if (primed && s == lastSource) any = markChanged(s); else markAll(s);
        lastSource = s;
        // Nothing to run (the usual VMRESUME: only fields no check read changed, e.g. the exit
        // information, or a field was stored back with the value it had at the last entry, e.g.
        // the guest RIP a CPUID handler advances): every check holds as before, primed stays true.
        if (!any) return null;
        // stays false unless every check to run holds: a failure or an exception forgets everything
        primed = false;
        long[] run = toRun;
        EntryContext x = recordingContext;
        for (int w = 0; w < CW; w++) {
            for (long bits = run[w]; bits != 0; bits &= bits - 1) {
                int k = (w << 6) + Long.numberOfTrailingZeros(bits);
                if (!evaluate(k, s, x)) return CHECKS.get(k).failure(s, c);
            }
        }
        primed = true;
        return null;
    }

    private void useContext(EntryContext c) {
        lastContext = c;
        memory.target = c.memory();
        recordingContext = new EntryContext(c.caps(), c.physicalAddressWidth(), memory, c.hostIa32eMode(),
                c.currentVmcsPointer(), c.perfGlobalCtrlReserved());
        primed = false;
    }

    /**
     * To run: the checks that read memory and those that read a field whose value changed. A live
     * view names the fields stored into since the previous entry, so only those are compared; for a
     * copy every field is compared. Returns false when there is no check to run.
     */
    private boolean markChanged(VmcsSnapshot s) {
        long[] run = toRun;
        long any = 0;
        for (int w = 0; w < CW; w++) any |= run[w] = touchedMemory[w];
        long[] written = s.writtenFields();
        if (written == null) {
            for (int i = 0; i < lastValues.length; i++) any |= compare(s, i, run);
            return any != 0;
        }
        for (int w = 0; w < written.length; w++) {
            for (long bits = written[w]; bits != 0; bits &= bits - 1) {
                any |= compare(s, (w << 6) + Long.numberOfTrailingZeros(bits), run);
            }
        }
        s.clearWritten();
        return any != 0;
    }

    /** Marks the readers of field {@code i} when its value changed; non-zero when it has any. */
    private long compare(VmcsSnapshot s, int i, long[] run) {
        long v = s.valueAt(i);
        if (v == lastValues[i]) return 0;
        lastValues[i] = v;
        int base = i * CW;
        long any = 0;
        for (int w = 0; w < CW; w++) {
            long r = readers[base + w];
            run[w] |= r;
            any |= r;
        }
        return any;
    }

    /** To run: every check. */
    private void markAll(VmcsSnapshot s) {
        s.clearWritten();
        for (int i = 0; i < lastValues.length; i++) lastValues[i] = s.valueAt(i);
        long[] run = toRun;
        for (int w = 0; w < CW; w++) run[w] = -1L;
        if ((N & 63) != 0) run[CW - 1] = (1L << (N & 63)) - 1;
    }

    /** Nothing is known any more: the next entry evaluates every check. */
    public void forget() {
        primed = false;
    }

    /** Evaluates check {@code k}, recording what it read. */
    private boolean evaluate(int k, VmcsSnapshot s, EntryContext x) {
        evaluations++;
        long[] reads = scratch;
        for (int w = 0; w < WORDS; w++) reads[w] = 0;
        s.recordReadsInto(reads);
        memory.touched = false;
        boolean holds = CHECKS.get(k).holds(s, x);
        s.recordReadsInto(null);
        long bit = 1L << k;
        int word = k >>> 6;
        if (memory.touched) touchedMemory[word] |= bit; else touchedMemory[word] &= ~bit;
        int base = k * WORDS;
        for (int w = 0; w < WORDS; w++) {
            long old = readSets[base + w], now = reads[w];
            for (long gone = old & ~now; gone != 0; gone &= gone - 1) {
                readers[((w << 6) + Long.numberOfTrailingZeros(gone)) * CW + word] &= ~bit;
            }
            for (long added = now & ~old; added != 0; added &= added - 1) {
                readers[((w << 6) + Long.numberOfTrailingZeros(added)) * CW + word] |= bit;
            }
            readSets[base + w] = now;
        }
        return holds;
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

        @Override
        public void attachCodeMap(lhv.cpu.bus.CodeMap map) {
            // nothing to tell: the checks never write
        }
    }
}
