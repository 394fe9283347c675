package lhv.vmx.vmcs;

import static org.junit.jupiter.api.Assertions.*;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class VmcsPropertyTest {

    @Provide
    Arbitrary<VmcsField> fields() {
        return Arbitraries.of(VmcsField.class);
    }

    @Property
    void writeKeepsExactlyTheFieldWidth(@ForAll("fields") VmcsField f, @ForAll long value) {
        Vmcs v = new Vmcs();
        v.write(f, value);
        long expected = switch (f.width) {
            case BITS_16 -> value & 0xFFFF;
            case BITS_32 -> value & 0xFFFF_FFFFL;
            default -> value;
        };
        assertEquals(expected, v.read(f));
        assertEquals(expected, v.readEncoded(f.encoding));
    }

    @Property
    void highAndFullAccessCompose(@ForAll("fields") VmcsField f, @ForAll int low, @ForAll int high) {
        if (f.width != FieldWidth.BITS_64) return;
        Vmcs v = new Vmcs();
        v.writeEncoded(f.encoding, Integer.toUnsignedLong(low));
        v.writeEncoded(f.highEncoding(), Integer.toUnsignedLong(high));
        assertEquals(((long) high << 32) | Integer.toUnsignedLong(low), v.read(f));
        assertEquals(Integer.toUnsignedLong(high), v.readEncoded(f.highEncoding()));
    }

    @Property
    void everyEncodingResolvesConsistently(@ForAll int encoding) {
        int e = encoding & 0x7FFF;
        VmcsField f = VmcsField.forEncoding(e);
        if (f == null) return;
        assertEquals(f.encoding, e & ~1);
        assertEquals(FieldWidth.ofEncoding(e), f.width);
        assertEquals(FieldType.ofEncoding(e), f.type);
    }
}
