package lhv.machine.fuzz;

import lhv.cpu.StopReason;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random guest code in every operating mode: whatever the bytes, {@link lhv.cpu.Cpu#run} ends in a
 * {@link StopReason} (a result, a delivered exception, a shutdown, NOT_IMPLEMENTED) within the
 * instruction limit and a wall-clock bound; no Java exception escapes and no single instruction
 * runs unbounded. Seeds are fixed so a failure reproduces in CI.
 */
class GuestCodeFuzzTest {
    static final long LIMIT = 3000;
    static final Duration BOUND = Duration.ofSeconds(10);

    static StopReason runBounded(FuzzGuest.Mode mode, byte[] code, long seed) {
        return assertTimeoutPreemptively(BOUND, () -> {
            try (FuzzGuest g = new FuzzGuest(mode, code, seed)) {
                long before = g.cpu.instructionsRetired;
                StopReason r = g.run(LIMIT);
                assertNotNull(r);
                assertTrue(g.cpu.instructionsRetired - before <= LIMIT, "instruction limit exceeded");
                return r;
            }
        }, () -> "mode " + mode + " seed " + seed + " code " + java.util.HexFormat.of().formatHex(code));
    }

    @Property(tries = 600, seed = "20261126", shrinking = ShrinkingMode.BOUNDED)
    void randomBytesEndInAStopReason(@ForAll("modes") FuzzGuest.Mode mode, @ForAll("bytes") byte[] code,
                                     @ForAll long seed) {
        runBounded(mode, code, seed);
    }

    @Property(tries = 600, seed = "4242", shrinking = ShrinkingMode.BOUNDED)
    void structuredInstructionMixesEndInAStopReason(@ForAll("modes") FuzzGuest.Mode mode, @ForAll("mixes") byte[] code,
                                                    @ForAll long seed) {
        runBounded(mode, code, seed);
    }

    @Provide
    Arbitrary<FuzzGuest.Mode> modes() {
        return Arbitraries.of(FuzzGuest.Mode.class);
    }

    @Provide
    Arbitrary<byte[]> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(512);
    }

    static final int[] PREFIXES = {0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x40, 0x41, 0x44, 0x48, 0x4C, 0x4F};

    /** One instruction-shaped item: 0-3 prefixes, an opcode of one of the maps, then ModRM/SIB/disp/imm bytes. */
    static Arbitrary<byte[]> instruction() {
        Arbitrary<List<Integer>> prefixes = Arbitraries.of(PREFIXES.length == 0 ? new Integer[0] : box(PREFIXES)).list().ofMaxSize(3);
        Arbitrary<int[]> opcode = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 255).map(o -> new int[] {o}),
                Arbitraries.integers().between(0, 255).map(o -> new int[] {0x0F, o}),
                Arbitraries.integers().between(0, 255).map(o -> new int[] {0x0F, 0x38, o}),
                Arbitraries.integers().between(0, 255).map(o -> new int[] {0x0F, 0x3A, o}),
                Arbitraries.integers().between(0, 255).map(o -> new int[] {0x0F, 0x01, o}),
                Arbitraries.integers().between(0, 255).map(o -> new int[] {0xC7, o}));
        Arbitrary<byte[]> tail = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(8);
        return Combinators.combine(prefixes, opcode, tail).as((p, o, t) -> {
            byte[] r = new byte[p.size() + o.length + t.length];
            int k = 0;
            for (int b : p) r[k++] = (byte) b;
            for (int b : o) r[k++] = (byte) b;
            System.arraycopy(t, 0, r, k, t.length);
            return r;
        });
    }

    private static Integer[] box(int[] a) {
        Integer[] r = new Integer[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    @Provide
    Arbitrary<byte[]> mixes() {
        return instruction().list().ofMinSize(1).ofMaxSize(40).map(list -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] i : list) out.writeBytes(i);
            return out.toByteArray();
        });
    }

    /** REP MOVSB with RCX = 2^63 must still honour the instruction limit (the REP yields in chunks). */
    @Test
    void hugeRepMovsbHonoursTheInstructionLimit() {
        byte[] code = {(byte) 0xF3, (byte) 0xA4, (byte) 0xF4};   // rep movsb; hlt
        long t0 = System.nanoTime();
        assertTimeoutPreemptively(BOUND, () -> {
            try (FuzzGuest g = new FuzzGuest(FuzzGuest.Mode.LONG64, code, 1)) {
                g.cpu.gpr[lhv.cpu.Cpu.RCX] = 1L << 63;
                g.cpu.gpr[lhv.cpu.Cpu.RSI] = 0x100000;
                g.cpu.gpr[lhv.cpu.Cpu.RDI] = 0x200000;
                g.cpu.setRflags(2);
                StopReason r = g.run(100);
                assertEquals(StopReason.INSTRUCTION_LIMIT, r, () -> String.format("rcx %x rsi %x rdi %x rip %x retired %d", g.cpu.gpr[1], g.cpu.gpr[6], g.cpu.gpr[7], g.cpu.rip, g.cpu.instructionsRetired));
                assertTrue(Long.compareUnsigned(g.cpu.gpr[lhv.cpu.Cpu.RCX], 1L << 63) < 0, "some iterations were done");
                assertEquals(FuzzGuest.CODE, g.cpu.rip, "the REP is still in progress");
            }
        });
        assertTrue(System.nanoTime() - t0 < BOUND.toNanos());
    }
}
