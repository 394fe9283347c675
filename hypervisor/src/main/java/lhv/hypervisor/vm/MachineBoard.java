package lhv.hypervisor.vm;

import lhv.cpu.Cpu;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.PortIo;
import lhv.machine.Machine;
import lhv.vmx.Vmx;

/**
 * The {@link Board} of {@code hv run}: an lhv.machine Machine (processor with VMX, RAM, UART at
 * 0x3F8, debug-exit at 0xF4 and the other PC devices) whose UART writes to the hypervisor's console.
 *
 * <p>Context: Java host.
 */
public final class MachineBoard implements Board {
    private final Machine machine;

    private MachineBoard(Machine machine) {
        this.machine = machine;
    }

    /** The hypervisor of {@code hv run}: the seed's hypervisor on an lhv.machine board. */
    public static Hypervisor hypervisor() {
        return new Hypervisor(MachineBoard::create);
    }

    public static Board create(Hypervisor.RunSetup setup) {
        return new MachineBoard(Machine.builder().memory(setup.memorySize()).cpuModel(setup.model()).vmx(setup.model().vmx)
                .console(setup.console()).build());
    }

    @Override public Cpu cpu() { return machine.cpu(); }
    @Override public Vmx vmx() { return machine.cpu().vmx instanceof Vmx v ? v : null; }
    @Override public PhysicalMemory memory() { return machine.memory(); }
    @Override public PortIo ports() { return machine.ports(); }
    @Override public boolean hasDevice(int port) { return machine.ports().deviceAt(port) != null; }
    @Override public int debugExitStatus() { return machine.debugExit().exited() ? machine.debugExit().exitStatus() : -1; }
    @Override public void close() { machine.close(); }
}
