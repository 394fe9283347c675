package lhv.platform.devices.uart;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;

import static org.junit.jupiter.api.Assertions.*;

class HostConsoleInputTest {
    @Test
    void deliversHostBytesWithoutBlocking() throws InterruptedException {
        HostConsoleInput in = new HostConsoleInput(new ByteArrayInputStream(new byte[]{'o', 'k', (byte) 0xFF}));
        StringBuilder got = new StringBuilder();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (got.length() < 3 && System.nanoTime() < deadline) {
            int b = in.poll(); // never blocks: -1 while the reader thread has nothing yet
            if (b >= 0) got.append((char) b);
            else Thread.sleep(1);
        }
        assertEquals("ok\u00FF", got.toString());
        assertEquals(-1, in.poll(), "end of host input: the line stays idle");
    }
}
