package lhv.hypervisor.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exit loop reads the exit qualification and the instruction length only when a handler, the
 * trace or the console asks for them ({@link lhv.hypervisor.exits.VmExit}). Against runs that read
 * everything (the trace and the verbose console ask for both at every exit):
 * <ul>
 *   <li>at every exit of the demo, the values a quiet run's trace records (read after the handler
 *       ran, unless it asked) are the ones VMREAD returns right at the exit, before any handler;</li>
 *   <li>a quiet run without a trace, where only handlers ask, ends in the same guest state, with
 *       the same output and the same exit counts.</li>
 * </ul>
 */
class LazyExitFieldsTest {

    @Test
    void theTraceRecordsEachExitAsVmreadReturnsItRightAtTheExit() throws Exception {
        // quiet: the console does not ask for the fields, so only the trace and the handlers do;
        // a run stopped at exit k by a hook shows what VMREAD returns at that exit, before any handler
        List<JsonNode> full = tracedQuietRun(o -> o);
        assertTrue(full.size() > 30, "the demo's exits");
        for (int k = 1; k <= full.size(); k++) {
            long[] atExit = new long[2];
            int seq = k;
            List<JsonNode> trace = tracedQuietRun(o -> o.withAtExit(seq, vmcs -> {
                atExit[0] = vmcs.read(VmcsField.EXIT_QUALIFICATION);
                atExit[1] = vmcs.read(VmcsField.VM_EXIT_INSTRUCTION_LEN);
            }));
            JsonNode last = trace.getLast();
            JsonNode expected = full.get(k - 1);
            assertEquals(k, last.get("seq").asInt());
            assertEquals("0x" + Long.toHexString(atExit[0]), last.get("qualification").asText(), "exit " + k);
            assertEquals(atExit[1], last.get("length").asLong(), "exit " + k);
            assertEquals(expected.get("qualification").asText(), last.get("qualification").asText(), "exit " + k);
            assertEquals(expected.get("length").asInt(), last.get("length").asInt(), "exit " + k);
        }
    }

    private static List<JsonNode> tracedQuietRun(java.util.function.UnaryOperator<RunOptions> adjust) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), trace = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        RunResult r = new Hypervisor(TestBoard::new).run(adjust.apply(
                RunOptions.of(VmConfig.defaults(), new Console(print, print, Console.Verbosity.QUIET)).withTrace(trace)));
        assertTrue(r.status() == 0, out.toString(StandardCharsets.UTF_8));
        List<JsonNode> lines = new java.util.ArrayList<>();
        ObjectMapper m = new ObjectMapper();
        for (String line : trace.toString(StandardCharsets.UTF_8).split("\n")) if (!line.isBlank()) lines.add(m.readTree(line));
        return lines;
    }

    @Test
    void aQuietRunWithoutTraceEndsAsARunThatReadsEverything(@TempDir Path dir) throws Exception {
        for (String image : List.of("demo", "cpuid loop")) {
            Ran quiet = run(image, Console.Verbosity.QUIET, false, dir.resolve(image + "-quiet.json"));
            Ran verbose = run(image, Console.Verbosity.VERBOSE, true, dir.resolve(image + "-verbose.json"));
            assertEquals(verbose.result.status(), quiet.result.status(), image);
            assertEquals(verbose.result.why(), quiet.result.why(), image);
            assertEquals(verbose.result.stats().exits(), quiet.result.stats().exits(), image);
            for (int reason : new int[] {10, 12, 28, 30, 31, 0, 18}) {
                assertEquals(verbose.result.stats().count(reason), quiet.result.stats().count(reason), image + " reason " + reason);
            }
            assertEquals(verbose.state, quiet.state, image);
            assertTrue(quiet.state.contains("\"rip\""), quiet.state);
        }
    }

    /**
     * guests/bench-cpuid's loop, 40 times, with a leaf that changes (the handler's per-leaf cache):
     * mov r8d, 40; loop: mov eax, r8d; xor ecx, ecx; cpuid; dec r8d; jnz loop; cli; hlt.
     */
    static final Path CPUID_LOOP = Runs.guest(0x41, 0xB8, 40, 0, 0, 0, 0x44, 0x89, 0xC0, 0x31, 0xC9, 0x0F, 0xA2,
            0x41, 0xFF, 0xC8, 0x75, 0xF4, 0xFA, 0xF4);

    record Ran(RunResult result, String state) { }

    private static Ran run(String image, Console.Verbosity verbosity, boolean trace, Path dump) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        Hypervisor hv = new Hypervisor(TestBoard::new);
        RunOptions o = RunOptions.of(VmConfig.defaults(), new Console(print, print, verbosity)).withDumpState(dump);
        if (!image.equals("demo")) o = o.withImage(CPUID_LOOP);
        if (trace) o = o.withTrace(new ByteArrayOutputStream());
        RunResult r = hv.run(o);
        return new Ran(r, Files.readString(dump));
    }
}
