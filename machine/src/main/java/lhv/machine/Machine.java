package lhv.machine;

import lhv.cpu.Cpu;
import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import lhv.cpu.model.CpuModel;
import lhv.platform.devices.cmos.Cmos;
import lhv.platform.devices.debugexit.DebugExit;
import lhv.platform.devices.fwcfg.FwCfg;
import lhv.platform.devices.pic.Pic8259;
import lhv.platform.devices.pit.NmiStatusControl;
import lhv.platform.devices.pit.Pit8254;
import lhv.platform.devices.post.PostCodePort;
import lhv.platform.devices.uart.ConsoleInput;
import lhv.platform.devices.uart.Uart16550;
import lhv.platform.io.PortBus;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.BootState;
import lhv.platform.loader.LoadException;
import lhv.platform.memory.GuestMemory;
import lhv.vmx.Vmx;
import lhv.vmx.caps.VmxCapabilities;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.function.LongSupplier;

/**
 * A PC-like machine: one processor, guest RAM and the board's legacy devices, wired together; and
 * the run loop of {@code hv boot}.
 *
 * <p>Context: Java host. Build with {@link #builder()}, load an image with {@link #boot}, run with
 * {@link #run}, then {@link #close} to return guest RAM to the host. Also the base on which the
 * hosted hypervisor builds its VM (it uses {@link #cpu()}, {@link #memory()}, {@link #ports()}).
 *
 * <p>The board (ports): 16550A UART at 0x3F8, isa-debug-exit at 0xF4 (4 ports), fw_cfg at
 * 0x510/0x511, 8259 PICs at 0x20/0xA0, 8254 PIT at 0x40-0x43, port 0x61, CMOS/RTC at 0x70/0x71,
 * POST port 0x80. Guest time for the PIT, port 0x61 and the RTC is virtual: one nanosecond per
 * retired instruction (a nominal 1 GHz processor), so runs are reproducible.
 */
public final class Machine implements AutoCloseable {
    /** Instructions per slice of {@link #run}: limits and the wall clock are checked between slices. */
    static final long SLICE = 1L << 20;

    private final GuestMemory memory;
    private final Cpu cpu;
    private final PortBus ports = new PortBus();
    private final Uart16550 uart;
    private final DebugExit debugExit;
    private final FwCfg fwCfg;
    private final Pic8259 masterPic, slavePic;
    private final Pit8254 pit;
    private final NmiStatusControl portB;
    private final Cmos cmos;
    private final PostCodePort post;
    private final Vmx vmx;
    private BootState bootState;

    private Machine(Builder b) {
        this.memory = new GuestMemory(b.memory);
        try {
            this.cpu = new Cpu(b.model, memory);
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
        cpu.io = ports;
        LongSupplier guestNanos = () -> cpu.instructionsRetired;

        uart = new Uart16550(Uart16550.COM1, b.console, b.input);
        uart.attach(ports);
        debugExit = new DebugExit(DebugExit.DEFAULT_BASE, DebugExit.DEFAULT_SIZE, () -> cpu.requestStop(StopReason.REQUESTED));
        debugExit.attach(ports);
        fwCfg = new FwCfg(b.memory, 1);
        fwCfg.attach(ports);
        masterPic = new Pic8259(Pic8259.MASTER_BASE);
        masterPic.attach(ports);
        slavePic = new Pic8259(Pic8259.SLAVE_BASE);
        slavePic.attach(ports);
        pit = new Pit8254(guestNanos);
        pit.attach(ports);
        portB = new NmiStatusControl(pit, guestNanos);
        portB.attach(ports);
        cmos = new Cmos(b.memory, 1, guestNanos);
        cmos.attach(ports);
        post = new PostCodePort();
        post.attach(ports);
        ports.logUnhandled(b.unhandledIoLog);

        // VMX is a feature of the processor model (CPUID.1:ECX.VMX): attach it only when the model has it.
        VmxCapabilities caps = b.vmx ? VmxCapabilities.forModel(b.model) : null;
        this.vmx = caps == null ? null : Vmx.attach(cpu, caps);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configuration of a {@link Machine}; defaults: 256 MiB, the VMX-capable model, console on System.out/System.in. */
    public static final class Builder {
        private long memory = GuestMemory.DEFAULT_SIZE;
        private CpuModel model = CpuModel.withVmx();
        private boolean vmx = true;
        private OutputStream console = System.out;
        private ConsoleInput input = ConsoleInput.NONE;
        private PrintStream unhandledIoLog;

        public Builder memory(long bytes) { this.memory = bytes; return this; }
        public Builder cpuModel(CpuModel m) { this.model = m; return this; }
        /** Attach VMX to the processor (only when the model has it). */
        public Builder vmx(boolean on) { this.vmx = on; return this; }
        /** Where the UART transmits. */
        public Builder console(OutputStream out) { this.console = out; return this; }
        /** Where the UART receives from. */
        public Builder input(ConsoleInput in) { this.input = in; return this; }
        /** Report accesses to unclaimed ports there (null: silent). */
        public Builder logUnhandledIo(PrintStream log) { this.unhandledIoLog = log; return this; }

        /** Builds the machine; throws IllegalArgumentException for an unusable memory size. */
        public Machine build() { return new Machine(this); }
    }

    public Cpu cpu() { return cpu; }
    public GuestMemory memory() { return memory; }
    public PortBus ports() { return ports; }
    public Uart16550 uart() { return uart; }
    public DebugExit debugExit() { return debugExit; }
    public FwCfg fwCfg() { return fwCfg; }
    public Pic8259 masterPic() { return masterPic; }
    public Pic8259 slavePic() { return slavePic; }
    public Pit8254 pit() { return pit; }
    public Cmos cmos() { return cmos; }
    public PostCodePort post() { return post; }
    /** True when VMX was requested and the model has it. */
    public boolean vmxEnabled() { return vmx != null; }
    /** The processor's VMX unit (for the hosted hypervisor's Java API), or null without VMX. */
    public Vmx vmx() { return vmx; }

    /**
     * Loads {@code image} and puts the processor at its entry point. On a LoadException nothing was
     * written and the processor is untouched.
     */
    public BootState boot(BootImage image) throws LoadException {
        BootState s = image.load(memory);
        s.applyTo(cpu);
        bootState = s;
        return s;
    }

    /** The state given by the last {@link #boot}, or null. */
    public BootState bootState() {
        return bootState;
    }

    /**
     * Runs the processor until the guest ends the run or a limit is reached. The processor runs in
     * slices of {@link #SLICE} instructions; between slices the UART takes host input and the
     * wall clock is compared with the timeout.
     */
    public RunResult run(RunLimits limits) {
        long startInstructions = cpu.instructionsRetired;
        long t0 = System.nanoTime();
        long deadline = limits.timeout() == null ? Long.MAX_VALUE : t0 + limits.timeout().toNanos();
        // Budget spent: retired instructions, or the whole slice when the processor used it up
        // (a fault storm consumes budget without retiring anything; see Interpreter.loop).
        long spent = 0;
        try {
            for (;;) {
                long slice = SLICE;
                if (limits.maxInstructions() > 0) {
                    long left = limits.maxInstructions() - spent;
                    if (left <= 0) return end(Outcome.INSTRUCTION_LIMIT, "", startInstructions, t0);
                    slice = Math.min(slice, left);
                }
                long before = cpu.instructionsRetired;
                StopReason r;
                try {
                    r = cpu.run(slice);
                } catch (RuntimeException | StackOverflowError e) {
                    // The last line of defence: an emulator defect ends the run with a report
                    // (RIP is the instruction that was executing), never a trace.
                    return end(Outcome.INTERNAL_ERROR, e + " at rip " + String.format("%#x", cpu.rip), startInstructions, t0);
                }
                spent += r == StopReason.INSTRUCTION_LIMIT ? slice : cpu.instructionsRetired - before;
                // The debug-exit write ends the run whatever else the slice ended with (it may have
                // been the last instruction of the budget).
                if (debugExit.exited()) {
                    cpu.stopRequest = null;
                    return end(Outcome.DEBUG_EXIT, String.format("value %#x", debugExit.value()), startInstructions, t0);
                }
                switch (r) {
                    case INSTRUCTION_LIMIT, REQUESTED -> { }
                    case HALTED -> {
                        boolean interruptsOn = (cpu.getRflags() & Rflags.IF) != 0;
                        return end(Outcome.HALTED, interruptsOn
                                ? "HLT with interrupts enabled, but nothing on this board raises interrupts yet"
                                : "HLT with interrupts disabled", startInstructions, t0);
                    }
                    case SHUTDOWN -> { return end(Outcome.SHUTDOWN, "", startInstructions, t0); }
                    case NOT_IMPLEMENTED -> {
                        String m = cpu.notImplementedMessage == null ? "" : cpu.notImplementedMessage;
                        return end(Outcome.NOT_IMPLEMENTED, m, startInstructions, t0);
                    }
                    case VM_EXIT -> {
                        return end(Outcome.INTERNAL_ERROR, "VM exit to a Java hypervisor in a bare-metal run", startInstructions, t0);
                    }
                }
                uart.pollInput();
                uart.flush(); // a prompt without a newline shows up while the guest waits
                if (System.nanoTime() >= deadline) return end(Outcome.TIMEOUT, "", startInstructions, t0);
            }
        } finally {
            uart.flush();
        }
    }

    private RunResult end(Outcome o, String detail, long startInstructions, long t0) {
        long ns = System.nanoTime() - t0;
        int status = o == Outcome.DEBUG_EXIT ? debugExit.exitStatus() : o.status;
        return new RunResult(o, status, cpu.instructionsRetired - startInstructions, ns, detail);
    }

    /** Returns guest RAM to the host; the machine must not run afterwards. */
    @Override
    public void close() {
        memory.close();
    }
}
