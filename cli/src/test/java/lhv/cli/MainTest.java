package lhv.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code hv} command line built for the arguments ({@link Main#commandLine(String...)}): only
 * the subcommand the first argument names is built, and whatever the user sees — usage, version,
 * errors, exit statuses — is the same as with every subcommand built.
 *
 * <p>Context: unit tests only; runs the command line in-process with standard output and error captured.
 */
class MainTest {
    record Outcome(int status, String out, String err) { }

    /**
     * Runs {@code hv args} with standard output and error captured, on the command line built for
     * the arguments ({@code lazy}) or on the one with every subcommand. picocli takes its writers
     * from System.out and System.err when the command line is built, so it is built here.
     */
    static synchronized Outcome execute(boolean lazy, String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = (lazy ? Main.commandLine(args) : Main.commandLine()).execute(args);
            return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    @Test
    void aNamedSubcommandIsTheOnlyOneBuilt() {
        for (String name : List.of("boot", "run", "caps", "check", "vmcs")) {
            assertEquals(Set.of(name), Main.commandLine(name, "--help").getSubcommands().keySet(), name);
        }
    }

    @Test
    void everySubcommandIsBuiltForTheTopLevelHelpAndMisspeltNames() {
        for (String[] args : new String[][] {{}, {"--help"}, {"-V"}, {"help", "run"}, {"rn"}, {"--", "run"}}) {
            assertEquals(Main.SUBCOMMANDS, List.copyOf(Main.commandLine(args).getSubcommands().keySet()), String.join(" ", args));
        }
    }

    @Test
    void aSubcommandBuiltAloneReadsAsWhenAllAreBuilt() {
        CommandLine all = Main.commandLine();
        for (String name : List.of("boot", "run", "caps", "check", "vmcs")) {
            assertEquals(all.getSubcommands().get(name).getUsageMessage(),
                    Main.commandLine(name).getSubcommands().get(name).getUsageMessage(), name);
        }
    }

    @Test
    void outputAndStatusAreThoseOfTheFullCommandLine() {
        String[][] cases = {
            {"run", "--help"}, {"run", "--bogus"}, {"run", "--max-instructions", "x"}, {"run", "a", "b"},
            {"boot"}, {"boot", "--memory"}, {"caps", "--cpu", "nonesuch"}, {"check", "--config"},
            {"vmcs", "--at-exit", "-1"}, {"--version"}, {"help", "boot"}, {"rn"}, {},
        };
        for (String[] args : cases) {
            Outcome lazy = execute(true, args), full = execute(false, args);
            String what = "hv " + String.join(" ", args);
            assertEquals(full, lazy, what);
            assertTrue(!lazy.out().isEmpty() || !lazy.err().isEmpty(), what + ": no output");
        }
    }

    @Test
    void theTopLevelUsageListsTheSubcommandsInOrder() {
        Outcome o = execute(true, "--help");
        assertEquals(0, o.status());
        int at = -1;
        for (String name : Main.SUBCOMMANDS) {
            int i = o.out().indexOf("\n  " + name + " ");
            assertTrue(i > at, () -> name + " missing or out of order in:\n" + o.out());
            at = i;
        }
    }
}
