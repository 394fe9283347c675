package lhv.platform.devices.uart;

import lhv.platform.io.PortBus;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static lhv.platform.devices.uart.Uart16550.*;
import static org.junit.jupiter.api.Assertions.*;

class Uart16550Test {
    static final int B = COM1;
    ByteArrayOutputStream out;
    ArrayDeque<Integer> input;
    PortBus bus;
    Uart16550 uart;
    List<Boolean> irqEdges;

    @BeforeEach
    void setUp() {
        out = new ByteArrayOutputStream();
        input = new ArrayDeque<>();
        bus = new PortBus();
        uart = new Uart16550(B, out, () -> input.isEmpty() ? -1 : input.poll());
        uart.attach(bus);
        irqEdges = new ArrayList<>();
        uart.connect(irqEdges::add);
    }

    int in(int reg) { return bus.in(B + reg, 1); }
    void out(int reg, int v) { bus.out(B + reg, 1, v); }

    @Test
    void resetValues() {
        assertEquals(0, in(IER_DLM));
        assertEquals(0x01, in(IIR_FCR));
        assertEquals(0, in(LCR));
        assertEquals(0, in(MCR));
        assertEquals(0x60, in(LSR));
        assertEquals(0xB0, in(MSR));
        assertEquals(0, in(SCR));
        assertEquals(12, uart.divisor());
    }

    @Test
    void transmitGoesToTheSinkAndTransmitterIsAlwaysReady() {
        for (char c : "hi\n".toCharArray()) {
            assertEquals(LSR_THRE | LSR_TEMT, in(LSR) & (LSR_THRE | LSR_TEMT));
            out(RBR_THR_DLL, c);
        }
        assertEquals("hi\n", out.toString());
    }

    @Test
    void divisorLatchIsReachedWithDlab() {
        out(LCR, 0x83); // DLAB, 8N1
        out(RBR_THR_DLL, 0x01);
        out(IER_DLM, 0x00);
        assertEquals(0x01, in(RBR_THR_DLL));
        assertEquals(0x00, in(IER_DLM));
        out(LCR, 0x03);
        assertEquals(1, uart.divisor());
        assertEquals(0x03, in(LCR));
        assertEquals("", out.toString(), "divisor writes are not transmitted");
        assertEquals(0, in(IER_DLM), "IER unaffected by DLM write");
    }

    @Test
    void receiveSetsDataReadyAndReadsInOrder() {
        assertEquals(0, in(LSR) & LSR_DR);
        input.add((int) 'a');
        input.add((int) 'b');
        assertEquals(LSR_DR, in(LSR) & LSR_DR);
        assertEquals('a', in(RBR_THR_DLL));
        assertEquals('b', in(RBR_THR_DLL));
        assertEquals(0, in(LSR) & LSR_DR);
    }

    @Test
    void fifoHoldsSixteenAndOverrunIsReported() {
        out(IIR_FCR, FCR_ENABLE);
        for (int i = 0; i < 17; i++) input.add(i);
        assertEquals(LSR_DR, in(LSR) & (LSR_DR | LSR_OE));
        assertEquals(1, input.size(), "one byte left on the line: the FIFO is full");
        assertEquals(0xC1, in(IIR_FCR), "FIFO-enabled bits, no interrupt");
        assertEquals(0, in(RBR_THR_DLL), "oldest byte first");
        assertTrue(input.isEmpty(), "the freed slot took the waiting byte");
        out(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RX); // drops the 16 bytes queued
        assertEquals(0, in(LSR) & LSR_DR);
    }

    @Test
    void overrunWithoutFifo() {
        input.add(1);
        assertEquals(LSR_DR, in(LSR) & (LSR_DR | LSR_OE)); // holding register filled
        // One more arrives while the holding register is full: simulate by loopback transmit.
        out(MCR, MCR_LOOP);
        out(RBR_THR_DLL, 2);
        int lsr = in(LSR);
        assertEquals(LSR_DR | LSR_OE, lsr & (LSR_DR | LSR_OE));
        assertEquals(0, in(LSR) & LSR_OE, "reading LSR clears OE");
        assertEquals(1, in(RBR_THR_DLL));
    }

    @Test
    void loopbackFeedsTheReceiverAndMirrorsModemLines() {
        out(MCR, MCR_LOOP | MCR_DTR | MCR_OUT2);
        out(RBR_THR_DLL, 'x');
        assertEquals("", out.toString());
        assertEquals('x', in(RBR_THR_DLL));
        int msr = in(MSR);
        assertEquals(MSR_DSR | MSR_DCD, msr & 0xF0);
        out(MCR, MCR_LOOP | MCR_RTS | MCR_OUT1);
        msr = in(MSR);
        assertEquals(MSR_CTS | MSR_RI, msr & 0xF0);
        assertEquals(MSR_DCTS | MSR_DDSR | MSR_DDCD, msr & 0x0F);
        assertEquals(0, in(MSR) & 0x0F, "reading MSR clears the deltas");
        out(MCR, MCR_LOOP); // RI falls: trailing edge
        assertEquals(MSR_TERI, in(MSR) & MSR_TERI);
    }

    @Test
    void scratchRegister() {
        out(SCR, 0x5A);
        assertEquals(0x5A, in(SCR));
    }

    @Test
    void thrEmptyInterruptRaisedOnEnableAndClearedByIirRead() {
        out(MCR, MCR_OUT2);
        out(IER_DLM, IER_THRE);
        assertTrue(uart.interruptAsserted());
        assertEquals(IIR_THRE, in(IIR_FCR));
        assertFalse(uart.interruptAsserted());
        assertEquals(IIR_NONE, in(IIR_FCR));
        out(RBR_THR_DLL, 'z'); // transmitted at once: THR empty again
        assertEquals(IIR_THRE, in(IIR_FCR));
        assertEquals(List.of(true, false, true, false), irqEdges);
    }

    @Test
    void interruptPriorityLineStatusThenDataThenThre() {
        out(MCR, MCR_OUT2 | MCR_LOOP);
        out(IER_DLM, IER_RDA | IER_THRE | IER_RLS);
        out(RBR_THR_DLL, 1);
        out(RBR_THR_DLL, 2); // overrun
        assertEquals(IIR_RLS, in(IIR_FCR));
        in(LSR);
        assertEquals(IIR_RDA, in(IIR_FCR));
        in(RBR_THR_DLL);
        assertEquals(IIR_THRE, in(IIR_FCR));
    }

    @Test
    void fifoTriggerLevelAndTimeoutIdentification() {
        out(IIR_FCR, FCR_ENABLE | 0x40); // trigger level 4
        out(IER_DLM, IER_RDA);
        input.add(1);
        uart.pollInput();
        assertEquals(0xC0 | IIR_TIMEOUT, in(IIR_FCR));
        input.add(2); input.add(3); input.add(4);
        uart.pollInput();
        assertEquals(0xC0 | IIR_RDA, in(IIR_FCR));
    }

    @Test
    void interruptOutputNeedsOut2() {
        out(IER_DLM, IER_THRE);
        assertFalse(uart.interruptAsserted());
        assertEquals(IIR_THRE, in(IIR_FCR), "still identified internally");
    }

    @Test
    void modemStatusInterrupt() {
        out(MCR, MCR_LOOP);
        out(IER_DLM, IER_MS);
        out(MCR, MCR_LOOP | MCR_RTS);
        assertEquals(IIR_MS, in(IIR_FCR));
        in(MSR);
        assertEquals(IIR_NONE, in(IIR_FCR));
    }

    @Test
    void ierKeepsOnlyItsFourBits() {
        out(IER_DLM, 0xFF);
        assertEquals(0x0F, in(IER_DLM));
    }
}
