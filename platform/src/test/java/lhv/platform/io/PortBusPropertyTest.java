package lhv.platform.io;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PortBusPropertyTest {

    /** Eight byte-wide read/write registers, like an 8250's. */
    static final class ByteRegisters implements PortDevice {
        final int base;
        final int[] regs = new int[8];
        ByteRegisters(int base) { this.base = base; }
        @Override public int in(int port, int size) { assertEquals(1, size); return regs[port - base]; }
        @Override public void out(int port, int size, int value) { assertEquals(1, size); regs[port - base] = value & 0xFF; }
    }

    @Property(tries = 300)
    void wideAccessesToByteRegistersAreSplitLittleEndian(@ForAll @IntRange(min = 0, max = 4) int offset,
                                                         @ForAll @IntRange(min = 1, max = 2) int sizeLog,
                                                         @ForAll int value) {
        int size = 1 << sizeLog;
        if (offset + size > 8) return;
        PortBus bus = new PortBus();
        ByteRegisters dev = new ByteRegisters(0x3F8);
        bus.register(0x3F8, 8, PortBus.BYTE, dev);
        bus.out(0x3F8 + offset, size, value);
        for (int i = 0; i < size; i++) assertEquals((value >>> (8 * i)) & 0xFF, dev.regs[offset + i]);
        int mask = size == 4 ? -1 : (1 << (8 * size)) - 1;
        assertEquals(value & mask, bus.in(0x3F8 + offset, size));
    }
}
