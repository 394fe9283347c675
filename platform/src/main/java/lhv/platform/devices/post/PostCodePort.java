package lhv.platform.devices.post;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

/**
 * Port 0x80, the POST diagnostic port: firmware and kernels write progress codes to it, and Linux
 * writes to it as an I/O delay. We keep the last code for diagnostics; reads return 0xFF as on QEMU.
 *
 * <p>Context: guest execution.
 */
public final class PostCodePort implements PortDevice {
    public static final int PORT = 0x80;

    private int lastCode = -1;
    private long writes;

    public void attach(PortBus bus) {
        bus.register(PORT, 1, PortBus.ANY, this);
    }

    @Override
    public int in(int port, int size) {
        return -1;
    }

    @Override
    public void out(int port, int size, int value) {
        lastCode = value & 0xFF;
        writes++;
    }

    /** The last code written, or -1 if none. */
    public int lastCode() {
        return lastCode;
    }

    public long writes() {
        return writes;
    }
}
