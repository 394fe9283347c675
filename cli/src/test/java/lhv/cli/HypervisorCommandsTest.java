package lhv.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `hv run`, `hv caps`, `hv check`, `hv vmcs` through picocli on the real machine board. */
class HypervisorCommandsTest {
    static final Path EXAMPLES = Path.of("..", "examples");
    @TempDir Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    PrintStream savedOut, savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    int hv(String... args) {
        return Main.commandLine(args).execute(args);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }

    @Test
    void runTheDemo() throws Exception {
        Path trace = dir.resolve("t.jsonl"), state = dir.resolve("s.json");
        assertEquals(0, hv("run", "--trace", trace.toString(), "--dump-state", state.toString(), "--stats"));
        String o = out();
        assertTrue(o.startsWith("VMX support present! continuing...\nVMXON Region setup success\nVMCS Region setup success\n"
                + "VMCS control fields set successfully\n"), o);
        assertTrue(o.contains("demo guest: running in VMX non-root operation"), o);
        assertTrue(o.contains("VM exit reason is [12] HLT\nVMXOFF operation succeeded!\n"), o);
        assertTrue(o.contains("total exits 39 in "), o);
        assertTrue(o.contains("   10 CPUID                  2\n"), o);
        List<String> lines = Files.readAllLines(trace);
        assertEquals(39, lines.size());
        assertTrue(lines.getFirst().startsWith("{\"seq\":1,\"reason\":18,\"name\":\"VMCALL\",\"qualification\":\"0x0\",\"rip\":\"0x"), lines.getFirst());
        String s = Files.readString(state);
        assertTrue(s.contains("\"cs\" : \"0x8\""), s);
        assertTrue(s.contains("\"rsp\" : \"0x180000\""), s);
        assertEquals("", err());
    }

    @Test
    void quietShowsOnlyTheGuest() {
        assertEquals(0, hv("run", "-q"));
        assertFalse(out().contains("VM exit reason"), out());
        assertTrue(out().startsWith("demo guest: running in VMX non-root operation\n"), out());
    }

    @Test
    void verboseAddsStepsAndExits() {
        assertEquals(0, hv("run", "-v"));
        assertTrue(out().contains("  VMXON region at 0x"), out());
        assertTrue(out().contains("  exit 1 at rip 0x"), out());
        assertTrue(out().contains("  freed guest memory [0x100000-0x1000000)"), out());
    }

    @Test
    void noVmx() {
        assertEquals(3, hv("run", "--cpu", "lhv-skylake-novmx"));
        assertEquals("VMX support not present\n", err());
    }

    @Test
    void configErrorIsOneLineWithPosition() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, "io-traps:\n  - 0x3F8\n  - 70000\n");
        assertEquals(2, hv("run", "--config", cfg.toString()));
        assertEquals("hv: " + cfg + ":3:5: port 0x11170 is outside 0-0xFFFF (the I/O address space, SDM Vol. 1 19.2)\n", err());
        assertEquals("", out());
    }

    @Test
    void badOptions() {
        assertEquals(2, hv("run", "--timeout", "soon"));
        assertEquals("hv: --timeout: 'soon' is not a duration (e.g. 500ms, 2s)\n", err());
    }

    @Test
    void caps() {
        assertEquals(0, hv("caps"));
        assertTrue(out().contains("IA32_VMX_PINBASED_CTLS (0x481) = 0x0000007f00000016"), out());
        assertTrue(out().contains("bit  7 process posted interrupts                     must be 0"), out());
        assertTrue(out().contains("bit  7 HLT exiting                                   0 or 1"), out());
    }

    @Test
    void checkPassesForTheDefaultsAndNamesTheSeedsMistakes() {
        assertEquals(0, hv("check"));
        assertEquals("all VM-entry checks pass\n", out());
        out.reset();
        assertEquals(1, hv("check", "--config", EXAMPLES.resolve("seed-mistakes.yaml").toString()));
        String o = out();
        assertTrue(o.contains("VM-entry check failed [SDM 27.2.1.1] primary processor-based VM-execution controls: bits that must be 1 are 0"), o);
        assertTrue(o.contains("VM-entry check failed [SDM 27.2.1.2] the VM-exit MSR-store address must be 16-byte aligned"), o);
        assertTrue(o.contains("[SDM A.3.1] PIN_BASED_VM_EXEC_CONTROL = 0x7f is not (desired | must-be-1) & allowed-1 = 0x16"), o);
        assertTrue(o.contains("[SDM B.1.2] CPU_BASED_VM_EXEC_CONTROL (0x4002) holds what looks like the secondary controls"), o);
        assertTrue(o.contains("VM_ENTRY_MSR_LOAD_COUNT = "), o);
    }

    @Test
    void vmcsAfterSetupAndAtAnExit() {
        assertEquals(0, hv("vmcs"));
        String o = out();
        assertTrue(o.contains("0802 GUEST_CS_SELECTOR                    = 0x8"), o);
        assertTrue(o.contains("4816 GUEST_CS_AR_BYTES                    = 0xa09b"), o);
        assertTrue(o.contains("type=b S=1 DPL=0 P=1 AVL=0 L=1 D/B=0 G=1"), o);
        assertTrue(o.contains("HLT exiting, "), o);
        assertTrue(o.contains("681e GUEST_RIP                            = 0x100000"), o);
        out.reset();
        assertEquals(0, hv("vmcs", "--at-exit", "2"));
        assertTrue(out().matches("(?s).*\\n4402 VM_EXIT_REASON += 0xa +CPUID\\n.*"), out());
    }
}
