package lhv.cpu.bus;

/**
 * The processor's I/O address space (ports 0..0xFFFF), implemented by the board.
 *
 * <p>Context: called by IN/OUT/INS/OUTS after the processor's own permission checks (IOPL, TSS
 * I/O bitmap) and, in VMX non-root operation, after the VMX layer decided the access does not exit.
 */
public interface PortIo {

    /** Reads {@code size} (1, 2 or 4) bytes from {@code port}; unclaimed ports read as all ones. */
    int in(int port, int size);

    /** Writes the low {@code size} (1, 2 or 4) bytes of {@code value} to {@code port}. */
    void out(int port, int size, int value);

    /** A bus with nothing on it. */
    PortIo NONE = new PortIo() {
        @Override public int in(int port, int size) { return size == 4 ? -1 : (1 << (size * 8)) - 1; }
        @Override public void out(int port, int size, int value) { }
    };
}
