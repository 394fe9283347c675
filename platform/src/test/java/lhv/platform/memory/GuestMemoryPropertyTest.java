package lhv.platform.memory;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.lifecycle.AfterContainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GuestMemoryPropertyTest {
    static final long SIZE = 2L << 20;
    static final GuestMemory MEM = new GuestMemory(SIZE);

    @AfterContainer
    static void close() {
        MEM.close();
    }

    @Property(tries = 300)
    void writeThenReadAnywhereInRam(@ForAll @LongRange(min = 0, max = SIZE - 8) long pa,
                                    @ForAll @IntRange(min = 0, max = 3) int sizeLog, @ForAll long value) {
        int size = 1 << sizeLog;
        long mask = size == 8 ? -1L : (1L << (8 * size)) - 1;
        MEM.write(pa, size, value);
        assertEquals(value & mask, MEM.read(pa, size));
        // Little-endian byte order, checked against java.nio as an independent oracle.
        byte[] expected = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
        assertArrayEquals(java.util.Arrays.copyOf(expected, size), MEM.bytes(pa, size));
    }

    @Property(tries = 200)
    void everyByteBeyondRamReadsAllOnes(@ForAll @LongRange(min = SIZE - 7, max = SIZE + 4096) long pa,
                                        @ForAll @IntRange(min = 0, max = 3) int sizeLog) {
        int size = 1 << sizeLog;
        long v = MEM.read(pa, size);
        for (int i = 0; i < size; i++) {
            int b = (int) (v >>> (8 * i)) & 0xFF;
            if (pa + i >= SIZE) assertEquals(0xFF, b, "byte " + i);
        }
    }
}
