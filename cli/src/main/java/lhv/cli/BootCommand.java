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
import picocli.CommandLine.Model.CommandSpec;

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
public final class BootCommand implements Callable<Integer> {
    /** The command's model (options, usage), built in code: see {@link CommandModel}. */
    final CommandSpec spec = CommandModel.command(this, "boot",
            "Boot a Multiboot kernel, an ELF64 executable or a flat binary on the bare machine (like qemu -kernel).",
            "Exit status: the guest's isa-debug-exit status (v<<1)|1; 0 halted; 2 bad input; 4 triple fault;",
            "6 instruction limit; 8 timeout; 10 not implemented; 12 internal error.");

    {
        spec.addPositional(CommandModel.positional(0, "1", "IMAGE", String.class, "the kernel image"));
        spec.addOption(CommandModel.option("SIZE", String.class,
                "guest RAM: a number of MiB, or with a K/M/G suffix (default ${DEFAULT-VALUE})", "--memory").defaultValue("256M").build());
        spec.addOption(CommandModel.option("CMDLINE", String.class, "kernel command line (after the image path, as QEMU)", "--append")
                .defaultValue("").build());
        spec.addOption(CommandModel.option("FILES", String.class,
                "Multiboot modules: FILE[ ARGS][,FILE[ ARGS]...] (a doubled comma is a literal comma)", "--initrd").build());
        spec.addOption(CommandModel.option("N", Long.class, "stop after N retired instructions", "--max-instructions").build());
        spec.addOption(CommandModel.option("SECONDS", Double.class, "stop after this much wall-clock time", "--timeout").build());
        spec.addOption(CommandModel.option("FILE", Path.class, "write the final processor state as JSON", "--dump-state").build());
        spec.addOption(CommandModel.flag("report accesses to ports no device claims (on standard error)", "--log-unhandled-io"));
        spec.addOption(CommandModel.option("ADDR", String.class,
                "load IMAGE as a flat binary at this physical address and start it in 64-bit mode", "--flat-address").build());
        spec.addOption(CommandModel.flag("use the processor model without VMX", "--no-vmx"));
    }

    String image;
    String memory;
    String append;
    String initrd;
    Long maxInstructions;
    Double timeout;
    Path dumpState;
    boolean logUnhandledIo;
    String flatAddress;
    boolean noVmx;

    /** Takes the parsed values out of the model. */
    private void read() {
        image = CommandModel.positionalValue(spec, 0);
        memory = CommandModel.value(spec, "--memory");
        append = CommandModel.value(spec, "--append");
        initrd = CommandModel.value(spec, "--initrd");
        maxInstructions = CommandModel.value(spec, "--max-instructions");
        timeout = CommandModel.value(spec, "--timeout");
        dumpState = CommandModel.value(spec, "--dump-state");
        logUnhandledIo = CommandModel.given(spec, "--log-unhandled-io");
        flatAddress = CommandModel.value(spec, "--flat-address");
        noVmx = CommandModel.given(spec, "--no-vmx");
    }

    @Override
    public Integer call() {
        read();
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
