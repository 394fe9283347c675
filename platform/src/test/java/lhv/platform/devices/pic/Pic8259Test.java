package lhv.platform.devices.pic;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class Pic8259Test {
    final PortBus bus = new PortBus();
    final Pic8259 master = new Pic8259(0x20), slave = new Pic8259(0xA0);

    Pic8259Test() {
        master.attach(bus);
        slave.attach(bus);
    }

    @Test
    void linuxStyleInitialisationThenMask() {
        // The classic remap: ICW1 (edge, cascade, ICW4), ICW2 vector base, ICW3 wiring, ICW4 8086 mode.
        bus.out(0x20, 1, 0x11); bus.out(0xA0, 1, 0x11);
        assertTrue(master.initializing());
        bus.out(0x21, 1, 0x20); bus.out(0xA1, 1, 0x28);
        bus.out(0x21, 1, 0x04); bus.out(0xA1, 1, 0x02);
        bus.out(0x21, 1, 0x01); bus.out(0xA1, 1, 0x01);
        assertFalse(master.initializing());
        assertEquals(0x20, master.vectorBase());
        assertEquals(0x28, slave.vectorBase());
        assertEquals(0x04, master.icw3());
        assertEquals(0x02, slave.icw3());
        assertEquals(0x01, master.icw4());
        bus.out(0x21, 1, 0xFB); bus.out(0xA1, 1, 0xFF);
        assertEquals(0xFB, bus.in(0x21, 1));
        assertEquals(0xFF, bus.in(0xA1, 1));
    }

    @Test
    void icw1ClearsTheMaskAndSingleModeSkipsIcw3() {
        bus.out(0x21, 1, 0xFF);
        bus.out(0x20, 1, 0x13); // single, ICW4 needed
        assertEquals(0, bus.in(0x21, 1));
        bus.out(0x21, 1, 0x08); // ICW2
        bus.out(0x21, 1, 0x03); // ICW4 (not ICW3)
        assertFalse(master.initializing());
        assertEquals(0x03, master.icw4());
        bus.out(0x21, 1, 0xAA); // OCW1
        assertEquals(0xAA, master.mask());
    }

    @Test
    void ocw3SelectsIrrOrIsrAndOcw2IsAccepted() {
        bus.out(0x20, 1, 0x0B); // OCW3: read ISR
        assertEquals(0, bus.in(0x20, 1));
        bus.out(0x20, 1, 0x0A); // OCW3: read IRR
        assertEquals(0, bus.in(0x20, 1));
        bus.out(0x20, 1, 0x20); // non-specific EOI
        assertEquals(0x20, master.lastOcw2());
    }
}
