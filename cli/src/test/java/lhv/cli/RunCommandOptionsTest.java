package lhv.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@code hv run --timeout}: accepted forms, and values that would disable or overflow the bound. */
class RunCommandOptionsTest {
    @Test
    void durations() {
        assertEquals(500, RunCommand.parseDuration("500ms"));
        assertEquals(2000, RunCommand.parseDuration("2s"));
        assertEquals(1500, RunCommand.parseDuration("1.5s"));
        assertEquals(60_000, RunCommand.parseDuration("1m"));
        assertEquals(3000, RunCommand.parseDuration("3"));
    }

    @Test
    void valuesThatWouldDisableOrOverflowTheBoundAreRefused() {
        for (String bad : new String[] {"-2s", "0", "NaN", "nans", "1e400s", "Infinity", "0.0001s", "99999999999999m"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunCommand.parseDuration(bad), bad);
            assertTrue(e.getMessage().startsWith("--timeout: '" + bad + "'"), e.getMessage());
        }
    }
}
