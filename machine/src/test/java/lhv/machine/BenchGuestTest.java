package lhv.machine;

import lhv.platform.loader.BootImage;
import lhv.platform.loader.LoadException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs the committed integer benchmark guest (guests/bench/bench.elf) and compares its checksum with
 * the one qemu-system-x86_64 7.2 (TCG) prints for the same iteration count: an independent
 * processor's answer for ~460,000 multiplies, shifts, rotates, loads, stores and branches.
 *
 * <p>Context: Java host; the whole machine runs the guest as {@code hv boot} would.
 */
class BenchGuestTest {
    static final Path IMAGE = Path.of("..", "guests", "bench", "bench.elf");
    static final int LOOP_INSNS = 23;

    record Run(String console, RunResult result) { }

    static Run run(long iterations) throws LoadException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine m = Machine.builder().console(console).build()) {
            m.boot(new BootImage(IMAGE, "bench.elf", "iterations=" + iterations, List.of(), OptionalLong.empty()));
            RunResult r = m.run(new RunLimits(50_000_000, Duration.ofSeconds(60)));
            return new Run(console.toString(StandardCharsets.US_ASCII), r);
        }
    }

    @Test
    void checksumsMatchQemuTcg() throws LoadException {
        // qemu-system-x86_64 -kernel bench.elf -append iterations=N (guests/bench/README.md)
        Run small = run(1000);
        assertEquals(1, small.result().exitStatus(), small.result().summary());
        assertEquals("""
                bench: iterations=1000
                bench: loop-instructions=23000 checksum=0x8b7146f16d4e28fb
                """, small.console());
        Run large = run(20_000);
        assertEquals(1, large.result().exitStatus(), large.result().summary());
        assertEquals("""
                bench: iterations=20000
                bench: loop-instructions=460000 checksum=0x40d58bc49ffc8988
                """, large.console());
        // The loop retires exactly 23 instructions per iteration; only the printing differs a little.
        long extra = large.result().instructions() - small.result().instructions() - (20_000 - 1000) * LOOP_INSNS;
        assertTrue(extra >= 0 && extra < 1000, "instructions outside the loop differ by " + extra);
    }
}
