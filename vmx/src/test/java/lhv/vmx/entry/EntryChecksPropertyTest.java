package lhv.vmx.entry;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties linking silicon mode (first failure) and diagnose mode (all failures) on random VMCS damage. */
class EntryChecksPropertyTest {
    private static final EntryContext CONTEXT = Baseline.context();

    @Provide
    Arbitrary<VmcsField> fields() {
        return Arbitraries.of(VmcsField.class);
    }

    @Provide
    Arbitrary<Long> values() {
        return Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 0xFFFF),
                Arbitraries.of(0L, -1L, 1L << 31, 1L << 32, 0x0000_8000_0000_0000L));
    }

    @Property(tries = 150)
    void firstFailureIsTheFirstOfAll(@ForAll("fields") VmcsField f1, @ForAll("values") long v1,
                                     @ForAll("fields") VmcsField f2, @ForAll("values") long v2) {
        VmcsSnapshot s = Baseline.vmcs().with(f1, v1).with(f2, v2);
        List<CheckFailure> all = EntryChecks.all(s, CONTEXT);
        CheckFailure first = EntryChecks.firstFailure(s, CONTEXT);
        if (all.isEmpty()) {
            assertNull(first);
        } else {
            assertEquals(all.get(0), first);
            for (int i = 1; i < all.size(); i++) {
                assertTrue(all.get(i - 1).phase().ordinal() <= all.get(i).phase().ordinal(), "phases in SDM order");
            }
            for (CheckFailure f : all) {
                assertTrue(f.message().startsWith("VM-entry check failed [SDM 27."), f.message());
                if (f.phase() != Phase.GUEST_STATE) assertEquals(0, f.exitQualification());
            }
        }
    }

    @Property(tries = 30)
    void exitInformationFieldsDoNotAffectEntry(@ForAll("values") long v) {
        // Exit-information fields are outputs of VM exits; no entry rule may depend on them.
        VmcsSnapshot s = Baseline.vmcs();
        for (VmcsField f : VmcsField.values()) {
            if (f.isReadOnly()) s = s.with(f, v);
        }
        assertEquals(List.of(), EntryChecks.all(s, CONTEXT));
    }
}
