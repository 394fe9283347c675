package lhv.platform.devices.uart;

import lhv.platform.devices.IrqLine;
import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A 16550A UART (National Semiconductor PC16550D data sheet register model), the PC's COM1 at
 * 0x3F8: eight byte-wide registers, transmitting to a host stream and receiving from a
 * {@link ConsoleInput}.
 *
 * <p>Context: guest execution (port reads/writes) and the machine's run loop ({@link #pollInput}).
 *
 * <p>Transmission is instantaneous: the transmitter holding register is always empty again by the
 * time the guest can look, so LSR.THRE and LSR.TEMT always read 1, which is what polling drivers and
 * early consoles wait for. Line speed (the divisor latch) and framing (LCR) are stored and readable
 * but do not slow anything down. Interrupt enable and identification follow the data sheet's
 * priority order; the interrupt output is gated by MCR.OUT2 as on PC boards and reported on an
 * {@link IrqLine} for the interrupt controller of a later issue.
 */
public final class Uart16550 implements PortDevice {
    public static final int COM1 = 0x3F8;

    // Register offsets from the base port.
    public static final int RBR_THR_DLL = 0, IER_DLM = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    // IER bits.
    public static final int IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MS = 8;
    // IIR values (bit 0 clear = interrupt pending), in priority order.
    public static final int IIR_NONE = 0x01, IIR_RLS = 0x06, IIR_RDA = 0x04, IIR_TIMEOUT = 0x0C, IIR_THRE = 0x02,
            IIR_MS = 0x00, IIR_FIFO_ENABLED = 0xC0;
    // FCR bits.
    public static final int FCR_ENABLE = 1, FCR_CLEAR_RX = 2, FCR_CLEAR_TX = 4;
    // LCR bits.
    public static final int LCR_DLAB = 0x80;
    // MCR bits.
    public static final int MCR_DTR = 1, MCR_RTS = 2, MCR_OUT1 = 4, MCR_OUT2 = 8, MCR_LOOP = 0x10;
    // LSR bits.
    public static final int LSR_DR = 1, LSR_OE = 2, LSR_PE = 4, LSR_FE = 8, LSR_BI = 0x10, LSR_THRE = 0x20,
            LSR_TEMT = 0x40, LSR_FIFO_ERROR = 0x80;
    // MSR bits.
    public static final int MSR_DCTS = 1, MSR_DDSR = 2, MSR_TERI = 4, MSR_DDCD = 8, MSR_CTS = 0x10, MSR_DSR = 0x20,
            MSR_RI = 0x40, MSR_DCD = 0x80;

    private static final int FIFO_SIZE = 16;
    private static final int[] TRIGGER_LEVELS = {1, 4, 8, 14};

    private final int base;
    private final OutputStream sink;
    private final ConsoleInput input;
    private IrqLine irq = IrqLine.NONE;

    private int ier, lcr, mcr, scr, fcr;
    private int divisor;
    private int lineStatusErrors; // OE/PE/FE/BI latched until LSR is read
    private int msrDeltas;
    /** THRE interrupt source: set when the holding register becomes empty, cleared by an IIR read or a THR write. */
    private boolean threPending;
    private final byte[] rx = new byte[FIFO_SIZE];
    private int rxHead, rxCount;
    private boolean irqAsserted;

    public Uart16550(int base, OutputStream sink, ConsoleInput input) {
        this.base = base;
        this.sink = sink;
        this.input = input;
        reset();
    }

    /** Claims the eight byte-wide registers at the base port. */
    public void attach(PortBus bus) {
        bus.register(base, 8, PortBus.BYTE, this);
    }

    /** Wires the interrupt output. */
    public void connect(IrqLine line) {
        this.irq = line;
        updateIrq();
    }

    /** Master reset: register values of the data sheet's reset table (divisor as QEMU: 9600 baud). */
    public void reset() {
        ier = lcr = mcr = scr = fcr = 0;
        divisor = 12;
        lineStatusErrors = 0;
        msrDeltas = 0;
        threPending = false;
        rxHead = rxCount = 0;
        updateIrq();
    }

    @Override
    public int in(int port, int size) {
        switch (port - base) {
            case RBR_THR_DLL:
                if ((lcr & LCR_DLAB) != 0) return divisor & 0xFF;
                return receive();
            case IER_DLM:
                if ((lcr & LCR_DLAB) != 0) return (divisor >>> 8) & 0xFF;
                return ier;
            case IIR_FCR: {
                int id = interruptId();
                if (id == IIR_THRE) {
                    threPending = false; // reading IIR with THRE as the source clears it
                    updateIrq();
                }
                return id | ((fcr & FCR_ENABLE) != 0 ? IIR_FIFO_ENABLED : 0);
            }
            case LCR:
                return lcr;
            case MCR:
                return mcr;
            case LSR: {
                fillFromInput();
                int v = lsr();
                lineStatusErrors = 0; // reading LSR clears OE, PE, FE, BI and the line-status interrupt
                updateIrq();
                return v;
            }
            case MSR: {
                int v = msr();
                msrDeltas = 0;
                updateIrq();
                return v;
            }
            case SCR:
                return scr;
            default:
                return 0xFF;
        }
    }

    @Override
    public void out(int port, int size, int value) {
        value &= 0xFF;
        switch (port - base) {
            case RBR_THR_DLL -> {
                if ((lcr & LCR_DLAB) != 0) divisor = (divisor & 0xFF00) | value;
                else transmit(value);
            }
            case IER_DLM -> {
                if ((lcr & LCR_DLAB) != 0) {
                    divisor = (divisor & 0x00FF) | (value << 8);
                } else {
                    int old = ier;
                    ier = value & 0x0F;
                    // Enabling the THRE interrupt while the holding register is empty raises it at once.
                    if ((ier & IER_THRE) != 0 && (old & IER_THRE) == 0) threPending = true;
                    updateIrq();
                }
            }
            case IIR_FCR -> {
                if ((value & FCR_CLEAR_RX) != 0 || ((value ^ fcr) & FCR_ENABLE) != 0) rxHead = rxCount = 0;
                fcr = value & (FCR_ENABLE | 0xC0);
                updateIrq();
            }
            case LCR -> lcr = value;
            case MCR -> {
                int old = msr() & 0xF0;
                mcr = value & 0x1F;
                int now = msr() & 0xF0;
                recordModemChange(old, now);
                updateIrq();
            }
            case LSR, MSR -> { } // read-only on the 16550A (factory test writes ignored)
            case SCR -> scr = value;
            default -> { }
        }
    }

    private void transmit(int b) {
        if ((mcr & MCR_LOOP) != 0) {
            push(b); // loopback: the serializer feeds the receiver, nothing leaves the chip
        } else {
            try {
                sink.write(b);
                if (b == '\n') sink.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        threPending = true; // the holding register is empty again immediately
        updateIrq();
    }

    private int receive() {
        fillFromInput();
        if (rxCount == 0) return 0;
        int b = rx[rxHead] & 0xFF;
        rxHead = (rxHead + 1) % FIFO_SIZE;
        rxCount--;
        fillFromInput();
        updateIrq();
        return b;
    }

    private void push(int b) {
        if (rxCount == capacity()) {
            lineStatusErrors |= LSR_OE; // overrun: the new character is lost
        } else {
            rx[(rxHead + rxCount) % FIFO_SIZE] = (byte) b;
            rxCount++;
        }
    }

    private int capacity() {
        return (fcr & FCR_ENABLE) != 0 ? FIFO_SIZE : 1;
    }

    /** Pulls host input while there is room (not in loopback, where the line is disconnected). */
    private void fillFromInput() {
        if ((mcr & MCR_LOOP) != 0) return;
        while (rxCount < capacity()) {
            int b = input.poll();
            if (b < 0) return;
            push(b);
        }
    }

    /** Receives pending host input and updates the interrupt output; called between run slices. */
    public void pollInput() {
        fillFromInput();
        updateIrq();
    }

    /** Flushes transmitted bytes to the host sink. */
    public void flush() {
        try {
            sink.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int lsr() {
        int v = LSR_THRE | LSR_TEMT | lineStatusErrors;
        if (rxCount > 0) v |= LSR_DR;
        if ((fcr & FCR_ENABLE) != 0 && (lineStatusErrors & (LSR_PE | LSR_FE | LSR_BI)) != 0) v |= LSR_FIFO_ERROR;
        return v;
    }

    private int msr() {
        int status;
        if ((mcr & MCR_LOOP) != 0) {
            // Loopback wiring: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2.
            status = ((mcr & MCR_RTS) != 0 ? MSR_CTS : 0) | ((mcr & MCR_DTR) != 0 ? MSR_DSR : 0)
                    | ((mcr & MCR_OUT1) != 0 ? MSR_RI : 0) | ((mcr & MCR_OUT2) != 0 ? MSR_DCD : 0);
        } else {
            status = MSR_CTS | MSR_DSR | MSR_DCD; // a connected, ready host terminal
        }
        return status | msrDeltas;
    }

    private void recordModemChange(int old, int now) {
        int changed = old ^ now;
        if ((changed & MSR_CTS) != 0) msrDeltas |= MSR_DCTS;
        if ((changed & MSR_DSR) != 0) msrDeltas |= MSR_DDSR;
        if ((changed & MSR_DCD) != 0) msrDeltas |= MSR_DDCD;
        if ((old & MSR_RI) != 0 && (now & MSR_RI) == 0) msrDeltas |= MSR_TERI; // trailing edge of RI
    }

    /** The highest-priority enabled pending source, as IIR bits 3:0. */
    private int interruptId() {
        if ((ier & IER_RLS) != 0 && lineStatusErrors != 0) return IIR_RLS;
        if ((ier & IER_RDA) != 0 && rxCount > 0) {
            if ((fcr & FCR_ENABLE) == 0) return IIR_RDA;
            // FIFO mode: data at or above the trigger level; below it the character-timeout source
            // (time between characters is not modelled, so the timeout is considered elapsed).
            return rxCount >= TRIGGER_LEVELS[(fcr >>> 6) & 3] ? IIR_RDA : IIR_TIMEOUT;
        }
        if ((ier & IER_THRE) != 0 && threPending) return IIR_THRE;
        if ((ier & IER_MS) != 0 && (msrDeltas & 0x0F) != 0) return IIR_MS;
        return IIR_NONE;
    }

    /** True when the UART requests an interrupt and MCR.OUT2 lets it reach the bus. */
    public boolean interruptAsserted() {
        return irqAsserted;
    }

    private void updateIrq() {
        boolean level = interruptId() != IIR_NONE && (mcr & MCR_OUT2) != 0 && (mcr & MCR_LOOP) == 0;
        if (level != irqAsserted) {
            irqAsserted = level;
            irq.set(level);
        }
    }

    /** Current divisor latch value (baud = 115200 / divisor). */
    public int divisor() {
        return divisor;
    }
}
