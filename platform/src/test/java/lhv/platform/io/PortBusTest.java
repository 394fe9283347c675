package lhv.platform.io;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PortBusTest {

    /** Records every access; reads return the port number's low byte repeated. */
    static final class Recorder implements PortDevice {
        final List<String> log = new ArrayList<>();
        @Override public int in(int port, int size) { log.add("in" + size + "@" + Integer.toHexString(port)); return 0x01020304 + port; }
        @Override public void out(int port, int size, int value) { log.add("out" + size + "@" + Integer.toHexString(port) + "=" + Integer.toHexString(value)); }
    }

    @Test
    void unclaimedPortsReadAllOnesAndIgnoreWrites() {
        PortBus bus = new PortBus();
        assertEquals(0xFF, bus.in(0x1234, 1));
        assertEquals(0xFFFF, bus.in(0x1234, 2));
        assertEquals(0xFFFF_FFFF, bus.in(0x1234, 4));
        bus.out(0x1234, 4, 0); // nothing happens
    }

    @Test
    void unclaimedAccessesAreLoggedWhenAsked() {
        PortBus bus = new PortBus();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        bus.logUnhandled(new PrintStream(buf, true));
        bus.in(0x3E8, 1);
        bus.out(0xCF8, 4, 0x80000000);
        assertEquals("hv: unhandled I/O: inb port 0x03e8\nhv: unhandled I/O: outl port 0x0cf8 value 0x80000000\n",
                buf.toString().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void deviceDecodingWordsGetsTheWholeAccess() {
        PortBus bus = new PortBus();
        Recorder r = new Recorder();
        bus.register(0x100, 4, PortBus.ANY, r);
        assertEquals((0x0102_0304 + 0x100) & 0xFFFF, bus.in(0x100, 2));
        bus.out(0x100, 4, 0xCAFEBABE);
        assertEquals(List.of("in2@100", "out4@100=cafebabe"), r.log);
    }

    @Test
    void wideAccessToByteDeviceIsSplitLowPortFirst() {
        PortBus bus = new PortBus();
        Recorder r = new Recorder();
        bus.register(0x3F8, 8, PortBus.BYTE, r);
        bus.out(0x3F8, 2, 0xBBAA);
        int v = bus.in(0x3FA, 2);
        assertEquals(List.of("out1@3f8=aa", "out1@3f9=bb", "in1@3fa", "in1@3fb"), r.log);
        assertEquals(((0x04 + 0x3FA) & 0xFF) | (((0x04 + 0x3FB) & 0xFF) << 8), v);
    }

    @Test
    void accessCrossingIntoAnUnclaimedPortIsSplit() {
        PortBus bus = new PortBus();
        Recorder r = new Recorder();
        bus.register(0x200, 1, PortBus.ANY, r);
        int v = bus.in(0x200, 2);
        assertEquals(List.of("in1@200"), r.log);
        assertEquals(0xFF00 | ((0x04 + 0x200) & 0xFF), v);
    }

    @Test
    void doubleClaimIsRejected() {
        PortBus bus = new PortBus();
        bus.register(0x60, 1, PortBus.BYTE, new Recorder());
        assertThrows(IllegalArgumentException.class, () -> bus.register(0x5F, 2, PortBus.BYTE, new Recorder()));
        assertThrows(IllegalArgumentException.class, () -> bus.register(0xFFFF, 2, PortBus.BYTE, new Recorder()));
    }
}
