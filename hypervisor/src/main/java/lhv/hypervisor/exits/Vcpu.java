package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.PortIo;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.CheckedVmcs;
import lhv.hypervisor.trace.Console;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.vmcs.VmcsField;

import java.util.function.IntPredicate;
import java.util.function.IntSupplier;

/**
 * The hypervisor's view of its one virtual CPU while handling an exit: the current VMCS (checked
 * VMREAD/VMWRITE), the guest's general registers, the board it forwards I/O to, the emulated MSR
 * file, and the helpers every handler needs (advance RIP, inject an event).
 *
 * <p>Context: Java host (VMX root software). General registers other than RSP are not saved by a VM
 * exit (SDM 27.1): they still hold the guest's values in the processor, as they do on silicon when
 * a hypervisor's exit stub starts; RSP and RIP are in the guest-state area.
 */
public final class Vcpu {
    public final CheckedVmcs vmcs;
    public final Cpu cpu;
    public final PhysicalMemory memory;
    public final PortIo ports;
    /** True when a device of the board answers on a port (else accesses are logged, reads all ones). */
    public final IntPredicate deviceAt;
    /** The debug-exit device's status once the guest wrote it, else -1. */
    public final IntSupplier debugExitStatus;
    public final VmConfig config;
    public final Console console;
    public final MsrFile msrs;
    public final VmxCapabilities caps;
    /** Exits handled before the current one (hypercall 2 reports it). */
    public long exitsHandled;
    /** Value of the guest's TPR as seen through MOV CR8 exits. */
    public long cr8;

    public Vcpu(CheckedVmcs vmcs, Cpu cpu, PhysicalMemory memory, PortIo ports, IntPredicate deviceAt,
                IntSupplier debugExitStatus, VmConfig config, Console console, MsrFile msrs,
                VmxCapabilities caps) {
        this.vmcs = vmcs;
        this.cpu = cpu;
        this.memory = memory;
        this.ports = ports;
        this.deviceAt = deviceAt;
        this.debugExitStatus = debugExitStatus;
        this.config = config;
        this.console = console;
        this.msrs = msrs;
        this.caps = caps;
    }

    /** Guest general register {@code r} (0 = RAX ... 15 = R15); RSP from the VMCS. */
    public long gpr(int r) {
        return r == Cpu.RSP ? vmcs.read(VmcsField.GUEST_RSP) : cpu.gpr[r];
    }

    public void setGpr(int r, long value) {
        if (r == Cpu.RSP) vmcs.write(VmcsField.GUEST_RSP, value);
        else cpu.gpr[r] = value;
    }

    /** Writes EAX-style results: a 32-bit write zero-extends into the full register (SDM Vol. 1 3.4.1.1). */
    public void setGpr32(int r, long value) {
        setGpr(r, value & 0xFFFFFFFFL);
    }

    /**
     * Skips the instruction that exited: for exits caused by an instruction that did not execute
     * (CPUID, RDMSR, I/O, MOV CR, HLT, VMCALL...), the guest resumes after it (SDM 28.2.5: the exit
     * saves the RIP of the instruction and its length).
     */
    public void advanceRip(VmExit exit) {
        vmcs.write(VmcsField.GUEST_RIP, exit.rip + exit.length());
        // Blocking by STI / MOV SS covers only the instruction after them, which has now been
        // emulated: drop it, as the processor would after executing it (SDM 25.4.2 Table 25-3).
        long blocking = vmcs.read(VmcsField.GUEST_INTERRUPTIBILITY_INFO);
        if ((blocking & 3) != 0) vmcs.write(VmcsField.GUEST_INTERRUPTIBILITY_INFO, blocking & ~3L);
    }

    /** Injects a hardware exception at the next VM entry (SDM 25.8.3, 27.6). */
    public void injectException(int vector, int errorCode) {
        long info = vector | (3L << 8) | (1L << 31) | (errorCode >= 0 ? 1L << 11 : 0);
        vmcs.write(VmcsField.VM_ENTRY_INTR_INFO_FIELD, info);
        if (errorCode >= 0) vmcs.write(VmcsField.VM_ENTRY_EXCEPTION_ERROR_CODE, errorCode & 0xFFFFFFFFL);
    }

    /** Injects #GP(0), the answer to an MSR nobody implements (SDM Vol. 2 RDMSR/WRMSR). */
    public void injectGp0() {
        injectException(13, 0);
    }
}
