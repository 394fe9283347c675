package lhv.machine.fuzz;

import lhv.machine.Machine;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.ShrinkingMode;

import java.io.OutputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random port I/O against every device of the board (UART, debug-exit, fw_cfg including its DMA
 * interface with random guest addresses, PICs, PIT, port 0x61, CMOS/RTC, POST): a guest can send
 * any sequence of IN/OUT, and no device may throw.
 *
 * <p>Context: unit tests only (Java host).
 */
class DeviceFuzzTest {
    static final int[] PORTS = {0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0xF4, 0xF5, 0x510, 0x511, 0x514,
            0x518, 0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x80, 0x92, 0xCF8, 0xCFC};

    @Property(tries = 300, seed = "16550", shrinking = ShrinkingMode.OFF)
    void randomPortIoNeverThrows(@ForAll long seed) {
        Random r = new Random(seed);
        try (Machine m = Machine.builder().memory(4L << 20).console(OutputStream.nullOutputStream()).build()) {
            var ports = m.ports();
            for (int n = 0; n < 400; n++) {
                int port = r.nextInt(8) == 0 ? r.nextInt(0x10000) : PORTS[r.nextInt(PORTS.length)] + (r.nextInt(4) == 0 ? r.nextInt(4) : 0);
                int size = new int[] {1, 2, 4}[r.nextInt(3)];
                int value = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(256);
                    case 1 -> -1;
                    case 2 -> Integer.reverseBytes(r.nextInt(0x400000));   // fw_cfg DMA addresses are big-endian
                    default -> r.nextInt();
                };
                if (r.nextBoolean()) ports.out(port & 0xFFFF, size, value);
                else ports.in(port & 0xFFFF, size);
            }
            m.uart().flush();
        }
    }
}
