package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.cpu.Rflags;
import lhv.hypervisor.trace.ExitTrace.Hex;
import lhv.vmx.exit.ExitQualification.IoAccess;
import lhv.vmx.vmcs.VmcsField;

/**
 * I/O instruction (exit reason 30) on a port whose I/O-bitmap bit is set (SDM 26.1.3): the access
 * is traced, then carried out on the board's device at that port, as if the bit had been clear. A
 * port without a device is logged; reads return all ones (an undriven ISA bus). Writes to the
 * debug-exit port end the run with its status.
 *
 * <p>String forms (INS/OUTS, with REP) are emulated element by element on guest-linear addresses,
 * which equal machine-physical addresses because the guest shares the host's identity map (no EPT).
 *
 * <p>Context: Java host (VMX root software).
 */
final class IoInstructionExit implements ExitHandler {

    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        IoAccess io = IoAccess.decode(exit.qualification);
        if (exit.tracing()) {
            exit.note("port", new Hex(io.port()));
            exit.note("size", io.size());
            exit.note("direction", io.in() ? "in" : "out");
            exit.note("string", io.string());
            exit.note("rep", io.rep());
            exit.note("bitmap", io.port() < 0x8000 ? "A" : "B");
        }
        boolean device = vcpu.deviceAt.test(io.port());
        long mask = io.size() == 4 ? 0xFFFFFFFFL : (1L << (io.size() * 8)) - 1;
        if (!io.string()) {
            if (io.in()) {
                long v = device ? vcpu.ports.in(io.port(), io.size()) & mask : mask;
                long rax = vcpu.cpu.gpr[Cpu.RAX];
                // IN to EAX zero-extends into RAX; IN to AL/AX leaves the other bits (SDM Vol. 1 3.4.1.1).
                vcpu.cpu.gpr[Cpu.RAX] = io.size() == 4 ? v : (rax & ~mask) | v;
                exit.note("value", new Hex(v));
                if (!device) vcpu.console.info("I/O read of port 0x" + Integer.toHexString(io.port()) + ": no device, all ones");
            } else {
                long v = vcpu.cpu.gpr[Cpu.RAX] & mask;
                exit.note("value", new Hex(v));
                if (device) vcpu.ports.out(io.port(), io.size(), (int) v);
                else vcpu.console.info("I/O write of 0x" + Long.toHexString(v) + " to port 0x" + Integer.toHexString(io.port()) + ": no device");
            }
        } else {
            string(io, device, mask, vcpu);
        }
        vcpu.advanceRip(exit);
        int status = vcpu.debugExitStatus.getAsInt();
        if (status >= 0) return ExitAction.guestEnded(status, "the guest wrote the debug-exit port (status " + status + ")");
        return ExitAction.RESUME;
    }

    /** INS/OUTS with or without REP: RCX elements, RSI/RDI stepping by the size, backwards when DF=1. */
    private static void string(IoAccess io, boolean device, long mask, Vcpu vcpu) {
        long rflags = vcpu.vmcs.read(VmcsField.GUEST_RFLAGS);
        long step = (rflags & Rflags.DF) != 0 ? -io.size() : io.size();
        long count = io.rep() ? vcpu.cpu.gpr[Cpu.RCX] : 1;
        int reg = io.in() ? Cpu.RDI : Cpu.RSI;
        long addr = vcpu.cpu.gpr[reg];
        for (long i = 0; i < count; i++) {
            if (io.in()) {
                long v = device ? vcpu.ports.in(io.port(), io.size()) & mask : mask;
                vcpu.memory.write(addr, io.size(), v);
                vcpu.cpu.codeMap.writtenRange(addr, io.size());
            } else {
                long v = vcpu.memory.read(addr, io.size());
                if (device) vcpu.ports.out(io.port(), io.size(), (int) v);
            }
            addr += step;
        }
        vcpu.cpu.gpr[reg] = addr;
        if (io.rep()) vcpu.cpu.gpr[Cpu.RCX] = 0;
    }
}
