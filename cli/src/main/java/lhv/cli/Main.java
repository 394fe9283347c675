package lhv.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;

/**
 * Entry point of the {@code hv} tool: one picocli subcommand per way to use the product.
 *
 * <p>Context: Java host, the user's command line.
 */
public final class Main implements Runnable {

    /** The subcommands, in the order the usage lists them. */
    static final List<String> SUBCOMMANDS = List.of("help", "boot", "run", "caps", "check", "vmcs");

    /** The tool's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "hv",
            "Lightweight Hypervisor: an Intel VT-x hypervisor with its own x86-64 processor.").version("hv 0.1");

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine(args).execute(args));
    }

    /** The {@code hv} command line with every subcommand. */
    public static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * The {@code hv} command line for {@code args}: when the first argument names a subcommand,
     * only that subcommand's model is built (each costs start-up time, and {@code help} reads its
     * annotations by reflection: README, start-up time); otherwise (the top-level usage,
     * {@code help}, a misspelt name) all of them.
     *
     * <p>A bad option is one {@code hv: } line and status 2; anything a command lets escape is a
     * defect of the tool, reported as one {@code hv: internal error} line with status 12 (README),
     * never as a stack trace.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main().spec);
        String first = args.length > 0 ? args[0] : null;
        if (first != null && !first.equals("help") && SUBCOMMANDS.contains(first)) {
            cl.addSubcommand(first, subcommand(first));
        } else {
            for (String name : SUBCOMMANDS) cl.addSubcommand(name, subcommand(name));
        }
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

    private static Object subcommand(String name) {
        return switch (name) {
            case "help" -> new CommandLine.HelpCommand();
            case "boot" -> new BootCommand().spec;
            case "run" -> new RunCommand().spec;
            case "caps" -> new CapsCommand().spec;
            case "check" -> new CheckCommand().spec;
            case "vmcs" -> new VmcsCommand().spec;
            default -> throw new IllegalArgumentException("no subcommand " + name);
        };
    }
}
