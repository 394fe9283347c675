package lhv.cli;

import lhv.cpu.model.CpuModel;
import lhv.machine.Machine;
import lhv.machine.Outcome;
import lhv.machine.RunLimits;
import lhv.machine.RunResult;
import lhv.machine.StateDump;
import lhv.platform.devices.uart.HostConsoleInput;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.BootState;
import lhv.platform.loader.LoadException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hv boot IMAGE}: runs a guest image on the bare machine, with no Java hypervisor, the way
 * {@code qemu-system-x86_64 -kernel IMAGE} starts it. The guest's UART is the tool's standard
 * input/output; the run ends when the guest writes isa-debug-exit (exit status (v << 1) | 1), halts,
 * triple-faults, or a limit is reached; a one-line summary goes to standard error.
 *
 * <p>Context: Java host, the user's command line. Exit statuses: see {@link Outcome} and the README.
 */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot a Multiboot kernel, an ELF64 executable or a flat binary on the bare machine (like qemu -kernel).",
                "Exit status: the guest's isa-debug-exit status (v<<1)|1; 0 halted; 2 bad input; 4 triple fault;",
                "6 instruction limit; 8 timeout; 10 not implemented; 12 internal error."})
public final class BootCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IMAGE", description = "the kernel image")
    String image;

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "256M",
            description = "guest RAM: a number of MiB, or with a K/M/G suffix (default ${DEFAULT-VALUE})")
    String memory;

    @Option(names = "--append", paramLabel = "CMDLINE", defaultValue = "", description = "kernel command line (after the image path, as QEMU)")
    String append;

    @Option(names = "--initrd", paramLabel = "FILES",
            description = "Multiboot modules: FILE[ ARGS][,FILE[ ARGS]...] (a doubled comma is a literal comma)")
    String initrd;

    @Option(names = "--max-instructions", paramLabel = "N", description = "stop after N retired instructions")
    Long maxInstructions;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "stop after this much wall-clock time")
    Double timeout;

    @Option(names = "--dump-state", paramLabel = "FILE", description = "write the final processor state as JSON")
    Path dumpState;

    @Option(names = "--log-unhandled-io", description = "report accesses to ports no device claims (on standard error)")
    boolean logUnhandledIo;

    @Option(names = "--flat-address", paramLabel = "ADDR",
            description = "load IMAGE as a flat binary at this physical address and start it in 64-bit mode")
    String flatAddress;

    @Option(names = "--no-vmx", description = "use the processor model without VMX")
    boolean noVmx;

    @Override
    public Integer call() {
        long ram;
        OptionalLong flat = OptionalLong.empty();
        RunLimits limits;
        try {
            ram = parseSize(memory);
            if (flatAddress != null) flat = OptionalLong.of(parseAddress(flatAddress));
            if (maxInstructions != null && maxInstructions <= 0) throw new IllegalArgumentException("--max-instructions must be positive");
            if (timeout != null && !(timeout > 0 && timeout < 1e9)) throw new IllegalArgumentException("--timeout must be a positive number of seconds");
            limits = new RunLimits(maxInstructions == null ? 0 : maxInstructions,
                    timeout == null ? null : Duration.ofNanos((long) (timeout * 1e9)));
        } catch (IllegalArgumentException e) {
            return fail(e.getMessage());
        }

        // System.out, not the raw descriptor: whoever embeds the command (tests, tools) can redirect it.
        BufferedOutputStream console = new BufferedOutputStream(System.out, 1 << 12);
        Machine m;
        try {
            m = Machine.builder().memory(ram)
                    .cpuModel(noVmx ? CpuModel.withoutVmx() : CpuModel.withVmx()).vmx(!noVmx)
                    .console(console).input(new HostConsoleInput(System.in))
                    .logUnhandledIo(logUnhandledIo ? System.err : null)
                    .build();
        } catch (IllegalArgumentException e) {
            return fail("--memory: " + e.getMessage());
        }
        try (m) {
            BootState state;
            try {
                state = m.boot(new BootImage(Path.of(image), image, append, BootImage.splitModules(initrd), flat));
            } catch (LoadException e) {
                return fail(e.getMessage());
            } catch (java.nio.file.InvalidPathException e) {
                return fail(image + ": invalid path");
            }
            for (String w : state.warnings()) System.err.println("hv: warning: " + w);
            RunResult r;
            try {
                r = m.run(limits);
            } catch (RuntimeException | StackOverflowError e) {
                // An emulator defect, not a guest event: one line, the class and message.
                System.err.println("hv: internal error: " + e);
                return Outcome.INTERNAL_ERROR.status;
            }
            System.err.println(r.summary());
            if (dumpState != null) {
                try {
                    StateDump.write(m.cpu(), dumpState);
                } catch (IOException e) {
                    return fail("cannot write the state dump: " + e.getMessage());
                }
            }
            return r.exitStatus();
        }
    }

    private static int fail(String message) {
        System.err.println("hv: " + message);
        return Outcome.BAD_INPUT.status;
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(I?B)?", Pattern.CASE_INSENSITIVE);

    /** A size as QEMU's -m takes it: a bare number is MiB; K, M, G, T suffixes (optionally "iB"/"B"). */
    static long parseSize(String s) {
        Matcher mt = SIZE.matcher(s.trim());
        if (!mt.matches()) throw new IllegalArgumentException("--memory: cannot read size '" + s + "' (examples: 256, 512M, 2G)");
        long n;
        try {
            n = Long.parseLong(mt.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--memory: size '" + s + "' is too large");
        }
        int shift = switch (mt.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "G" -> 30;
            case "T" -> 40;
            default -> 20; // M, or no suffix
        };
        if (n > (Long.MAX_VALUE >> shift)) throw new IllegalArgumentException("--memory: size '" + s + "' is too large");
        return n << shift;
    }

    /** A physical address in hex (0x...) or decimal. */
    static long parseAddress(String s) {
        try {
            String t = s.trim().toLowerCase(Locale.ROOT);
            long v = t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
            if (v < 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--flat-address: cannot read address '" + s + "'");
        }
    }
}
