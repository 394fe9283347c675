package lhv.platform.devices.pic;

import lhv.platform.io.PortBus;
import lhv.platform.io.PortDevice;

/**
 * One Intel 8259A programmable interrupt controller (8259A data sheet): the command port (A0=0) and
 * the data port (A0=1). A PC has two, the master at 0x20/0x21 and the slave at 0xA0/0xA1.
 *
 * <p>Context: guest execution.
 *
 * <p>This issue models the programming interface only: the initialization sequence ICW1..ICW4, the
 * interrupt mask register (OCW1, readable), OCW2 commands and OCW3 register selection. Nothing
 * raises interrupt requests yet, so IRR and ISR read as 0; delivering interrupts to the processor is
 * a later issue.
 */
public final class Pic8259 implements PortDevice {
    public static final int MASTER_BASE = 0x20, SLAVE_BASE = 0xA0;

    private static final int ICW1 = 0x10, ICW1_IC4 = 0x01, ICW1_SNGL = 0x02;
    private static final int OCW3 = 0x08, OCW3_RR = 0x02, OCW3_RIS = 0x01;

    private final int base;
    private int imr;
    private int irr, isr;
    private int vectorBase;
    private int icw3;
    private int icw4;
    private boolean readIsr;
    /** Initialization progress: 0 = operational, 2 = expecting ICW2, 3 = ICW3, 4 = ICW4. */
    private int initStep;
    private boolean needIcw3, needIcw4;
    private int lastOcw2 = -1;

    public Pic8259(int base) {
        this.base = base;
    }

    public void attach(PortBus bus) {
        bus.register(base, 2, PortBus.BYTE, this);
    }

    @Override
    public int in(int port, int size) {
        if (port == base) return readIsr ? isr : irr;
        return imr;
    }

    @Override
    public void out(int port, int size, int value) {
        value &= 0xFF;
        if (port == base) {
            if ((value & ICW1) != 0) {
                // ICW1 starts initialization: IMR cleared, IRR read selected, then ICW2 follows.
                imr = 0;
                isr = 0;
                readIsr = false;
                needIcw3 = (value & ICW1_SNGL) == 0;
                needIcw4 = (value & ICW1_IC4) != 0;
                icw4 = 0;
                initStep = 2;
            } else if ((value & OCW3) != 0) {
                if ((value & OCW3_RR) != 0) readIsr = (value & OCW3_RIS) != 0;
            } else {
                lastOcw2 = value; // EOI / rotate commands: nothing is in service yet
            }
            return;
        }
        switch (initStep) {
            case 2 -> {
                vectorBase = value & 0xF8;
                initStep = needIcw3 ? 3 : needIcw4 ? 4 : 0;
            }
            case 3 -> {
                icw3 = value;
                initStep = needIcw4 ? 4 : 0;
            }
            case 4 -> {
                icw4 = value;
                initStep = 0;
            }
            default -> imr = value; // OCW1
        }
    }

    /** Interrupt mask register (OCW1). */
    public int mask() {
        return imr;
    }

    /** Vector of IR0 as programmed by ICW2. */
    public int vectorBase() {
        return vectorBase;
    }

    public int icw3() {
        return icw3;
    }

    public int icw4() {
        return icw4;
    }

    /** True while an initialization sequence awaits ICW2..ICW4. */
    public boolean initializing() {
        return initStep != 0;
    }

    /** The last OCW2 command byte written, or -1. */
    public int lastOcw2() {
        return lastOcw2;
    }
}
