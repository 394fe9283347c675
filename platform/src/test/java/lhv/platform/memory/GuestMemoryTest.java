package lhv.platform.memory;

import lhv.cpu.bus.CodeMap;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GuestMemoryTest {

    @Test
    void ramReadsBackLittleEndianInEverySize() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            m.write(0x1000, 8, 0x1122334455667788L);
            assertEquals(0x88, m.read(0x1000, 1));
            assertEquals(0x7788, m.read(0x1000, 2));
            assertEquals(0x55667788L, m.read(0x1000, 4));
            assertEquals(0x1122334455667788L, m.read(0x1000, 8));
            assertEquals(0x66, m.ram().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0x1002));
        }
    }

    @Test
    void freshRamIsZero() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            assertEquals(0, m.read(0, 8));
            assertEquals(0, m.read((4L << 20) - 8, 8));
        }
    }

    @Test
    void unbackedAddressesReadAllOnesAndDropWrites() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            long beyond = 4L << 20;
            assertEquals(0xFF, m.read(beyond, 1));
            assertEquals(0xFFFF_FFFFL, m.read(beyond, 4));
            assertEquals(-1L, m.read(0xFEE0_0000L, 8));
            m.write(beyond, 4, 0);
            assertEquals(0xFFFF_FFFFL, m.read(beyond, 4));
            assertFalse(m.isRam(beyond, 1));
        }
    }

    @Test
    void accessStraddlingTheEndOfRamMixesRamAndAllOnes() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            long end = 4L << 20;
            m.write(end - 2, 2, 0xABCD);
            assertEquals(0xFFFF_ABCDL, m.read(end - 2, 4));
            m.write(end - 1, 2, 0x1234); // low byte lands in RAM, high byte dropped
            assertEquals(0x34, m.read(end - 1, 1));
        }
    }

    @Test
    void mmioWindowTakesPrecedenceOverRamAndSeesOffsets() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            List<String> log = new ArrayList<>();
            m.mmio().register(0x2000, 0x1000, new MmioDevice() {
                @Override public long read(long offset, int size) { log.add("r" + offset + "/" + size); return 0x1234_5678_9ABC_DEF0L; }
                @Override public void write(long offset, int size, long value) { log.add("w" + offset + "/" + size + "=" + Long.toHexString(value)); }
            });
            assertFalse(m.isRam(0x2000, 4));
            assertFalse(m.isRam(0x1FFE, 4));
            assertTrue(m.isRam(0x1000, 4));
            assertEquals(0x9ABC_DEF0L, m.read(0x2010, 4));
            m.write(0x2020, 2, 0xFFFF_BEEFL);
            assertEquals(List.of("r16/4", "w32/2=beef"), log);
            assertEquals(0, m.ram().get(java.lang.foreign.ValueLayout.JAVA_INT, 0x2020)); // RAM behind untouched
        }
    }

    @Test
    void overlappingWindowsAreRejected() {
        MmioBus bus = new MmioBus();
        MmioDevice d = new MmioDevice() {
            @Override public long read(long o, int s) { return 0; }
            @Override public void write(long o, int s, long v) { }
        };
        bus.register(0x1000, 0x1000, d);
        bus.register(0x3000, 0x1000, d);
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x1800, 0x100, d));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x2F00, 0x200, d));
        bus.register(0x2000, 0x1000, d); // fits exactly between
        assertEquals(1, bus.find(0x2FFF));
        assertEquals(-1, bus.find(0x4000));
    }

    @Test
    void hostWritesNotifyTheAttachedCodeMap() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            CodeMap map = new CodeMap();
            List<Long> invalidated = new ArrayList<>();
            map.onInvalidate(invalidated::add);
            map.markCode(3);
            map.markCode(5);
            m.attachCodeMap(map);
            m.load(0x3FFF, new byte[]{1, 2});   // touches pages 3 and 4
            m.put32(0x5000, 7);
            assertEquals(List.of(3L, 5L), invalidated);
            assertEquals(1, m.get8(0x3FFF));
            assertEquals(2, m.get8(0x4000));
        }
    }

    @Test
    void hostAccessOutsideRamIsRejected() {
        try (GuestMemory m = new GuestMemory(4L << 20)) {
            assertThrows(IllegalArgumentException.class, () -> m.load((4L << 20) - 1, new byte[2]));
            assertThrows(IllegalArgumentException.class, () -> m.fill(-1, 1, (byte) 0));
        }
    }

    @Test
    void sizeMustBeSensible() {
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory(1L << 20));
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory((4L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> new GuestMemory(4L << 30));
    }

    @Test
    void largeGuestIsCommittedLazily() {
        // 3.5 GiB of guest RAM: only possible on a small test host because nothing is committed up front.
        try (GuestMemory m = new GuestMemory(GuestMemory.MAX_SIZE)) {
            assertTrue(m.lazilyCommitted());
            m.write(GuestMemory.MAX_SIZE - 8, 8, 42);
            assertEquals(42, m.read(GuestMemory.MAX_SIZE - 8, 8));
        }
    }

    @Test
    void closeReturnsTheReservationAndLaterAccessesFailCleanly() {
        long before = GuestMemory.liveReservations(), bytesBefore = GuestMemory.liveReservedBytes();
        GuestMemory m = new GuestMemory(4L << 20);
        m.put32(0x1000, 0x1234);
        assertEquals(before + 1, GuestMemory.liveReservations());
        assertEquals(bytesBefore + (4L << 20), GuestMemory.liveReservedBytes());
        m.close();
        m.close();   // idempotent
        assertEquals(before, GuestMemory.liveReservations());
        assertEquals(bytesBefore, GuestMemory.liveReservedBytes());
        // Unmapped memory is never touched: the access fails as a Java exception, not a JVM crash.
        assertThrows(IllegalStateException.class, () -> m.get32(0x1000));
    }
}
