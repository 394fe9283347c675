package lhv.hypervisor.vm;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.exits.ExitAction;
import lhv.hypervisor.trace.Console;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random guest code under the seed's hypervisor on the real machine board ({@code hv run}): random
 * bytes, salted with the instructions that exit (CPUID, IN/OUT and string I/O, RDMSR/WRMSR, MOV CR,
 * HLT, VMCALL, UD2), run under the default controls with an instruction limit. Every run ends with
 * a documented status other than "internal error", with one error line at most, every region freed
 * and the machine's guest RAM returned to the host.
 */
class RandomGuestFuzzTest {
    static final byte[][] EXITING = {
            {0x0F, (byte) 0xA2}, {(byte) 0xE6, (byte) 0xF4}, {(byte) 0xEC}, {(byte) 0xED}, {(byte) 0xEE}, {(byte) 0xEF},
            {(byte) 0xF3, 0x6E}, {(byte) 0xF3, 0x6D}, {0x0F, 0x32}, {0x0F, 0x30}, {0x0F, 0x22, (byte) 0xC0},
            {0x0F, 0x22, (byte) 0xD8}, {0x0F, 0x22, (byte) 0xE0}, {0x0F, 0x20, (byte) 0xC0}, {0x0F, 0x20, (byte) 0xD8},
            {(byte) 0xF4}, {0x0F, 0x01, (byte) 0xC1}, {0x0F, 0x0B}, {0x0F, 0x06}, {0x0F, 0x01, 0x36}, {(byte) 0xCC},
            {0x66, (byte) 0xBA, (byte) 0xFF, 0x03}, {(byte) 0xB9, 0x74, 0x01, 0, 0}, {(byte) 0xB8, 0x01, 0, 0, 0}};

    @Property(tries = 40, seed = "1979", shrinking = ShrinkingMode.OFF)
    void randomGuestsEndWithADocumentedStatus(@ForAll long seed) throws Exception {
        Random r = new Random(seed);
        ByteArrayOutputStream code = new ByteArrayOutputStream();
        for (int n = 1 + r.nextInt(60); n > 0; n--) {
            if (r.nextInt(3) == 0) {
                byte[] b = new byte[1 + r.nextInt(6)];
                r.nextBytes(b);
                code.writeBytes(b);
            } else {
                code.writeBytes(EXITING[r.nextInt(EXITING.length)]);
            }
        }
        Path image = Files.createTempFile("guest", ".bin");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            Files.write(image, code.toByteArray());
            Console console = new Console(new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), Console.Verbosity.QUIET);
            long reservations = lhv.platform.memory.GuestMemory.liveReservations();
            RunResult result = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> MachineBoard.hypervisor()
                    .run(RunOptions.of(VmConfig.defaults(), console).withImage(image).withLimits(20_000, 5_000)));
            String errors = err.toString(StandardCharsets.UTF_8);
            Statistics.collect(result.status());
            assertNotEquals(ExitAction.STATUS_INTERNAL_ERROR, result.status(), errors);
            assertFalse(errors.contains("\tat "), errors);
            assertTrue(errors.lines().count() <= 1, errors);
            assertEquals(0, result.regionsLeft(), "every region freed");
            assertEquals(reservations, lhv.platform.memory.GuestMemory.liveReservations(), "guest RAM returned to the host");
        } finally {
            Files.deleteIfExists(image);
        }
    }
}
