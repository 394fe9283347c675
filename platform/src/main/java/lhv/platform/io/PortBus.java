package lhv.platform.io;

import lhv.cpu.bus.PortIo;

import java.io.PrintStream;

/**
 * The board's I/O address space (ports 0..0xFFFF): one device per port, looked up by array index.
 *
 * <p>Context: guest execution through {@link PortIo}; device registration by the Java host while it
 * assembles the machine.
 *
 * <p>Access widths follow the ISA bus: a device declares which sizes it decodes (1, 2 and/or 4
 * bytes); a wider access to a device that only decodes narrower ones is split into accesses to
 * consecutive ports, lowest port first, each reaching whichever device owns that port (this is how
 * {@code inw} from a byte-wide 8250 register pair behaves on a PC). Unclaimed ports read as all ones
 * (the pulled-up data bus) and ignore writes; {@link #logUnhandled} reports them.
 */
public final class PortBus implements PortIo {
    /** Access-size masks for {@link #register}. */
    public static final int BYTE = 1, WORD = 2, DWORD = 4, ANY = BYTE | WORD | DWORD;

    private final PortDevice[] devices = new PortDevice[0x10000];
    private final byte[] widths = new byte[0x10000];
    private PrintStream unhandledLog;

    /**
     * Claims ports {@code [first, first+count)} for {@code device}, which decodes accesses of the sizes
     * in {@code sizes} (a mask of {@link #BYTE}, {@link #WORD}, {@link #DWORD}).
     */
    public void register(int first, int count, int sizes, PortDevice device) {
        if (first < 0 || count <= 0 || first + count > 0x10000 || (sizes & BYTE) == 0 || (sizes & ~ANY) != 0) {
            throw new IllegalArgumentException("bad port range " + Integer.toHexString(first) + "+" + count);
        }
        for (int p = first; p < first + count; p++) {
            if (devices[p] != null) {
                throw new IllegalArgumentException(String.format("port %#x is already claimed", p));
            }
        }
        for (int p = first; p < first + count; p++) {
            devices[p] = device;
            widths[p] = (byte) sizes;
        }
    }

    /** The device owning {@code port}, or null. */
    public PortDevice deviceAt(int port) {
        return devices[port & 0xFFFF];
    }

    /** Reports every access to an unclaimed port on {@code log} (null: silent). */
    public void logUnhandled(PrintStream log) {
        this.unhandledLog = log;
    }

    @Override
    public int in(int port, int size) {
        port &= 0xFFFF;
        PortDevice d = devices[port];
        if (d != null && (widths[port] & size) != 0 && sameDevice(port, size, d)) {
            return d.in(port, size) & mask(size);
        }
        if (unclaimed(port, size)) {
            if (unhandledLog != null) unhandledLog.printf("hv: unhandled I/O: in%s port %#06x%n", suffix(size), port);
            return mask(size);
        }
        int v = 0;
        for (int i = 0; i < size; i++) v |= in((port + i) & 0xFFFF, 1) << (8 * i);
        return v;
    }

    @Override
    public void out(int port, int size, int value) {
        port &= 0xFFFF;
        PortDevice d = devices[port];
        if (d != null && (widths[port] & size) != 0 && sameDevice(port, size, d)) {
            d.out(port, size, value & mask(size));
            return;
        }
        if (unclaimed(port, size)) {
            if (unhandledLog != null) {
                unhandledLog.printf("hv: unhandled I/O: out%s port %#06x value %#x%n", suffix(size), port, value & mask(size));
            }
            return;
        }
        for (int i = 0; i < size; i++) out((port + i) & 0xFFFF, 1, (value >>> (8 * i)) & 0xFF);
    }

    /** True when every port of a {@code size}-byte access at {@code port} belongs to {@code d}. */
    private boolean sameDevice(int port, int size, PortDevice d) {
        for (int i = 1; i < size; i++) {
            if (port + i > 0xFFFF || devices[port + i] != d) return false;
        }
        return true;
    }

    private boolean unclaimed(int port, int size) {
        for (int i = 0; i < size; i++) {
            if (devices[(port + i) & 0xFFFF] != null) return false;
        }
        return true;
    }

    private static int mask(int size) {
        return size == 4 ? -1 : (1 << (8 * size)) - 1;
    }

    private static String suffix(int size) {
        return size == 1 ? "b" : size == 2 ? "w" : "l";
    }
}
