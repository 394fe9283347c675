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
 * <p>String forms (INS/OUTS, with REP) are emulated element by element as the processor runs them:
 * the address size and the segment come from the VM-exit instruction information and the
 * guest-linear address of the first element (SDM 28.2.1, 28.2.5), so (E/R)SI/(E/R)DI and the
 * (E/R)CX count wrap and are written back with the address size (a 32-bit write zero-extends, a
 * 16-bit one merges). Guest-linear addresses are taken as machine-physical, which they are under
 * the identity map the guest shares with the host (no EPT). A REP form does at most
 * {@link #CHUNK} elements per exit and resumes the guest at the same instruction with the count
 * reduced (as an interrupted REP instruction does, SDM Vol. 2 REP), so a huge count cannot hold the
 * hypervisor: the run's exit and time limits apply between chunks.
 *
 * <p>Context: Java host (VMX root software).
 */
final class IoInstructionExit implements ExitHandler {

    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        IoAccess io = IoAccess.decode(exit.qualification());
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
        } else if (!string(io, device, mask, vcpu, exit)) {
            return ExitAction.RESUME;   // elements left: the guest executes the instruction again
        }
        vcpu.advanceRip(exit);
        int status = vcpu.debugExitStatus.getAsInt();
        if (status >= 0) return ExitAction.guestEnded(status, "the guest wrote the debug-exit port (status " + status + ")");
        return ExitAction.RESUME;
    }

    /** Elements one exit emulates of a REP INS/OUTS. */
    static final int CHUNK = 4096;

    /**
     * INS/OUTS with or without REP: (E/R)CX elements from/to seg:(E/R)SI or ES:(E/R)DI, stepping by
     * the size, backwards when DF=1. Returns false when a REP form has elements left.
     */
    private static boolean string(IoAccess io, boolean device, long mask, Vcpu vcpu, VmExit exit) {
        long rflags = vcpu.vmcs.read(VmcsField.GUEST_RFLAGS);
        long step = (rflags & Rflags.DF) != 0 ? -io.size() : io.size();
        // SDM 28.2.5, instruction information for INS/OUTS: bits 9:7 address size (0 16, 1 32, 2 64 bits)
        int addressBytes = 2 << ((vcpu.vmcs.read32(VmcsField.VMX_INSTRUCTION_INFO) >>> 7) & 3);
        long addressMask = addressBytes == 8 ? -1L : (1L << (8 * addressBytes)) - 1;
        int reg = io.in() ? Cpu.RDI : Cpu.RSI;
        long offset = vcpu.cpu.gpr[reg] & addressMask;
        // The first element's guest-linear address holds the segment base (SDM 28.2.1); outside
        // 64-bit mode linear addresses wrap at 4 GiB.
        long base = vcpu.vmcs.read(VmcsField.GUEST_LINEAR_ADDRESS) - offset;
        boolean long64 = (vcpu.vmcs.read32(VmcsField.GUEST_CS_AR_BYTES) & (1 << 13)) != 0;
        long count = io.rep() ? vcpu.cpu.gpr[Cpu.RCX] & addressMask : 1;
        long n = Math.min(count, CHUNK);
        for (long i = 0; i < n; i++) {
            long addr = base + offset;
            if (!long64) addr &= 0xFFFF_FFFFL;
            if (io.in()) {
                long v = device ? vcpu.ports.in(io.port(), io.size()) & mask : mask;
                vcpu.memory.write(addr, io.size(), v);
                vcpu.cpu.codeMap.writtenRange(addr, io.size());
            } else {
                long v = vcpu.memory.read(addr, io.size());
                if (device) vcpu.ports.out(io.port(), io.size(), (int) v);
            }
            offset = (offset + step) & addressMask;
        }
        // written with the address size: 64 bits whole, 32 bits zero-extended, 16 bits merged
        vcpu.cpu.interpreter.writeRegister(reg, addressBytes, offset);
        if (io.rep()) vcpu.cpu.interpreter.writeRegister(Cpu.RCX, addressBytes, count - n);
        if (exit.tracing()) exit.note("elements", n);
        return n == count;
    }
}
