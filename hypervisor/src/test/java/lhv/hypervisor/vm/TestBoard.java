package lhv.hypervisor.vm;

import lhv.cpu.Cpu;
import lhv.cpu.StopReason;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.PortIo;
import lhv.cpu.bus.RamOnlyMemory;
import lhv.cpu.model.CpuModel;
import lhv.vmx.Vmx;
import lhv.vmx.caps.VmxCapabilities;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;

/**
 * A minimal board for end-to-end tests of the hypervisor without the platform module: off-heap
 * RAM, a processor with VMX attached, and the two devices of the guest conventions — the UART at
 * 0x3F8 (transmit register captured, line status "transmitter empty", scratch register at +7) and
 * the debug-exit port 0xF4 ((v << 1) | 1, then the processor stops). Everything else is an empty bus.
 *
 * <p>Context: test fixture (Java host).
 */
final class TestBoard implements Board {
    final Arena arena = Arena.ofShared();
    final RamOnlyMemory ram;
    final Cpu cpu;
    final Vmx vmx;
    final ByteArrayOutputStream uart = new ByteArrayOutputStream();
    int scratch;
    int debugExit = -1;
    boolean closed;

    TestBoard(Hypervisor.RunSetup setup) {
        ram = new RamOnlyMemory(arena.allocate(setup.memorySize(), 4096));
        cpu = new Cpu(setup.model(), ram);
        vmx = setup.model().vmx ? Vmx.attach(cpu, VmxCapabilities.forModel(setup.model())) : null;
        cpu.io = new PortIo() {
            @Override
            public int in(int port, int size) {
                if (port == 0x3FD) return 0x60;
                if (port == 0x3FF) return scratch;
                if (port >= 0x3F8 && port < 0x400) return 0;
                return size == 4 ? -1 : (1 << (size * 8)) - 1;
            }

            @Override
            public void out(int port, int size, int value) {
                if (port == 0x3F8) uart.write(value & 0xFF);
                else if (port == 0x3FF) scratch = value & 0xFF;
                else if (port == 0xF4) {
                    debugExit = ((value & 0xFF) << 1) | 1;
                    cpu.requestStop(StopReason.REQUESTED);
                }
            }
        };
    }

    static CpuModel model() {
        return CpuModel.withVmx();
    }

    String output() {
        return uart.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Override public Cpu cpu() { return cpu; }
    @Override public Vmx vmx() { return vmx; }
    @Override public PhysicalMemory memory() { return ram; }
    @Override public PortIo ports() { return cpu.io; }
    @Override public boolean hasDevice(int port) { return port >= 0x3F8 && port < 0x400 || port == 0xF4; }
    @Override public int debugExitStatus() { return debugExit; }

    @Override
    public void close() {
        closed = true;
        arena.close();
    }
}
