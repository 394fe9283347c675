package lhv.machine;

import lhv.cpu.Cpu;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.LoadException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/** Boots the committed guests/hello/hello.elf end to end and checks what QEMU shows for it. */
class HelloBootTest {
    static final Path HELLO = Path.of("..", "guests", "hello", "hello.elf");

    @Test
    void helloPrintsThroughTheUartAndExitsThroughDebugExit() throws LoadException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine m = Machine.builder().console(console).build()) {
            m.boot(new BootImage(HELLO, "hello.elf", "hi there", List.of(), OptionalLong.empty()));
            RunResult r = m.run(new RunLimits(10_000_000, null));
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            assertEquals(33, r.exitStatus(), "value 0x10 -> (0x10 << 1) | 1");
            // The same text qemu-system-x86_64 -kernel hello.elf -append "hi there" prints (guests/hello/compare-qemu.sh).
            assertEquals("""
                    Hello from a Multiboot guest on the 16550 UART!
                    command line: hello.elf hi there
                    Goodbye: exiting through isa-debug-exit with value 0x10.
                    """, console.toString());
            assertTrue(r.instructions() > 100 && r.instructions() < 100_000, "instructions: " + r.instructions());
            assertEquals(0x10, m.cpu().gpr[Cpu.RAX] & 0xFF);
        }
    }

    /**
     * hello.elf is 32-bit protected-mode code only: with every block translated before its first
     * run, it goes through translated 32-bit regions and ends exactly as interpreted (same output,
     * instruction count and registers).
     */
    @Test
    void helloRunsTheSameThroughTranslated32BitCode() throws LoadException {
        String[] out = new String[2];
        long[] insns = new long[2];
        long[][] regs = new long[2][];
        for (int k = 0; k < 2; k++) {
            ByteArrayOutputStream console = new ByteArrayOutputStream();
            try (Machine m = Machine.builder().console(console).build()) {
                m.cpu().interpreter.setTranslation(k == 1);
                m.cpu().interpreter.setTranslationThreshold(0);
                m.boot(new BootImage(HELLO, "hello.elf", "hi there", List.of(), OptionalLong.empty()));
                RunResult r = m.run(new RunLimits(10_000_000, null));
                assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
                out[k] = console.toString();
                insns[k] = r.instructions();
                regs[k] = m.cpu().gpr.clone();
                if (k == 1) {
                    assertTrue(m.cpu().interpreter.regionsTranslated() > 0, "32-bit regions translated");
                    assertEquals(0, m.cpu().interpreter.translationFailures());
                }
            }
        }
        assertEquals(out[0], out[1]);
        assertEquals(insns[0], insns[1]);
        assertArrayEquals(regs[0], regs[1]);
    }

    @Test
    void modulesAreListedAsQemuListsThem(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path m1 = dir.resolve("m1.txt"), m2 = dir.resolve("m2.bin");
        java.nio.file.Files.writeString(m1, "first module\n");
        java.nio.file.Files.write(m2, new byte[5000]);
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        try (Machine m = Machine.builder().console(console).build()) {
            m.boot(new BootImage(HELLO, "hello.elf", "a b", List.of(m1 + " arg1 arg2", m2.toString()), OptionalLong.empty()));
            RunResult r = m.run(new RunLimits(10_000_000, null));
            assertEquals(33, r.exitStatus(), r.summary());
            // What qemu-system-x86_64 -kernel hello.elf -append "a b" -initrd "M1 arg1 arg2,M2" prints.
            assertEquals("Hello from a Multiboot guest on the 16550 UART!\n"
                    + "command line: hello.elf a b\n"
                    + "module: " + m1 + " arg1 arg2, 13 bytes\n"
                    + "module: " + m2 + ", 5000 bytes\n"
                    + "Goodbye: exiting through isa-debug-exit with value 0x10.\n", console.toString());
        }
    }

    @Test
    void instructionLimitStopsTheRun() throws LoadException {
        try (Machine m = Machine.builder().console(new ByteArrayOutputStream()).build()) {
            m.boot(BootImage.of(HELLO));
            RunResult r = m.run(new RunLimits(50, null));
            assertEquals(Outcome.INSTRUCTION_LIMIT, r.outcome());
            assertEquals(6, r.exitStatus());
            assertEquals(50, r.instructions());
        }
    }
}
