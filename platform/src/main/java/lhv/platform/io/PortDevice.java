package lhv.platform.io;

/**
 * A device on the I/O bus. The bus calls it only for ports it registered and only with access sizes
 * it declared ({@link PortBus#register}); wider accesses to a byte-only device are split by the bus.
 *
 * <p>Context: guest execution (IN/OUT/INS/OUTS after the processor's permission checks) and the hosted
 * hypervisor forwarding trapped accesses.
 */
public interface PortDevice {
    /** Value read from {@code port}, {@code size} bytes wide (low bits used). */
    int in(int port, int size);

    /** {@code value} written to {@code port}, {@code size} bytes wide. */
    void out(int port, int size, int value);
}
