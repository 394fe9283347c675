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
 * touching 1 MiB of guest RAM) leave no guest-RAM reservation behind and do not grow the
 * process's resident memory outside the Java heap.
 *
 * <p>Context: unit tests only (Java host; RSS from /proc/self/status where it exists).
 */
class MachineResourcesTest {
    @TempDir Path dir;

    /** mov rdi,0x200000; mov ecx,0x20000; xor eax,eax; rep stosq (touches 1 MiB); out 0xf4,al */
    static final byte[] CODE = {0x48, (byte) 0xC7, (byte) 0xC7, 0x00, 0x00, 0x20, 0x00, (byte) 0xB9, 0x00, 0x00, 0x02, 0x00,
            0x31, (byte) 0xC0, (byte) 0xF3, 0x48, (byte) 0xAB, (byte) 0xE6, (byte) 0xF4};

    static long rssKiB() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) return -1;
        for (String l : Files.readAllLines(status)) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    /** Resident memory minus the committed Java heap, in KiB; -1 where RSS cannot be read. */
    static long outsideHeapKiB() throws IOException {
        System.gc();
        long rss = rssKiB();
        if (rss < 0) return -1;
        return rss - java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1024;
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
        long nativeBefore = outsideHeapKiB();
        for (int i = 0; i < 200; i++) oneRun(image);
        assertEquals(reservations, GuestMemory.liveReservations(), "every guest RAM reservation returned");
        long nativeAfter = outsideHeapKiB();
        // 200 x 1 MiB of touched guest RAM = 200 MiB if nothing were unmapped; the Java heap is
        // excluded (it may grow before a collection), what remains is native memory.
        if (nativeBefore >= 0) {
            assertTrue(nativeAfter - nativeBefore < 64 * 1024, "resident memory outside the Java heap grew from "
                    + nativeBefore + " to " + nativeAfter + " KiB");
        }
    }
}
