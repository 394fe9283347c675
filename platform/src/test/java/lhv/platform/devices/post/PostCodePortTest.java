package lhv.platform.devices.post;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PostCodePortTest {
    @Test
    void keepsTheLastCodeAndReadsAllOnes() {
        PortBus bus = new PortBus();
        PostCodePort p = new PostCodePort();
        p.attach(bus);
        assertEquals(-1, p.lastCode());
        bus.out(0x80, 1, 0x42);
        bus.out(0x80, 1, 0x43);
        assertEquals(0x43, p.lastCode());
        assertEquals(2, p.writes());
        assertEquals(0xFF, bus.in(0x80, 1));
    }
}
