package lhv.cpu.bus;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RAM at 0, nothing elsewhere: little-endian accesses of every size, all ones and dropped writes outside. */
class RamOnlyMemoryTest {
    @Test
    void accessesOfEverySizeAreLittleEndian() {
        RamOnlyMemory m = new RamOnlyMemory(8192);
        m.write(0x10, 8, 0x1122334455667788L);
        assertEquals(0x88, m.read(0x10, 1));
        assertEquals(0x7788, m.read(0x10, 2));
        assertEquals(0x55667788L, m.read(0x10, 4));
        assertEquals(0x1122334455667788L, m.read(0x10, 8));
        m.write(0x13, 2, 0xABCD);
        assertEquals(0xABCD, m.read(0x13, 2));
        assertEquals(0x1122_33AB_CD66_7788L, m.read(0x10, 8));
    }

    @Test
    void addressesOutsideRamReadAllOnesAndDropWrites() {
        RamOnlyMemory m = new RamOnlyMemory(4096);
        assertTrue(m.isRam(4088, 8));
        assertFalse(m.isRam(4090, 8), "an access straddling the end of RAM is not RAM");
        assertEquals(0xFF, m.read(4096, 1));
        assertEquals(0xFFFF_FFFFL, m.read(0xFEE0_0000L, 4));
        assertEquals(-1L, m.read(4092, 8));
        m.write(4092, 8, 0);
        assertEquals(0, m.read(4088, 4), "the dropped write left RAM below the end alone");
        assertEquals(0, m.read(4092, 4));
    }
}
