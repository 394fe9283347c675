package lhv.platform.devices.debugexit;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DebugExitTest {

    @Test
    void byteWriteGivesQemuStatus() {
        int[] stops = {0};
        PortBus bus = new PortBus();
        DebugExit d = new DebugExit(0xF4, 4, () -> stops[0]++);
        d.attach(bus);
        assertFalse(d.exited());
        bus.out(0xF4, 1, 0x10);
        assertTrue(d.exited());
        assertEquals(1, stops[0]);
        assertEquals(0x10, d.value());
        assertEquals(0x21, d.exitStatus());
    }

    @Test
    void zeroGivesOneAndWideWritesAreWhole() {
        PortBus bus = new PortBus();
        DebugExit d = new DebugExit(0xF4, 4, () -> { });
        d.attach(bus);
        bus.out(0xF4, 4, 0);
        assertEquals(1, d.exitStatus());
        DebugExit e = new DebugExit(0x501, 2, () -> { });
        PortBus bus2 = new PortBus();
        e.attach(bus2);
        bus2.out(0x501, 2, 0x1234);
        assertEquals(0x1234, e.value());
        assertEquals(0x2469, e.exitStatus());
    }

    @Test
    void anyPortOfTheWindowExitsAndFirstWriteWins() {
        PortBus bus = new PortBus();
        DebugExit d = new DebugExit(0xF4, 4, () -> { });
        d.attach(bus);
        bus.out(0xF7, 1, 3);
        bus.out(0xF4, 1, 9);
        assertEquals(7, d.exitStatus());
        assertEquals(0, bus.in(0xF4, 1));
    }
}
