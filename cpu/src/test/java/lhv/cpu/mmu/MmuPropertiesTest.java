package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Properties of the access paths: any access, fast or slow, page-crossing or not, equals the
 * little-endian composition of its bytes through the page tables; and canonicality (SDM 3.3.7.1).
 */
class MmuPropertiesTest {
    static final int P = 1, RW = 2;

    /** 64-bit mode; linear pages 0x400000.. map to physical pages in reverse order (non-contiguous). */
    static Cpu scrambled() {
        Cpu cpu = TestRam.cpu();
        TestRam ram = TestRam.of(cpu);
        ram.q(0x10000, 0x11000 | P | RW);
        ram.q(0x11000, 0x12000 | P | RW);
        ram.q(0x12000 + 16, 0x13000 | P | RW);
        for (int i = 0; i < 16; i++) ram.q(0x13000 + 8L * i, (0x300000L - 0x1000L * i) | P | RW);
        cpu.setCr3(0x10000);
        cpu.setCr4(Cr.CR4_PAE);
        cpu.setEfer(Cr.EFER_LME | Cr.EFER_LMA);
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET);
        cpu.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xA09B);
        cpu.stateChanged();
        cpu.mmu.flush(true);
        return cpu;
    }

    static long physicalOf(long linear) {
        long page = (linear - 0x400000) >>> 12;
        return 0x300000L - 0x1000L * page + (linear & 0xFFF);
    }

    /** One processor for all tries: each try checks only the bytes it wrote itself. */
    static final Cpu SCRAMBLED = scrambled();
    static final Cpu REAL = TestRam.cpu();

    @Property(tries = 60)
    void accessesEqualTheirBytes(@ForAll @IntRange(min = 0, max = 15 * 4096 - 8) int offset,
                                 @ForAll @IntRange(min = 0, max = 3) int sizeLog, @ForAll long value) {
        Cpu cpu = SCRAMBLED;
        TestRam ram = TestRam.of(cpu);
        int size = 1 << sizeLog;
        long lin = 0x400000 + offset;
        cpu.mmu.write(Segment.DS, lin, size, value);
        long expected = 0;
        for (int b = 0; b < size; b++) {
            assertEquals((value >>> (8 * b)) & 0xFF, ram.b(physicalOf(lin + b)), "byte " + b);
            expected |= (long) ram.b(physicalOf(lin + b)) << (8 * b);
        }
        // Twice: the first read may walk, the second hits the TLB.
        assertEquals(expected, cpu.mmu.read(Segment.DS, lin, size));
        assertEquals(expected, cpu.mmu.read(Segment.DS, lin, size));
    }

    @Property(tries = 300)
    void canonicalMeansBits63To47Equal(@ForAll long a) {
        long top = a >> 47;
        assertEquals(top == 0 || top == -1, Mmu.canonical(a));
    }

    @Property(tries = 100)
    void realModeLinearIsBasePlusOffset(@ForAll @IntRange(min = 0, max = 0xFFFF) int selector,
                                        @ForAll @LongRange(min = 0, max = 0xFFFC) long offset) {
        Cpu cpu = REAL;
        cpu.seg[Segment.ES].loadReal(selector);
        assertEquals(((long) selector << 4) + offset, cpu.mmu.linear(Segment.ES, offset, 2, Mmu.READ));
    }
}
