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
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            System.err.println("hv: " + ex.getMessage());
            return 2;
        });
        System.exit(cl.execute(args));
    }
}
