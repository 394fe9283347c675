package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Segment;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.VmcsField;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Differential test of the slot-indexed VM-exit and VM-entry state procedures ({@link VmExit}
 * saving guest state and loading host state, {@link VmEntry} loading guest state) against
 * {@link FieldByFieldTransitions}, the same procedures through the checked enum-field accessors.
 * Two identical processors get the same random processor state and VMCS contents (every guest- and
 * host-state field, random exit and entry controls, values wider than their fields in the processor's
 * own registers); each runs one implementation of exit save, host load and guest load in turn, and
 * after every step the whole VMCS (every field, the written-field marks the entry checks rely on, the
 * control-store count) and the whole processor state must be equal. The procedures read nothing else,
 * so equal results over random inputs is what "the same behaviour" means for them.
 *
 * <p>Context: unit test on two {@link VmxTestbed}s in VMX root operation.
 */
class SlotTransitionsTest {
    private static final int[] REASONS = {ExitReason.CPUID.number, ExitReason.MONITOR_TRAP_FLAG.number,
            ExitReason.INIT_SIGNAL.number, ExitReason.TPR_BELOW_THRESHOLD.number, ExitReason.HLT.number,
            ExitReason.PREEMPTION_TIMER.number, ExitReason.EXCEPTION_NMI.number};
    private static final ExitControl[] EXIT_BITS = {ExitControl.SAVE_DEBUG_CONTROLS, ExitControl.HOST_ADDRESS_SPACE_SIZE,
            ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL, ExitControl.SAVE_IA32_PAT, ExitControl.LOAD_IA32_PAT,
            ExitControl.SAVE_IA32_EFER, ExitControl.LOAD_IA32_EFER, ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE};
    private static final EntryControl[] ENTRY_BITS = {EntryControl.LOAD_DEBUG_CONTROLS, EntryControl.IA32E_MODE_GUEST,
            EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL, EntryControl.LOAD_IA32_PAT, EntryControl.LOAD_IA32_EFER};

    @Property(tries = 300)
    void slotProceduresMatchFieldByField(@ForAll long seed) {
        VmxTestbed fast = setUp(seed), reference = setUp(seed);
        FieldByFieldTransitions ref = new FieldByFieldTransitions(reference.vmx);
        assertSame(fast, reference, "initial state");
        Random r = new Random(seed ^ 0x5DEECE66DL);
        int reason = REASONS[r.nextInt(REASONS.length)];
        step(fast, reference, () -> fast.vmx.exit.saveGuestState(reason), () -> ref.saveGuestState(reason),
                "after saving guest state for exit reason " + reason);
        boolean nmi = r.nextBoolean();
        step(fast, reference, () -> fast.vmx.exit.loadHostState(nmi), () -> ref.loadHostState(nmi), "after loading host state");
        // the host edits guest fields between the exit and the next entry
        for (int i = r.nextInt(4); i > 0; i--) {
            VmcsField f = guestField(r);
            long v = r.nextLong();
            fast.vmx.vmcs.write(f, v);
            reference.vmx.vmcs.write(f, v);
        }
        step(fast, reference, fast.vmx.entry::loadGuestState, ref::loadGuestState, "after loading guest state");
    }

    /**
     * Round trips on one pair of processors, the reference doing every field every time, ours
     * skipping the state groups whose result is in place (StateSync): between the steps random
     * things happen to both — the guest changes a register of some group, the host VMWRITEs a
     * guest-state or host-state field or the controls, or nothing — and after every step the VMCS and
     * the processor must be equal.
     */
    @Property(tries = 150)
    void repeatedRoundTripsMatchDoingEverything(@ForAll long seed) {
        VmxTestbed fast = setUp(seed), reference = setUp(seed);
        FieldByFieldTransitions ref = new FieldByFieldTransitions(reference.vmx);
        Random r = new Random(seed ^ 0x2545F4914F6CDD1DL);
        for (int round = 0; round < 12; round++) {
            int reason = REASONS[r.nextInt(REASONS.length)];
            step(fast, reference, () -> fast.vmx.exit.saveGuestState(reason), () -> ref.saveGuestState(reason), round + ": saving guest state");
            step(fast, reference, () -> fast.vmx.exit.loadHostState(false), () -> ref.loadHostState(false), round + ": loading host state");
            long edits = r.nextLong();
            hostEdits(fast, new Random(edits));
            hostEdits(reference, new Random(edits));
            step(fast, reference, fast.vmx.entry::loadGuestState, ref::loadGuestState, round + ": loading guest state");
            long guest = r.nextLong();
            guestRuns(fast.cpu, new Random(guest));
            guestRuns(reference.cpu, new Random(guest));
        }
    }

    /**
     * A guest whose state groups hold what a VM exit gives the host (the seed's guest shares the
     * host's CR3, segments and tables): after one round trip that establishes it, a round trip in
     * which nothing changes moves no group, and one in which the guest changes one segment moves that
     * segment only (saved, then loaded for the host and back for the guest).
     */
    @Test
    void sharedHostAndGuestStateMovesNothing() {
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
        t.cpu.nonRoot = true;
        VmExit exit = t.vmx.exit;
        VmEntry entry = t.vmx.entry;
        exit.saveGuestState(ExitReason.CPUID.number);
        exit.loadHostState(false);
        exit.saveGuestState(ExitReason.CPUID.number); // the guest-state fields now hold the host's state
        entry.loadGuestState();
        exit.saveGuestState(ExitReason.CPUID.number);
        exit.loadHostState(false);
        entry.loadGuestState();
        long done = exit.saved.groupsDone + exit.hostLoaded.groupsDone + entry.guestLoaded.groupsDone;
        String before = state(t.cpu);
        for (int i = 0; i < 3; i++) {
            exit.saveGuestState(ExitReason.CPUID.number);
            exit.loadHostState(false);
            entry.loadGuestState();
        }
        assertEquals(done, exit.saved.groupsDone + exit.hostLoaded.groupsDone + entry.guestLoaded.groupsDone, "groups moved");
        assertEquals(before, state(t.cpu));
        t.cpu.seg[Segment.DS].setBase(0x1234_5000L); // the guest changes DS.base
        exit.saveGuestState(ExitReason.CPUID.number);
        assertEquals(0x1234_5000L, t.vmx.vmcs.read(VmcsField.GUEST_DS_BASE));
        exit.loadHostState(false);
        entry.loadGuestState();
        assertEquals(0x1234_5000L, t.cpu.seg[Segment.DS].base);
        assertEquals(done + 3, exit.saved.groupsDone + exit.hostLoaded.groupsDone + entry.guestLoaded.groupsDone, "only DS moved, once per step");
    }

    /**
     * The safety net of the skipping: with assertions on (every test run), a skipped group is done
     * anyway and must change nothing, so a store into tracked state that bypassed the counting
     * setters (here a test writing CR3 directly) is caught at the next transition.
     */
    @Test
    void aWriteBehindTheSettersIsCaught() {
        assertTrue(StateSync.class.desiredAssertionStatus(), "tests run with assertions on");
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
        t.cpu.nonRoot = true;
        t.vmx.exit.saveGuestState(ExitReason.CPUID.number);
        t.cpu.cr3 ^= 0x1000; // no version counted
        AssertionError e = assertThrows(AssertionError.class, () -> t.vmx.exit.saveGuestState(ExitReason.CPUID.number));
        assertTrue(e.getMessage().contains("state group 0"), e.getMessage());
    }

    /** The host between an exit and the next entry: VMWRITEs of guest- or host-state fields or controls, or nothing. */
    private static void hostEdits(VmxTestbed t, Random r) {
        switch (r.nextInt(4)) {
            case 0 -> t.vmx.vmcs.write(guestField(r), r.nextBoolean() ? r.nextLong() : 0);
            case 1 -> {
                VmcsField f;
                do f = VmcsField.ofOrdinal(r.nextInt(VmcsField.COUNT)); while (!f.name().startsWith("HOST_"));
                t.vmx.vmcs.write(f, r.nextLong());
            }
            case 2 -> {
                long exit = t.vmx.vmcs.read(VmcsField.VM_EXIT_CONTROLS) ^ EXIT_BITS[r.nextInt(EXIT_BITS.length)].mask();
                t.vmx.vmcs.write(VmcsField.VM_EXIT_CONTROLS, exit);
                long entry = t.vmx.vmcs.read(VmcsField.VM_ENTRY_CONTROLS) ^ ENTRY_BITS[r.nextInt(ENTRY_BITS.length)].mask();
                t.vmx.vmcs.write(VmcsField.VM_ENTRY_CONTROLS, entry);
            }
            default -> { }
        }
    }

    /** The guest between an entry and the next exit: changes a register of some state group, or nothing. */
    private static void guestRuns(Cpu c, Random r) {
        switch (r.nextInt(7)) {
            case 0 -> c.setCr3(r.nextLong() & 0xF_FFFF_F000L);
            case 1 -> c.setEfer(c.efer ^ 1);
            case 2 -> c.setSysenterEsp(r.nextLong());
            case 3 -> c.setGdtr(r.nextLong(), r.nextInt(0x10000));
            case 4 -> c.seg[r.nextInt(6)].setBase(r.nextLong());
            case 5 -> c.ldtr.set(r.nextInt(0x10000), r.nextLong(), r.nextInt(), r.nextInt(0x20000));
            default -> { }
        }
        c.rip = r.nextLong();
    }

    /**
     * Runs one step both ways: loading PDPTEs for PAE paging (SDM 27.3.2.4) faults on reserved bits in
     * random memory, which the real VM entry's checks exclude; then both must fault the same way.
     */
    private static void step(VmxTestbed fast, VmxTestbed reference, Runnable fastStep, Runnable referenceStep, String when) {
        assertEquals(outcome(referenceStep), outcome(fastStep), when + ": outcome");
        assertSame(fast, reference, when);
    }

    private static String outcome(Runnable step) {
        try {
            step.run();
            return "completed";
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    private static VmcsField guestField(Random r) {
        VmcsField f;
        do f = VmcsField.ofOrdinal(r.nextInt(VmcsField.COUNT)); while (!f.name().startsWith("GUEST_"));
        return f;
    }

    /** The testbed's valid VMCS, then random values in every guest/host field and random controls and processor state. */
    private static VmxTestbed setUp(long seed) {
        Random r = new Random(seed);
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
        for (VmcsField f : VmcsField.values()) {
            String n = f.name();
            if (n.startsWith("GUEST_") || n.startsWith("HOST_")) t.vmx.vmcs.write(f, r.nextInt(3) == 0 ? t.vmx.vmcs.read(f) : r.nextLong());
        }
        // the MSR areas stay those of the valid VMCS (empty): MsrAreasTest and TransitionsTest cover them
        long exit = t.vmx.vmcs.read(VmcsField.VM_EXIT_CONTROLS);
        for (ExitControl c : EXIT_BITS) exit = r.nextBoolean() ? exit | c.mask() : exit & ~(long) c.mask();
        t.vmx.vmcs.write(VmcsField.VM_EXIT_CONTROLS, exit);
        long entry = t.vmx.vmcs.read(VmcsField.VM_ENTRY_CONTROLS);
        for (EntryControl c : ENTRY_BITS) entry = r.nextBoolean() ? entry | c.mask() : entry & ~(long) c.mask();
        t.vmx.vmcs.write(VmcsField.VM_ENTRY_CONTROLS, entry);
        Cpu c = t.cpu;
        c.setCr0(r.nextLong());
        c.setCr3(r.nextLong() & 0xF_FFFF_F000L);
        c.setCr4(r.nextLong());
        c.setEfer(r.nextLong());
        for (int i = 0; i < 8; i++) c.dr[i] = r.nextLong();
        c.setDebugCtl(r.nextLong());
        c.setSysenterCs(r.nextLong()); // wider than the 32-bit field: the save truncates
        c.setSysenterEsp(r.nextLong());
        c.setSysenterEip(r.nextLong());
        c.setPat(r.nextLong());
        for (int s = 0; s < 8; s++) {
            Segment g = s < 6 ? c.seg[s] : s == 6 ? c.ldtr : c.tr;
            g.setSelector(r.nextInt()); // direct field writes may leave bits above 15
            g.setBase(r.nextLong());
            g.setLimit(r.nextInt());
            g.setAttributes(r.nextInt());
        }
        c.setGdtr(r.nextLong(), c.gdtrLimit);
        c.setGdtr(c.gdtrBase, r.nextInt());
        c.setIdtr(r.nextLong(), c.idtrLimit);
        c.setIdtr(c.idtrBase, r.nextInt());
        c.rip = r.nextLong();
        for (int i = 0; i < 16; i++) c.gpr[i] = r.nextLong();
        c.setRflags(r.nextLong());
        c.interruptShadow = r.nextInt(4);
        c.activityState = r.nextInt(4);
        c.pendingDebugExceptions = r.nextLong() & 0x500F;
        c.nmiBlocked = r.nextBoolean();
        c.nonRoot = true;
        return t;
    }

    private static void assertSame(VmxTestbed a, VmxTestbed b, String when) {
        for (VmcsField f : VmcsField.values()) assertEquals(b.vmx.vmcs.read(f), a.vmx.vmcs.read(f), when + ": VMCS field " + f);
        assertArrayEquals(b.vmx.vmcs.view().writtenFields(), a.vmx.vmcs.view().writtenFields(), when + ": written-field marks");
        assertEquals(b.vmx.vmcs.controlStores(), a.vmx.vmcs.controlStores(), when + ": control stores");
        assertEquals(state(b.cpu) + " perfGlobalCtrl=" + b.vmx.perfGlobalCtrl + " abort=" + b.vmx.exit.abortIndicator,
                state(a.cpu) + " perfGlobalCtrl=" + a.vmx.perfGlobalCtrl + " abort=" + a.vmx.exit.abortIndicator, when + ": processor state");
    }

    private static String state(Cpu c) {
        StringBuilder s = new StringBuilder();
        s.append("gpr=").append(Arrays.toString(c.gpr)).append(" rip=").append(c.rip).append(" rflags=").append(c.getRflags());
        for (int i = 0; i < 6; i++) s.append(' ').append(Segment.NAMES[i]).append('[').append(c.seg[i].selector).append(',')
                .append(c.seg[i].base).append(',').append(c.seg[i].limit).append(',').append(c.seg[i].attributes).append(']');
        s.append(" ldtr[").append(c.ldtr.selector).append(',').append(c.ldtr.base).append(',').append(c.ldtr.limit).append(',').append(c.ldtr.attributes).append(']');
        s.append(" tr[").append(c.tr.selector).append(',').append(c.tr.base).append(',').append(c.tr.limit).append(',').append(c.tr.attributes).append(']');
        s.append(" gdtr=").append(c.gdtrBase).append('/').append(c.gdtrLimit).append(" idtr=").append(c.idtrBase).append('/').append(c.idtrLimit);
        s.append(" cr0=").append(c.cr0).append(" cr2=").append(c.cr2).append(" cr3=").append(c.cr3).append(" cr4=").append(c.cr4)
                .append(" cr8=").append(c.cr8).append(" efer=").append(c.efer).append(" dr=").append(Arrays.toString(c.dr));
        s.append(" cpl=").append(c.cpl).append(" mode=").append(c.mode).append(" sysenter=").append(c.sysenterCs).append('/')
                .append(c.sysenterEsp).append('/').append(c.sysenterEip).append(" pat=").append(c.pat).append(" debugctl=").append(c.debugCtl);
        s.append(" shadow=").append(c.interruptShadow).append(" activity=").append(c.activityState).append(" pendingDbg=")
                .append(c.pendingDebugExceptions).append(" nmiBlocked=").append(c.nmiBlocked).append(" nonRoot=").append(c.nonRoot)
                .append(" bp=").append(c.breakpointsArmed).append(" boundary=").append(c.boundaryWork).append(" stop=").append(c.stopRequest);
        return s.toString();
    }
}
