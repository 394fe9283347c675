package lhv.hypervisor.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import lhv.hypervisor.config.ConfigLoader;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.trace.Console;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Runs the hypervisor on a {@link TestBoard} and keeps everything a test asserts on: status,
 * console text (seed lines, guest output through the print hypercall), UART output, errors, the
 * exit trace as parsed JSON objects, and the board (to check it was closed).
 *
 * <p>Context: test fixture (Java host).
 */
final class Runs {
    final RunResult result;
    final String console;
    final String errors;
    final String uart;
    final List<JsonNode> trace = new ArrayList<>();
    final TestBoard board;

    private Runs(RunResult result, String console, String errors, String uart, byte[] trace, TestBoard board) throws Exception {
        this.result = result;
        this.console = console;
        this.errors = errors;
        this.uart = uart;
        this.board = board;
        ObjectMapper m = new ObjectMapper();
        for (String line : new String(trace, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) this.trace.add(m.readTree(line));
        }
    }

    static Runs run(VmConfig config, UnaryOperator<RunOptions> adjust) throws Exception {
        return run(config, adjust, b -> { });
    }

    /** {@code prepare} sees the board before the hypervisor touches it (to preset hardware state). */
    static Runs run(VmConfig config, UnaryOperator<RunOptions> adjust, java.util.function.Consumer<TestBoard> prepare) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream(), trace = new ByteArrayOutputStream();
        Console console = new Console(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Console.Verbosity.NORMAL);
        TestBoard[] board = new TestBoard[1];
        Hypervisor hv = new Hypervisor(setup -> {
            board[0] = new TestBoard(setup);
            prepare.accept(board[0]);
            return board[0];
        });
        RunResult r = hv.run(adjust.apply(RunOptions.of(config, console).withTrace(trace)));
        return new Runs(r, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                board[0] == null ? "" : board[0].output(), trace.toByteArray(), board[0]);
    }

    static Runs run(VmConfig config) throws Exception {
        return run(config, o -> o);
    }

    static VmConfig yaml(String text) {
        return ConfigLoader.parse("test.yaml", text, Path.of("."));
    }

    static VmConfig example(String name) {
        return ConfigLoader.load(examples().resolve(name));
    }

    static Path examples() {
        Path p = Path.of("..", "examples");
        return p.toFile().isDirectory() ? p : Path.of("examples");
    }

    /** Writes a small guest program (raw 64-bit code) to a temporary file. */
    static Path guest(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) b[i] = (byte) bytes[i];
        try {
            Path p = java.nio.file.Files.createTempFile("guest", ".bin");
            java.nio.file.Files.write(p, b);
            p.toFile().deleteOnExit();
            return p;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The exit names of the trace, in order. */
    List<String> names() {
        List<String> n = new ArrayList<>();
        for (JsonNode j : trace) n.add(j.get("name").asText());
        return n;
    }

    /** The exit names without the demo's exit-counting VMCALLs (hypercall 2). */
    List<String> namesWithoutCounting() {
        List<String> n = new ArrayList<>();
        for (JsonNode j : trace) {
            if (j.get("name").asText().equals("VMCALL") && j.path("hypercall").asInt(-1) == 2) continue;
            n.add(j.get("name").asText());
        }
        return n;
    }
}
