package lhv.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code hv} tool: one picocli subcommand per way to use the product.
 *
 * <p>Context: Java host, the user's command line.
 */
@Command(name = "hv", mixinStandardHelpOptions = true, version = "hv 0.1",
        description = "Lightweight Hypervisor: an Intel VT-x hypervisor with its own x86-64 processor.",
        subcommands = {CommandLine.HelpCommand.class, BootCommand.class, RunCommand.class, CapsCommand.class, CheckCommand.class, VmcsCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The {@code hv} command line: a bad option is one {@code hv: } line and status 2; anything a
     * command lets escape is a defect of the tool, reported as one {@code hv: internal error} line
     * with status 12 (README), never as a stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("hv: " + ex.getMessage());
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            System.err.println("hv: internal error: " + ex);
            return 12;
        });
        return cl;
    }
}
