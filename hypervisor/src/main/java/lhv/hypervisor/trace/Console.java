package lhv.hypervisor.trace;

import java.io.PrintStream;

/**
 * Where the hypervisor's own messages go, by verbosity: the seed's debug lines at the default level
 * (its printk(KERN_INFO ...) lines), one extra line per step and per exit with {@code -v}, nothing
 * but errors with {@code -q}. Guest output (UART, print hypercall) shares the same stream so the two
 * interleave in the order they happened.
 *
 * <p>Context: Java host.
 */
public final class Console {
    public enum Verbosity { QUIET, NORMAL, VERBOSE }

    private final PrintStream out, err;
    private final Verbosity verbosity;

    public Console(PrintStream out, PrintStream err, Verbosity verbosity) {
        this.out = out;
        this.err = err;
        this.verbosity = verbosity;
    }

    /** One of the seed's debug lines (default verbosity and above). */
    public void seed(String line) {
        if (verbosity != Verbosity.QUIET) {
            out.println(line);
            out.flush();
        }
    }

    /** Something the user should see at the default verbosity (not in -q). */
    public void info(String line) {
        seed(line);
    }

    /** A step or exit detail, only with -v. */
    public void step(String line) {
        if (verbosity == Verbosity.VERBOSE) {
            out.println("  " + line);
            out.flush();
        }
    }

    public boolean verbose() {
        return verbosity == Verbosity.VERBOSE;
    }

    public boolean quiet() {
        return verbosity == Verbosity.QUIET;
    }

    /** An error: always shown, on the error stream. */
    public void error(String line) {
        out.flush();
        err.println(line);
        err.flush();
    }

    /** The stream guest output goes to. */
    public PrintStream guestOutput() {
        return out;
    }
}
