package lhv.platform.devices.pit;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

import java.util.function.LongSupplier;

/**
 * The Intel 8254 programmable interval timer (8254 data sheet) at 0x40-0x43: three 16-bit down
 * counters clocked at 1.193182 MHz and the control word register.
 *
 * <p>Context: guest execution. Time is the machine's virtual clock (nanoseconds derived from
 * retired instructions), so counter values are reproducible run to run.
 *
 * <p>Modelled: control words (counter select, read/write mode LSB/MSB/both, mode 0-5, BCD flag
 * stored), counter latch and read-back commands (count and status), the lo/hi byte flip-flops,
 * counting in modes 0-5 from the moment the count is written (modes 1 and 5 from the gate's rising
 * edge), channel 2's gate and output for port 0x61. Not modelled: interrupt delivery from channel 0
 * (IRQ0; later issue) and BCD counting (the count runs in binary even when BCD is selected).
 */
public final class Pit8254 implements PortDevice {
    public static final int BASE = 0x40, CONTROL = 0x43;
    public static final long FREQUENCY_HZ = 1_193_182L;

    private static final int RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_BOTH = 3;

    private final LongSupplier nanos;
    private final Channel[] channels = {new Channel(), new Channel(), new Channel()};

    private static final class Channel {
        int mode, rwMode = RW_BOTH;
        boolean bcd;
        int reload = 0x10000;      // 0 written means 65536
        boolean counting;          // a count has been loaded (and, modes 1/5, the gate triggered)
        boolean nullCount = true;  // status bit 6: count written but not yet loaded into the counter
        long startTicks;           // tick at which counting started
        long frozenTicks = -1;     // elapsed ticks held while the gate is low (channel 2)
        boolean gate = true;
        int writeLow = -1;         // first byte of an LSB-then-MSB write
        boolean readHighNext;      // read flip-flop for RW_BOTH
        int latchedCount = -1;     // latched count, or -1
        boolean latchedHighNext;
        int latchedStatus = -1;    // latched status byte, or -1
    }

    public Pit8254(LongSupplier nanos) {
        this.nanos = nanos;
        channels[2].gate = false; // channels 0 and 1 have GATE tied high; channel 2's is port 0x61 bit 0, clear after reset
    }

    public void attach(PortBus bus) {
        bus.register(BASE, 4, PortBus.BYTE, this);
    }

    private long ticks() {
        long ns = nanos.getAsLong();
        // Split at whole seconds so the product never overflows.
        return ns / 1_000_000_000L * FREQUENCY_HZ + (ns % 1_000_000_000L) * FREQUENCY_HZ / 1_000_000_000L;
    }

    private long elapsed(Channel c) {
        if (!c.counting) return 0;
        if (c.frozenTicks >= 0) return c.frozenTicks;
        return ticks() - c.startTicks;
    }

    /** Current counter value (0..0xFFFF) following the mode's counting sequence. */
    private int count(Channel c) {
        if (!c.counting) return c.reload & 0xFFFF;
        long t = elapsed(c);
        int n = c.reload;
        switch (c.mode) {
            case 2:
                return (int) (n - (t % n)) & 0xFFFF;
            case 3: {
                // Square wave: decrements by two, reloading every half period.
                long half = (n + 1) / 2;
                long inPeriod = t % n;
                long inHalf = inPeriod < half ? inPeriod : inPeriod - half;
                return (int) (n - 2 * inHalf) & 0xFFFE;
            }
            default: // modes 0, 1, 4, 5: one pass down, then wrap through 0xFFFF
                return (int) ((n - t) & 0xFFFF);
        }
    }

    /** The counter's OUT pin. */
    private boolean out(Channel c) {
        long t = elapsed(c);
        int n = c.reload;
        return switch (c.mode) {
            case 0 -> c.counting && t >= n;               // goes high at terminal count
            case 1 -> !c.counting || t >= n;              // low during the one-shot
            case 2 -> !c.counting || (t % n) != n - 1;    // one-clock low pulse before reload
            case 3 -> !c.counting || (t % n) < (n + 1) / 2;
            case 4, 5 -> !c.counting || t != n;           // one-clock strobe at terminal count
            default -> true;
        };
    }

    @Override
    public int in(int port, int size) {
        int index = port - BASE;
        if (index == 3) return 0xFF; // the control word register is write-only
        Channel c = channels[index];
        if (c.latchedStatus >= 0) {
            int s = c.latchedStatus;
            c.latchedStatus = -1;
            return s;
        }
        if (c.latchedCount >= 0) {
            int v = c.latchedCount;
            int b;
            if (c.rwMode == RW_LSB) { b = v & 0xFF; c.latchedCount = -1; }
            else if (c.rwMode == RW_MSB) { b = v >>> 8; c.latchedCount = -1; }
            else if (!c.latchedHighNext) { b = v & 0xFF; c.latchedHighNext = true; }
            else { b = v >>> 8; c.latchedHighNext = false; c.latchedCount = -1; }
            return b;
        }
        int v = count(c);
        return switch (c.rwMode) {
            case RW_LSB -> v & 0xFF;
            case RW_MSB -> v >>> 8;
            default -> {
                int b = c.readHighNext ? v >>> 8 : v & 0xFF;
                c.readHighNext = !c.readHighNext;
                yield b;
            }
        };
    }

    @Override
    public void out(int port, int size, int value) {
        value &= 0xFF;
        int index = port - BASE;
        if (index == 3) {
            controlWord(value);
            return;
        }
        Channel c = channels[index];
        switch (c.rwMode) {
            case RW_LSB -> load(c, value);
            case RW_MSB -> load(c, value << 8);
            default -> {
                if (c.writeLow < 0) {
                    c.writeLow = value;
                    if (c.mode == 0) c.counting = false; // mode 0: writing the first byte stops the count
                } else {
                    int v = c.writeLow | (value << 8);
                    c.writeLow = -1;
                    load(c, v);
                }
            }
        }
    }

    private void controlWord(int value) {
        int sel = value >>> 6;
        if (sel == 3) {
            // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3:1 select counters.
            for (int i = 0; i < 3; i++) {
                if ((value & (2 << i)) == 0) continue;
                Channel c = channels[i];
                if ((value & 0x20) == 0 && c.latchedCount < 0) {
                    c.latchedCount = count(c);
                    c.latchedHighNext = false;
                }
                if ((value & 0x10) == 0 && c.latchedStatus < 0) c.latchedStatus = status(c);
            }
            return;
        }
        Channel c = channels[sel];
        int rw = (value >>> 4) & 3;
        if (rw == RW_LATCH) {
            if (c.latchedCount < 0) {
                c.latchedCount = count(c);
                c.latchedHighNext = false;
            }
            return;
        }
        c.rwMode = rw;
        int mode = (value >>> 1) & 7;
        c.mode = mode > 5 ? mode - 4 : mode; // 6 and 7 alias modes 2 and 3
        c.bcd = (value & 1) != 0;
        c.counting = false;
        c.nullCount = true;
        c.writeLow = -1;
        c.readHighNext = false;
        c.latchedCount = -1;
        c.latchedStatus = -1;
        c.frozenTicks = -1;
    }

    private void load(Channel c, int value) {
        c.reload = value == 0 ? 0x10000 : value;
        c.nullCount = false;
        boolean waitsForGate = c.mode == 1 || c.mode == 5;
        if (waitsForGate) return; // counting starts at the next rising edge of the gate
        c.counting = true;
        c.startTicks = ticks();
        c.frozenTicks = c.gate ? -1 : 0;
    }

    private int status(Channel c) {
        return (out(c) ? 0x80 : 0) | (c.nullCount ? 0x40 : 0) | (c.rwMode << 4) | (c.mode << 1) | (c.bcd ? 1 : 0);
    }

    /** Sets the GATE input of channel {@code index} (only channel 2's is wired, to port 0x61 bit 0). */
    public void setGate(int index, boolean level) {
        Channel c = channels[index];
        if (level == c.gate) return;
        c.gate = level;
        if (level) {
            boolean retrigger = c.mode == 1 || c.mode == 5 || c.mode == 2 || c.mode == 3;
            if (retrigger && !c.nullCount) {
                c.counting = true;
                c.startTicks = ticks();
                c.frozenTicks = -1;
            } else if (c.counting && c.frozenTicks >= 0) {
                c.startTicks = ticks() - c.frozenTicks; // resume where the count stopped
                c.frozenTicks = -1;
            }
        } else if (c.counting && (c.mode == 0 || c.mode == 2 || c.mode == 3 || c.mode == 4)) {
            c.frozenTicks = ticks() - c.startTicks; // gate low suspends counting in these modes
        }
    }

    public boolean gate(int index) {
        return channels[index].gate;
    }

    /** Level of channel {@code index}'s OUT pin now. */
    public boolean output(int index) {
        return out(channels[index]);
    }

    /** Programmed mode (0-5) of channel {@code index}. */
    public int mode(int index) {
        return channels[index].mode;
    }

    /** Programmed initial count of channel {@code index} (1..65536). */
    public int reload(int index) {
        return channels[index].reload;
    }
}
