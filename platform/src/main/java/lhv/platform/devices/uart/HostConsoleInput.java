package lhv.platform.devices.uart;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Receives the tool's standard input for a guest UART without ever blocking guest execution: a
 * daemon thread, started on the first poll, reads the host stream into a queue the device drains.
 *
 * <p>Context: {@link #poll} runs on the guest's thread; the reader thread only touches the queue.
 */
public final class HostConsoleInput implements ConsoleInput {
    private final InputStream in;
    private final ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();
    private volatile boolean started;

    public HostConsoleInput(InputStream in) {
        this.in = in;
    }

    @Override
    public int poll() {
        if (!started) start();
        Integer b = received.poll();
        return b == null ? -1 : b;
    }

    private synchronized void start() {
        if (started) return;
        started = true;
        Thread reader = new Thread(() -> {
            try {
                int b;
                while ((b = in.read()) >= 0) received.add(b);
            } catch (IOException e) {
                // Host input closed or failed: the line simply stays idle.
            }
        }, "uart-input");
        reader.setDaemon(true);
        reader.start();
    }
}
