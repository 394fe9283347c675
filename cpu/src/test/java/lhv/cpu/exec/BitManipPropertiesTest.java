package lhv.cpu.exec;

import lhv.cpu.Cpu;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * BMI2 on random operands against independent facts: PEXT undoes PDEP under the same mask and PDEP
 * only sets mask bits (algebra, not a second implementation), MULX against BigInteger. One guest
 * is reused: each try reloads the registers and reruns the program.
 */
class BitManipPropertiesTest {
    private static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);
    // pdep rax, rbx, rcx; pext rsi, rax, rcx; mulx r8, r9, rdi; hlt
    private static final Guest G = Guest.long64().code("c4e2e3f5c1 c4e2faf5f1 c462b3f6c7 f4");

    private static BigInteger u(long v) {
        return v < 0 ? BigInteger.valueOf(v).add(TWO64) : BigInteger.valueOf(v);
    }

    private static Cpu run(long rbx, long rcx, long rdx, long rdi) {
        Cpu c = G.cpu;
        c.gpr[Cpu.RBX] = rbx;
        c.gpr[Cpu.RCX] = rcx;
        c.gpr[Cpu.RDX] = rdx;
        c.gpr[Cpu.RDI] = rdi;
        c.rip = Guest.CODE;
        c.activityState = 0;
        G.runToHalt();
        return c;
    }

    @Property(tries = 300)
    void pextUndoesPdepAndPdepStaysInTheMask(@ForAll long x, @ForAll long mask) {
        Cpu c = run(x, mask, 0, 0);
        long deposited = c.gpr[Cpu.RAX], extracted = c.gpr[Cpu.RSI];
        int n = Long.bitCount(mask);
        long low = n == 64 ? -1L : (1L << n) - 1;
        assertEquals(0, deposited & ~mask, "PDEP sets only mask bits");
        assertEquals(n, Long.bitCount(deposited) + Long.bitCount(~x & low), "every low source bit lands once");
        assertEquals(x & low, extracted, "PEXT(PDEP(x, m), m) = the low popcount(m) bits of x");
    }

    @Property(tries = 300)
    void mulxMatchesBigInteger(@ForAll long a, @ForAll long b) {
        Cpu c = run(0, 0, a, b);
        BigInteger p = u(a).multiply(u(b));
        assertEquals(p.shiftRight(64).longValue(), c.gpr[8], "high half in ModRM.reg");
        assertEquals(p.longValue(), c.gpr[9], "low half in VEX.vvvv");
    }
}
