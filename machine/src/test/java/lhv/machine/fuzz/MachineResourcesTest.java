package lhv.machine.fuzz;

import lhv.machine.Machine;
import lhv.machine.Outcome;
import lhv.machine.RunLimits;
import lhv.machine.RunResult;
import lhv.platform.loader.BootImage;
import lhv.platform.memory.GuestMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Everything a machine reserves is returned when it closes: 200 short machines in a row (each
 * touching several MiB of guest RAM) leave no guest-RAM reservation behind and do not grow the
 * process's resident memory.
 *
 * <p>Context: unit tests only (Java host; RSS from /proc/self/status where it exists).
 */
class MachineResourcesTest {
    @TempDir Path dir;

    /** mov rdi,0x200000; mov ecx,0x400000; xor eax,eax; rep stosb (touches 4 MiB); out 0xf4,al */
    static final byte[] CODE = {0x48, (byte) 0xC7, (byte) 0xC7, 0x00, 0x00, 0x20, 0x00, (byte) 0xB9, 0x00, 0x00, 0x40, 0x00,
            0x31, (byte) 0xC0, (byte) 0xF3, (byte) 0xAA, (byte) 0xE6, (byte) 0xF4};

    static long rssKiB() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        for (String l : Files.readAllLines(status)) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    void oneRun(Path image) throws Exception {
        try (Machine m = Machine.builder().memory(16L << 20).console(OutputStream.nullOutputStream()).build()) {
            m.boot(new BootImage(image, "flat", "", List.of(), OptionalLong.of(0x100000)));
            RunResult r = m.run(new RunLimits(1_000_000, null));
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
        }
    }

    @Test
    void twoHundredMachinesLeaveNothingBehind() throws Exception {
        Path image = dir.resolve("touch.bin");
        Files.write(image, CODE);
        long reservations = GuestMemory.liveReservations();
        for (int i = 0; i < 20; i++) oneRun(image);   // warm-up: JIT, class loading, heap sizing
        long rssBefore = rssKiB();
        for (int i = 0; i < 200; i++) oneRun(image);
        assertEquals(reservations, GuestMemory.liveReservations(), "every guest RAM reservation returned");
        long rssAfter = rssKiB();
        // 200 x 4 MiB of touched guest RAM = 800 MiB if nothing were unmapped; allow heap noise.
        if (rssBefore > 0) assertTrue(rssAfter - rssBefore < 128 * 1024, "RSS grew from " + rssBefore + " to " + rssAfter + " KiB");
    }
}
