package lhv.vmx.entry;

import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import lhv.vmx.TestMemory;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The incremental entry checks must decide exactly as the full evaluation does, entry after entry,
 * whatever changes between entries: VMCS fields (through the live view), the context, and the memory
 * some checks read (PDPTEs, the link-pointer region).
 */
class EntryCheckMemoTest {

    /** One change between two entries: a field write, a memory write, or a return to a baseline. */
    record Step(int kind, VmcsField field, long value) { }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Long> values = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 0xFFFF),
                Arbitraries.of(0L, -1L, 1L << 31, 1L << 32, Baseline.LINK_PA, Baseline.PDPT_PA, 0xA001L, 4L));
        Arbitrary<Step> step = Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.of(VmcsField.class), values)
                .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(25);
    }

    @Property(tries = 200)
    void decidesAsTheFullEvaluationAtEveryEntry(@ForAll("steps") List<Step> steps) {
        TestMemory memory = Baseline.memory();
        EntryContext context = EntryContext.of(Baseline.CAPS, Baseline.MAXPHYADDR, memory, true, Baseline.VMCS_PA);
        Vmcs vmcs = new Vmcs();
        vmcs.copyFrom(Baseline.pae32().with(VM_EXIT_CONTROLS, Baseline.vmcs().get(VM_EXIT_CONTROLS)));
        EntryCheckMemo memo = new EntryCheckMemo();
        compare(memo, vmcs, context);
        for (Step s : steps) {
            switch (s.kind()) {
                case 0 -> vmcs.copyFrom(Baseline.vmcs());
                case 1 -> vmcs.copyFrom(Baseline.pae32());
                case 2 -> memory.write(Baseline.PDPT_PA + 8 * (s.value() & 3), 8, s.value());
                case 3 -> memory.write(Baseline.LINK_PA, 4, s.value());
                case 4 -> context = EntryContext.of(Baseline.CAPS, Baseline.MAXPHYADDR, memory, (s.value() & 1) != 0, Baseline.VMCS_PA);
                default -> vmcs.write(s.field(), s.value());
            }
            compare(memo, vmcs, context);
            compare(memo, vmcs, context); // an entry with nothing changed in between
        }
    }

    private static void compare(EntryCheckMemo memo, Vmcs vmcs, EntryContext context) {
        CheckFailure expected = EntryChecks.firstFailure(vmcs.snapshot(), context);
        assertEquals(expected, memo.firstFailure(vmcs.view(), context));
    }

    @Test
    void aGuestRipChangeReEvaluatesTheRipChecksAndFindsTheirFailure() {
        Vmcs vmcs = new Vmcs();
        vmcs.copyFrom(Baseline.vmcs());
        EntryContext context = Baseline.context();
        EntryCheckMemo memo = new EntryCheckMemo();
        assertNull(memo.firstFailure(vmcs.view(), context));
        vmcs.write(GUEST_RIP, 0x8000_0000_0000L); // not canonical in 64-bit mode
        CheckFailure f = memo.firstFailure(vmcs.view(), context);
        assertNotNull(f);
        assertEquals("guest.rip.canonical", f.id());
        vmcs.write(GUEST_RIP, 0x1000);
        assertNull(memo.firstFailure(vmcs.view(), context));
    }

    /**
     * The exit loop's VMRESUME after a CPUID exit: the exit stored the instruction's RIP and the
     * handler stored it back advanced, so the field was written but holds its value of the last
     * entry; the exit-information fields changed, but no check reads them. No check runs, and the
     * outcome is still the full evaluation's; a changed input afterwards is still seen.
     */
    @Test
    void aResumeWithNoReadInputChangedEvaluatesNothingAndStillDecidesAsTheFullEvaluation() {
        Vmcs vmcs = new Vmcs();
        vmcs.copyFrom(Baseline.vmcs());
        EntryContext context = Baseline.context();
        EntryCheckMemo memo = new EntryCheckMemo();
        compare(memo, vmcs, context);
        long rip = vmcs.read(GUEST_RIP);
        for (int exit = 1; exit <= 3; exit++) {
            vmcs.write(GUEST_RIP, rip - 2);              // the exit saves the RIP of CPUID
            vmcs.write(VM_EXIT_REASON, 10);
            vmcs.write(VM_EXIT_INSTRUCTION_LEN, 2);
            vmcs.write(EXIT_QUALIFICATION, exit);
            vmcs.write(GUEST_RIP, rip);                  // the handler advances it past CPUID
            long before = memo.evaluations;
            compare(memo, vmcs, context);
            assertEquals(before, memo.evaluations, "exit " + exit + ": no check has a changed input");
        }
        vmcs.write(GUEST_RIP, 0x8000_0000_0000L);        // not canonical: the RIP checks run and fail
        long before = memo.evaluations;
        compare(memo, vmcs, context);
        assertTrue(memo.evaluations > before);
        vmcs.write(GUEST_RIP, rip);
        compare(memo, vmcs, context);
        compare(memo, vmcs, context);
    }

    @Test
    void theViewReflectsLaterWritesAndTheSnapshotDoesNot() {
        Vmcs vmcs = new Vmcs();
        VmcsSnapshot copy = vmcs.snapshot();
        vmcs.write(GUEST_RIP, 0x1234);
        assertEquals(0x1234, vmcs.view().get(GUEST_RIP));
        assertEquals(0, copy.get(GUEST_RIP));
    }
}
