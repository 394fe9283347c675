package lhv.hypervisor.setup;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Malformed guest images for {@code hv run}: an ELF64 with random header and program-header fields
 * (offsets beyond the file, negative or huge sizes, e_phoff near 2^63) and truncations either loads
 * or is refused as {@link GuestImage.BadImage}; nothing else escapes.
 */
class GuestImageFuzzTest {
    static final long BASE = 0x100000, END = 4L << 20;

    static byte[] elf() {
        ByteBuffer b = ByteBuffer.allocate(0x200).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putLong(24, 0x100000).putLong(32, 64)
                .putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putLong(72, 0x100).putLong(88, 0x100000).putLong(96, 0x10).putLong(104, 0x1000);
        return b.array();
    }

    static long value(Random r) {
        return switch (r.nextInt(7)) {
            case 0 -> -1L;
            case 1 -> Long.MAX_VALUE - r.nextInt(100);
            case 2 -> Long.MIN_VALUE;
            case 3 -> 0x80000000L + r.nextInt(0x100);
            case 4 -> r.nextInt(0x300);
            case 5 -> 0x100000L + r.nextInt(0x400000);
            default -> r.nextLong();
        };
    }

    static void load(byte[] image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ram = a.allocate(END);
            try {
                GuestImage.load("g", image, ram, BASE, END, BASE, -1);
            } catch (GuestImage.BadImage e) {
                assertFalse(e.getMessage().contains("\n"));
            }
        }
    }

    @Property(tries = 500, seed = "64", shrinking = ShrinkingMode.OFF)
    void malformedElfLoadsOrIsABadImage(@ForAll long seed) {
        Random r = new Random(seed);
        byte[] f = elf();
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        int[] fields = {24, 32, 72, 80, 88, 96, 104};
        for (int n = 1 + r.nextInt(3); n > 0; n--) b.putLong(fields[r.nextInt(fields.length)], value(r));
        if (r.nextBoolean()) b.putShort(54, (short) r.nextInt(0x10000));
        if (r.nextBoolean()) b.putShort(56, (short) r.nextInt(8));
        if (r.nextInt(4) == 0) f = Arrays.copyOf(f, r.nextInt(f.length));
        load(f);
    }

    @Test
    void offsetsThatWrapAreBadImages() {
        for (long[] field : new long[][] {{32, Long.MAX_VALUE - 8}, {32, 0x80000000L}, {72, -1}, {72, Long.MAX_VALUE}}) {
            byte[] f = elf();
            ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong((int) field[0], field[1]);
            try (Arena a = Arena.ofConfined()) {
                assertThrows(GuestImage.BadImage.class, () -> GuestImage.load("g", f, a.allocate(END), BASE, END, BASE, -1),
                        "field at " + field[0] + " = " + Long.toHexString(field[1]));
            }
        }
    }
}
