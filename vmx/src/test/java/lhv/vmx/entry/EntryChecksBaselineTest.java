package lhv.vmx.entry;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EntryChecksBaselineTest {

    @Test
    void baselinePassesEveryCheck() {
        var failures = EntryChecks.all(Baseline.vmcs(), Baseline.context());
        assertEquals(java.util.List.of(), failures);
        assertNull(EntryChecks.firstFailure(Baseline.vmcs(), Baseline.context()));
    }

    @Test
    void idsAreUniqueAndOrderedByPhase() {
        Set<String> ids = new HashSet<>();
        Phase last = Phase.CONTROLS;
        for (EntryCheck c : EntryChecks.checks()) {
            assertTrue(ids.add(c.id), c.id);
            assertTrue(c.phase.ordinal() >= last.ordinal(), "SDM order: controls, host, guest: " + c.id);
            last = c.phase;
            assertTrue(c.section.startsWith("27.2") || c.section.startsWith("27.3"), c.id);
            assertEquals(c.phase == Phase.GUEST_STATE, c.section.startsWith("27.3"), c.id);
            if (c.phase != Phase.GUEST_STATE) assertEquals(0, c.exitQualification);
        }
    }
}
