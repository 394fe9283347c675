package lhv.platform.devices.pit;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Pit8254Test {
    long nanos;
    final PortBus bus = new PortBus();
    final Pit8254 pit = new Pit8254(() -> nanos);
    final NmiStatusControl portB = new NmiStatusControl(pit, () -> nanos);

    Pit8254Test() {
        pit.attach(bus);
        portB.attach(bus);
    }

    /** Nanoseconds for {@code ticks} input clocks, rounded up so that exactly that many have elapsed. */
    static long ns(long ticks) {
        return (ticks * 1_000_000_000L + Pit8254.FREQUENCY_HZ - 1) / Pit8254.FREQUENCY_HZ;
    }

    int latchAndRead(int channel) {
        bus.out(0x43, 1, channel << 6); // counter latch
        return bus.in(0x40 + channel, 1) | (bus.in(0x40 + channel, 1) << 8);
    }

    @Test
    void mode2CountsDownFromTheWrittenCountAndReloads() {
        bus.out(0x43, 1, 0x34); // channel 0, lo/hi, mode 2
        bus.out(0x40, 1, 0x9C);
        bus.out(0x40, 1, 0x2E); // 11932: 100 Hz
        assertEquals(2, pit.mode(0));
        assertEquals(11932, pit.reload(0));
        assertEquals(11932, latchAndRead(0));
        nanos = ns(1000);
        assertEquals(10932, latchAndRead(0));
        nanos = ns(11932 + 5);
        assertEquals(11927, latchAndRead(0));
    }

    @Test
    void latchFreezesTheValueUntilRead() {
        bus.out(0x43, 1, 0x30); // channel 0, lo/hi, mode 0
        bus.out(0x40, 1, 0x00);
        bus.out(0x40, 1, 0x10); // 0x1000
        nanos = ns(0x100);
        bus.out(0x43, 1, 0x00);
        nanos = ns(0x800);
        assertEquals(0x00, bus.in(0x40, 1));
        assertEquals(0x0F, bus.in(0x40, 1));
        assertEquals(0x1000 - 0x800, latchAndRead(0));
    }

    @Test
    void mode0OutputRisesAtTerminalCount() {
        bus.out(0x43, 1, 0xB0); // channel 2, lo/hi, mode 0
        bus.out(0x61, 1, 0x01); // gate channel 2 on
        bus.out(0x42, 1, 100);
        bus.out(0x42, 1, 0);
        assertEquals(0, bus.in(0x61, 1) & NmiStatusControl.TIMER2_OUT);
        nanos = ns(100);
        assertEquals(NmiStatusControl.TIMER2_OUT, bus.in(0x61, 1) & NmiStatusControl.TIMER2_OUT);
    }

    @Test
    void readBackReportsStatusAndCount() {
        bus.out(0x43, 1, 0x76); // channel 1, lo/hi, mode 3
        bus.out(0x41, 1, 0x00);
        assertEquals(0x80 | 0x40 | 0x30 | (3 << 1), readBackStatus(1), "OUT high after a mode 3 control word; null count until both bytes written");
        bus.out(0x41, 1, 0x01); // 0x100
        int status = readBackStatus(1);
        assertEquals(0x80 | 0x30 | (3 << 1), status, "OUT high in first half of mode 3, count loaded");
        bus.out(0x43, 1, 0xC4 | 0x10); // read back count only, channel 1
        assertEquals(0x100, bus.in(0x41, 1) | bus.in(0x41, 1) << 8);
    }

    int readBackStatus(int channel) {
        bus.out(0x43, 1, 0xE0 | (2 << channel)); // latch status only
        return bus.in(0x40 + channel, 1);
    }

    @Test
    void lsbOnlyAndMsbOnlyAccessModes() {
        bus.out(0x43, 1, 0x10); // channel 0, LSB only, mode 0
        bus.out(0x40, 1, 0x50);
        assertEquals(0x50, pit.reload(0));
        assertEquals(0x50, bus.in(0x40, 1));
        bus.out(0x43, 1, 0x20); // MSB only
        bus.out(0x40, 1, 0x12);
        assertEquals(0x1200, pit.reload(0));
        assertEquals(0x12, bus.in(0x40, 1));
    }

    @Test
    void gateLowHoldsChannelTwo() {
        bus.out(0x43, 1, 0xB4); // channel 2 mode 2
        bus.out(0x42, 1, 0x00);
        bus.out(0x42, 1, 0x10);
        // gate is low after reset: the count does not move
        nanos = ns(0x200);
        assertEquals(0x1000, latchAndRead(2));
        bus.out(0x61, 1, 0x01); // rising edge restarts mode 2
        nanos = ns(0x300);
        assertEquals(0x1000 - 0x100, latchAndRead(2));
    }

    @Test
    void portBKeepsControlBitsAndTogglesRefresh() {
        bus.out(0x61, 1, 0xFF);
        assertEquals(0x0F, bus.in(0x61, 1) & 0x0F);
        nanos = 0;
        int a = bus.in(0x61, 1) & NmiStatusControl.REFRESH_TOGGLE;
        nanos = 15_085;
        int b = bus.in(0x61, 1) & NmiStatusControl.REFRESH_TOGGLE;
        assertNotEquals(a, b);
        assertTrue(pit.gate(2));
    }
}
