package lhv.cpu.exec;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.math.BigInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The allocation-free 128/64 division against BigInteger arithmetic (an independent oracle). */
class MulDivTest {
    private static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);

    private static BigInteger u(long v) {
        return v < 0 ? BigInteger.valueOf(v).add(TWO64) : BigInteger.valueOf(v);
    }

    @Property
    void udiv128MatchesBigInteger(@ForAll long hi, @ForAll long lo, @ForAll long d) {
        if (d == 0) return;
        if (Long.compareUnsigned(hi, d) >= 0) hi = Long.remainderUnsigned(hi, d);
        BigInteger n = u(hi).shiftLeft(64).or(u(lo));
        BigInteger[] qr = n.divideAndRemainder(u(d));
        long q = MulDiv.udiv128(hi, lo, d);
        assertEquals(qr[0].longValue(), q);
        assertEquals(qr[1].longValue(), lo - q * d);
    }
}
