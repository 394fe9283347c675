package lhv.platform.devices.pit;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

import java.util.function.LongSupplier;

/**
 * Port 0x61, the PC's "port B" (Intel PCH datasheets: NMI Status and Control register): timer 2 gate
 * and speaker enable (bits 0-1, read/write), parity/channel-check enables (bits 2-3, stored), the
 * memory-refresh toggle (bit 4, flips every 15.085 us of guest time), timer 2 OUT (bit 5), and the
 * IOCHK/SERR NMI sources (bits 6-7, never set here).
 *
 * <p>Context: guest execution. Linux and firmware calibrate delay loops by gating PIT channel 2 here
 * and polling bit 5.
 */
public final class NmiStatusControl implements PortDevice {
    public static final int PORT = 0x61;
    public static final int TIMER2_GATE = 1, SPEAKER_DATA = 2, REFRESH_TOGGLE = 0x10, TIMER2_OUT = 0x20;
    private static final long REFRESH_PERIOD_NS = 15_085;

    private final Pit8254 pit;
    private final LongSupplier nanos;
    private int control; // bits 3:0

    public NmiStatusControl(Pit8254 pit, LongSupplier nanos) {
        this.pit = pit;
        this.nanos = nanos;
    }

    public void attach(PortBus bus) {
        bus.register(PORT, 1, PortBus.BYTE, this);
    }

    @Override
    public int in(int port, int size) {
        int v = control;
        if (((nanos.getAsLong() / REFRESH_PERIOD_NS) & 1) != 0) v |= REFRESH_TOGGLE;
        if (pit.output(2)) v |= TIMER2_OUT;
        return v;
    }

    @Override
    public void out(int port, int size, int value) {
        control = value & 0x0F;
        pit.setGate(2, (value & TIMER2_GATE) != 0);
    }
}
