package lhv.hypervisor.vm;

import lhv.cpu.Cpu;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.PortIo;
import lhv.vmx.Vmx;

/**
 * What the hypervisor needs from the machine it runs on: the processor (with its VMX), machine
 * memory, the port bus with its devices (UART 0x3F8, debug-exit 0xF4), and a way to give it all
 * back. {@link MachineBoard} provides it from lhv.machine.
 *
 * <p>Context: Java host.
 */
public interface Board extends AutoCloseable {
    Cpu cpu();

    /** The processor's VMX, or null for a model without VMX. */
    Vmx vmx();

    PhysicalMemory memory();

    PortIo ports();

    /** True when a device answers at {@code port}. */
    boolean hasDevice(int port);

    /** The debug-exit status (v << 1) | 1 once the guest wrote port 0xF4, else -1. */
    int debugExitStatus();

    /** Frees machine memory and devices. */
    @Override
    void close();
}
