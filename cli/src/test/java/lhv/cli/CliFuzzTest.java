package lhv.cli;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad user input to {@code hv run}, {@code hv check}, {@code hv vmcs} and {@code hv boot}: random
 * JSON configurations (known keys with values of random types and ranges, unknown keys, broken
 * syntax) and random option values. Whatever the input: the command returns a status, a failure
 * (status 2) is one {@code hv: } line on standard error, and no stack trace is ever printed.
 *
 * <p>Context: unit tests only; runs the commands in-process with standard output and error captured.
 */
class CliFuzzTest {
    static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("lhv-cli-fuzz");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    record Outcome(int status, String out, String err) { }

    static synchronized Outcome hv(String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        java.io.InputStream savedIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            // hv boot reads the guest's console input from standard input; in a test fork that is
            // the test runner's command channel, which must not be consumed.
            System.setIn(new java.io.ByteArrayInputStream(new byte[0]));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = Main.commandLine().execute(args);
            return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(savedIn);
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    static void assertNoTrace(Outcome o, String what) {
        String all = o.out + o.err;
        assertFalse(all.contains("\tat ") || all.contains("Exception in") || all.matches("(?s).*\\bat [a-z]+\\.[a-zA-Z.$]+\\(.*"),
                () -> what + ": stack trace printed:\n" + all);
        assertFalse(o.status == 12 || all.contains("internal error"), () -> what + ": internal error:\n" + all);
        if (o.status == 2) {
            List<String> lines = o.err.lines().filter(l -> !l.isBlank()).toList();
            assertFalse(lines.isEmpty(), () -> what + ": status 2 without a message");
            assertTrue(lines.getLast().startsWith("hv: ") || lines.getLast().startsWith("Usage") || lines.getFirst().startsWith("hv: "),
                    () -> what + ": unclear message:\n" + o.err);
        }
    }

    static final String[] TOP = {"memory", "guest", "controls", "io-traps", "msr-traps", "cr0", "cr4", "exceptions",
            "stop-on-exceptions", "page-fault", "cr3-targets", "msr-areas", "cpuid", "preemption-timer", "seed-mistakes", "bogus"};
    static final String[] SUB = {"image", "load-address", "entry", "stack-top", "pin", "primary", "secondary", "exit", "entry",
            "read", "write", "mask", "shadow", "match", "exit-store", "exit-load", "entry-load", "expose-vmx", "from", "to",
            "msr", "value", "x"};
    static final String[] WORDS = {"HLT exiting", "use I/O bitmaps", "activate VMX-preemption timer", "IA-32e mode guest",
            "host address-space size", "seed", "UD", "GP", "PF", "IA32_SYSENTER_CS", "IA32_EFER", "0x3F8", "control-formula",
            "msr-area-counts", "secondary-in-primary", "16M", "1G", "0K", "-1", "", "nonsense", "process posted interrupts",
            "enable EPT", "unrestricted guest", "0x174", "0xC0000080", "99999999999999999999"};

    static String scalar(Random r) {
        return switch (r.nextInt(9)) {
            case 0 -> Long.toString(r.nextLong());
            case 1 -> "\"0x" + Long.toHexString(r.nextLong()) + "\"";
            case 2 -> Integer.toString(r.nextInt(0x20000) - 16);
            case 3 -> r.nextBoolean() ? "true" : "false";
            case 4 -> "null";
            case 5 -> "1e308";
            case 6 -> "0.5";
            default -> "\"" + WORDS[r.nextInt(WORDS.length)] + "\"";
        };
    }

    static String json(Random r, int depth) {
        int k = depth > 2 ? 3 : r.nextInt(5);
        return switch (k) {
            case 0 -> {
                StringBuilder b = new StringBuilder("{");
                for (int n = r.nextInt(4); n > 0; n--) {
                    b.append('"').append(SUB[r.nextInt(SUB.length)]).append("\": ").append(json(r, depth + 1));
                    if (n > 1) b.append(", ");
                }
                yield b.append('}').toString();
            }
            case 1 -> {
                StringBuilder b = new StringBuilder("[");
                for (int n = r.nextInt(5); n > 0; n--) {
                    b.append(json(r, depth + 1));
                    if (n > 1) b.append(", ");
                }
                yield b.append(']').toString();
            }
            default -> scalar(r);
        };
    }

    static String config(Random r) {
        StringBuilder b = new StringBuilder("{\n");
        List<String> keys = new ArrayList<>();
        for (int n = 1 + r.nextInt(4); n > 0; n--) keys.add(TOP[r.nextInt(TOP.length)]);
        for (int i = 0; i < keys.size(); i++) {
            b.append("  \"").append(keys.get(i)).append("\": ").append(json(r, 0));
            b.append(i + 1 < keys.size() ? ",\n" : "\n");
        }
        String text = b.append("}\n").toString();
        if (r.nextInt(8) == 0) text = text.substring(0, r.nextInt(text.length()));   // broken syntax
        return text;
    }

    @Property(tries = 250, seed = "8086", shrinking = ShrinkingMode.OFF)
    void randomJsonConfigsNeverCrashTheTool(@ForAll long seed, @ForAll("commands") String command) throws IOException {
        Random r = new Random(seed);
        String text = config(r);
        Path cfg = dir.resolve("c" + Long.toHexString(seed) + (r.nextInt(4) == 0 ? ".yaml" : ".json"));
        Files.writeString(cfg, text);
        try {
            Outcome o = command.equals("run")
                    ? hv("run", "-q", "--config", cfg.toString(), "--max-instructions", "200000", "--timeout", "2s")
                    : hv(command, "--config", cfg.toString());
            assertNoTrace(o, command + " --config with\n" + text);
        } finally {
            Files.deleteIfExists(cfg);
        }
    }

    @Provide
    Arbitrary<String> commands() {
        return Arbitraries.of("run", "check", "vmcs");
    }

    static final String[][] BAD_OPTIONS = {
            {"--memory", "0"}, {"--memory", "1K"}, {"--memory", "99999999999T"}, {"--memory", "-5"}, {"--memory", "abc"},
            {"--memory", "3G"}, {"--max-instructions", "-1"}, {"--max-instructions", "x"}, {"--timeout", "-2"},
            {"--timeout", "NaN"}, {"--timeout", "1e400"}, {"--flat-address", "0xFFFFFFFFFFFFFFFF"}, {"--flat-address", "zz"},
            {"--flat-address", "0x7fffffff"}, {"--initrd", "/nonexistent"}, {"--initrd", ",,,"}, {"--dump-state", "/nonexistent/dir/x"},
            {"--append", "\u0000"}, {"--bogus"}, {"--cpu", "nope"}, {"--config", "/nonexistent.json"}, {"--trace", "/nonexistent/dir/t"},
            {"--timeout", "5h"}, {"--timeout", "ms"}, {"--max-instructions", "99999999999999999999"},
    };

    @Property(tries = 150, seed = "6502", shrinking = ShrinkingMode.OFF)
    void badOptionsGiveOneLine(@ForAll("bootOrRun") String command, @ForAll long seed) throws IOException {
        Random r = new Random(seed);
        List<String> args = new ArrayList<>(List.of(command));
        for (int n = 1 + r.nextInt(2); n > 0; n--) args.addAll(List.of(BAD_OPTIONS[r.nextInt(BAD_OPTIONS.length)]));
        Path image = dir.resolve("i" + Long.toHexString(seed));
        byte[] bytes = new byte[r.nextInt(64)];
        r.nextBytes(bytes);
        Files.write(image, bytes);
        try {
            if (command.equals("boot") || r.nextBoolean()) args.add(r.nextInt(5) == 0 ? "/nonexistent/image" : image.toString());
            if (command.equals("boot") || command.equals("run")) args.addAll(List.of("--max-instructions", "100000"));
            Outcome o = hv(args.toArray(String[]::new));
            assertNoTrace(o, String.join(" ", args));
        } finally {
            Files.deleteIfExists(image);
        }
    }

    @Provide
    Arbitrary<String> bootOrRun() {
        return Arbitraries.of("boot", "run", "vmcs", "check", "caps");
    }
}
