package lhv.platform.devices.debugexit;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

/**
 * QEMU's isa-debug-exit device ({@code -device isa-debug-exit,iobase=0xf4,iosize=0x04}): a guest
 * write of value v ends the run with host exit status {@code (v << 1) | 1}, so a test kernel reports
 * its result as an exit status that can never be 0 (QEMU's own success code).
 *
 * <p>Context: guest execution. The write asks the processor to stop at the next instruction
 * boundary (through the {@code stop} action the machine gives); the run loop then reads
 * {@link #exitStatus()}.
 */
public final class DebugExit implements PortDevice {
    public static final int DEFAULT_BASE = 0xF4, DEFAULT_SIZE = 4;

    private final int base, size;
    private final Runnable stop;
    private boolean exited;
    private int value;

    public DebugExit(int base, int size, Runnable stop) {
        this.base = base;
        this.size = size;
        this.stop = stop;
    }

    public void attach(PortBus bus) {
        bus.register(base, size, PortBus.ANY, this);
    }

    /** Reads return 0 (QEMU's device has no readable state). */
    @Override
    public int in(int port, int accessSize) {
        return 0;
    }

    /** Any write inside the window exits with the written value, whatever the offset (as QEMU). */
    @Override
    public void out(int port, int accessSize, int v) {
        if (exited) return; // the first write wins, as QEMU exits at once
        exited = true;
        value = v;
        stop.run();
    }

    public boolean exited() {
        return exited;
    }

    /** The value the guest wrote (zero-extended from the access size). */
    public int value() {
        return value;
    }

    /** The host exit status QEMU would give: {@code (value << 1) | 1}. */
    public int exitStatus() {
        return (value << 1) | 1;
    }

    public int base() {
        return base;
    }
}
