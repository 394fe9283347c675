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

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
        c.cr0 = r.nextLong();
        c.cr3 = r.nextLong() & 0xF_FFFF_F000L;
        c.cr4 = r.nextLong();
        c.efer = r.nextLong();
        for (int i = 0; i < 8; i++) c.dr[i] = r.nextLong();
        c.debugCtl = r.nextLong();
        c.sysenterCs = r.nextLong(); // wider than the 32-bit field: the save truncates
        c.sysenterEsp = r.nextLong();
        c.sysenterEip = r.nextLong();
        c.pat = r.nextLong();
        for (int s = 0; s < 8; s++) {
            Segment g = s < 6 ? c.seg[s] : s == 6 ? c.ldtr : c.tr;
            g.selector = r.nextInt(); // direct field writes may leave bits above 15
            g.base = r.nextLong();
            g.limit = r.nextInt();
            g.attributes = r.nextInt();
        }
        c.gdtrBase = r.nextLong();
        c.gdtrLimit = r.nextInt();
        c.idtrBase = r.nextLong();
        c.idtrLimit = r.nextInt();
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
