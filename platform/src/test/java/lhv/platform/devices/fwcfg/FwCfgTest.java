package lhv.platform.devices.fwcfg;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class FwCfgTest {
    final PortBus bus = new PortBus();

    FwCfgTest() {
        new FwCfg(256L << 20, 1).attach(bus);
    }

    long readItem(int key, int bytes) {
        bus.out(0x510, 2, key);
        long v = 0;
        for (int i = 0; i < bytes; i++) v |= (long) bus.in(0x511, 1) << (8 * i);
        return v;
    }

    @Test
    void signatureIsQemu() {
        bus.out(0x510, 2, 0);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 4; i++) s.append((char) bus.in(0x511, 1));
        assertEquals("QEMU", s.toString());
        assertEquals(0, bus.in(0x511, 1), "past the end reads zero");
    }

    @Test
    void idAdvertisesTheTraditionalInterfaceOnly() {
        assertEquals(1, readItem(0x01, 4));
    }

    @Test
    void ramSizeAndCpuCount() {
        assertEquals(256L << 20, readItem(0x03, 8));
        assertEquals(1, readItem(0x05, 2));
        assertEquals(1, readItem(0x0F, 2));
    }

    @Test
    void unknownKeysAndArchLocalReadZero() {
        assertEquals(0, readItem(0x07, 4));
        assertEquals(0, readItem(0x1234, 4));
        assertEquals(0, readItem(0x8000, 4));
    }

    @Test
    void decodedAsQemuDecodesItsCombinedWindow() {
        bus.out(0x510, 2, 0x05);
        assertEquals(1, bus.in(0x510, 1), "byte reads at 0x510 also stream data");
        bus.out(0x510, 2, 0x00);
        bus.out(0x510, 1, 0x03); // a byte write is a data write: the selection stays
        assertEquals('Q', bus.in(0x511, 1));
        assertEquals(0xFFFF, bus.in(0x510, 2), "16-bit reads are invalid");
        assertEquals('E', bus.in(0x511, 1), "and do not advance the item");
    }

    @Test
    void selectingRewindsAndDataWritesAreIgnored() {
        bus.out(0x510, 2, 0);
        bus.in(0x511, 1);
        bus.out(0x511, 1, 0x55);
        bus.out(0x510, 2, 0);
        assertEquals('Q', bus.in(0x511, 1));
    }
}
