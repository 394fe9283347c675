package lhv.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class BootCommandTest {
    static final String HELLO = Path.of("..", "guests", "hello", "hello.elf").toString();
    @TempDir Path dir;
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedErr;
    java.io.InputStream savedIn;

    @BeforeEach
    void captureStderr() {
        savedErr = System.err;
        System.setErr(new PrintStream(err, true));
        // hv boot feeds standard input to the guest's UART; in the test fork that stream is the
        // test runner's command channel, which a reader thread must not consume (the fork would
        // then wait 30 s for commands it never sees before it is killed).
        savedIn = System.in;
        System.setIn(new java.io.ByteArrayInputStream(new byte[0]));
    }

    @AfterEach
    void restoreStderr() {
        System.setErr(savedErr);
        System.setIn(savedIn);
    }

    int boot(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "boot";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.commandLine(all).execute(all);
    }

    String errText() {
        return err.toString().replace(System.lineSeparator(), "\n");
    }

    @Test
    void helloExitsWithTheGuestStatusAndPrintsASummary() {
        assertEquals(33, boot(HELLO, "--append", "x"));
        assertTrue(errText().matches("hv: debug-exit, status 33 \\(value 0x10\\); \\d+ instructions in [0-9.]+ s \\([0-9.]+ MIPS\\)\n"), errText());
    }

    @Test
    void dumpStateWritesJson() throws Exception {
        Path out = dir.resolve("s.json");
        assertEquals(33, boot(HELLO, "--dump-state", out.toString()));
        String json = Files.readString(out);
        // hello.asm keeps the boot magic in ESI and the information pointer in EDI.
        assertTrue(json.contains("\"rsi\" : \"0x2badb002\""), json);
        assertTrue(json.contains("\"rdi\" : \"0x9500\""), json);
        assertTrue(json.contains("\"selectors\" : {"), json);
        assertTrue(json.contains("\"cs\" : \"0x8\""), json);
    }

    @Test
    void limitsGiveTheirStatuses() {
        assertEquals(6, boot(HELLO, "--max-instructions", "10"));
        assertTrue(errText().startsWith("hv: instruction limit reached; 10 instructions"), errText());
    }

    @Test
    void badInputIsOneLineAndStatusTwo() throws Exception {
        assertEquals(2, boot(dir.resolve("missing.elf").toString()));
        assertEquals(2, boot(HELLO, "--memory", "lots"));
        assertEquals(2, boot(HELLO, "--memory", "1"));
        assertEquals(2, boot(HELLO, "--max-instructions", "0"));
        assertEquals(2, boot(HELLO, "--timeout", "-1"));
        assertEquals(2, boot(HELLO, "--flat-address", "zz"));
        assertEquals(2, boot(HELLO, "--initrd", dir.resolve("nomod").toString()));
        assertEquals(2, boot(HELLO, "--dump-state", dir.resolve("no/such/dir/s.json").toString()));
        String[] lines = errText().split("\n");
        assertEquals(dir.resolve("missing.elf") + ": no such image file", lines[0].substring(4));
        assertEquals("hv: --memory: cannot read size 'lots' (examples: 256, 512M, 2G)", lines[1]);
        assertEquals("hv: --memory: guest RAM must be a multiple of 4 KiB between 2 MiB and 3584 MiB", lines[2]);
        assertEquals("hv: --max-instructions must be positive", lines[3]);
        assertEquals("hv: --timeout must be a positive number of seconds", lines[4]);
        assertEquals("hv: --flat-address: cannot read address 'zz'", lines[5]);
        assertEquals("hv: " + dir.resolve("nomod") + ": no such module file", lines[6]);
        assertTrue(lines[8].startsWith("hv: cannot write the state dump: "), lines[8]);
        assertFalse(errText().contains("Exception"), errText());
    }

    @Test
    void sizesAsQemuReadsThem() {
        assertEquals(256L << 20, BootCommand.parseSize("256"));
        assertEquals(512L << 20, BootCommand.parseSize("512M"));
        assertEquals(2L << 30, BootCommand.parseSize("2G"));
        assertEquals(2L << 30, BootCommand.parseSize("2GiB"));
        assertEquals(4096L << 10, BootCommand.parseSize("4096k"));
        assertThrows(IllegalArgumentException.class, () -> BootCommand.parseSize("99999999999999999999"));
        assertEquals(0x100000, BootCommand.parseAddress("0x100000"));
        assertEquals(4096, BootCommand.parseAddress("4096"));
    }
}
