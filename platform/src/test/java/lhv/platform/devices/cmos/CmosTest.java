package lhv.platform.devices.cmos;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CmosTest {
    long nanos;
    final PortBus bus = new PortBus();
    final Cmos cmos = new Cmos(256L << 20, 1, () -> nanos);

    CmosTest() {
        cmos.attach(bus);
    }

    int reg(int index) {
        bus.out(0x70, 1, index);
        return bus.in(0x71, 1);
    }

    void set(int index, int value) {
        bus.out(0x70, 1, index);
        bus.out(0x71, 1, value);
    }

    @Test
    void clockStartsAtTheEpochInBcd() {
        assertEquals(0x00, reg(0x00));
        assertEquals(0x00, reg(0x02));
        assertEquals(0x00, reg(0x04));
        assertEquals(0x01, reg(0x07));
        assertEquals(0x01, reg(0x08));
        assertEquals(0x25, reg(0x09));
        assertEquals(0x20, reg(0x32));
        assertEquals(0x04, reg(0x06), "2025-01-01 was a Wednesday: day 4 counting Sunday as 1");
    }

    @Test
    void clockAdvancesWithGuestTime() {
        nanos = (13 * 3600 + 59 * 60 + 7) * 1_000_000_000L;
        assertEquals(0x07, reg(0x00));
        assertEquals(0x59, reg(0x02));
        assertEquals(0x13, reg(0x04));
    }

    @Test
    void binaryAndTwelveHourFormats() {
        nanos = (13 * 3600 + 45 * 60) * 1_000_000_000L;
        set(0x0B, Cmos.B_BINARY); // binary, 12-hour
        assertEquals(45, reg(0x02));
        assertEquals(0x80 | 1, reg(0x04), "1 PM");
        set(0x0B, Cmos.B_BINARY | Cmos.B_24HOUR);
        assertEquals(13, reg(0x04));
    }

    @Test
    void writingTimeRegistersMovesTheClock() {
        set(0x09, 0x99);
        set(0x08, 0x12);
        set(0x07, 0x31);
        set(0x04, 0x23);
        assertEquals(0x99, reg(0x09));
        assertEquals(0x12, reg(0x08));
        assertEquals(0x31, reg(0x07));
        assertEquals(0x23, reg(0x04));
        nanos = 3600L * 1_000_000_000L;
        assertEquals(0x00, reg(0x04));
        assertEquals(0x01, reg(0x07));
        assertEquals(0x00, reg(0x09), "rolled over into 2100");
        assertEquals(0x21, reg(0x32));
    }

    @Test
    void statusRegisters() {
        assertEquals(0x26, reg(0x0A));
        assertEquals(0x02, reg(0x0B));
        assertEquals(0x00, reg(0x0C));
        assertEquals(0x80, reg(0x0D));
        set(0x0D, 0);
        assertEquals(0x80, reg(0x0D), "D is read-only");
        set(0x0A, 0xA6);
        assertEquals(0x26, reg(0x0A), "UIP is read-only");
    }

    @Test
    void memorySizeBytesMatchRam() {
        assertEquals(640, reg(0x15) | reg(0x16) << 8);
        assertEquals(65535, reg(0x17) | reg(0x18) << 8, "255 MiB above 1 MiB caps at 65535 KiB");
        assertEquals(65535, reg(0x30) | reg(0x31) << 8);
        assertEquals((256 - 16) * 16, reg(0x34) | reg(0x35) << 8, "64 KiB units above 16 MiB");
        assertEquals(0, reg(0x5F), "one CPU");
        Cmos small = new Cmos(32L << 20, 2, () -> 0);
        assertEquals(31 * 1024, small.read(0x17) | small.read(0x18) << 8);
        assertEquals(16 * 16, small.read(0x34) | small.read(0x35) << 8);
        assertEquals(1, small.read(0x5F));
    }

    @Test
    void indexBitSevenDisablesNmiAndRamIsReadWrite() {
        bus.out(0x70, 1, 0x80 | 0x40);
        assertTrue(cmos.nmiDisabled());
        bus.out(0x71, 1, 0x5A);
        bus.out(0x70, 1, 0x40);
        assertFalse(cmos.nmiDisabled());
        assertEquals(0x5A, bus.in(0x71, 1));
        assertEquals(0xFF, bus.in(0x70, 1));
    }
}
