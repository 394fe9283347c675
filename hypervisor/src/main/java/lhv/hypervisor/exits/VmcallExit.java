package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.hypervisor.trace.ExitTrace.Hex;

import java.io.PrintStream;

/**
 * VMCALL (exit reason 18; VMCALL exits unconditionally in VMX non-root operation, SDM 26.1.2): the
 * guest's hypercalls. Function number in RAX, arguments in RBX, RCX; result in RAX (README
 * "Hypercalls"):
 * <ul>
 *   <li>0 EXIT: end the run with status RBX (0-255);
 *   <li>1 PRINT: write RCX bytes (at most 64 KiB) at guest address RBX to the console; RAX = bytes written;
 *   <li>2 EXIT_COUNT: RAX = number of VM exits handled before this one;
 *   <li>anything else: RAX = -1000 (unknown hypercall, KVM's -KVM_ENOSYS).
 * </ul>
 * Addresses are guest-linear, equal to machine-physical under the shared identity map.
 *
 * <p>Context: Java host (VMX root software).
 */
final class VmcallExit implements ExitHandler {
    public static final int EXIT = 0, PRINT = 1, EXIT_COUNT = 2;
    static final long UNKNOWN = -1000;
    static final int MAX_PRINT = 64 * 1024;

    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        long function = vcpu.cpu.gpr[Cpu.RAX];
        exit.note("hypercall", function);
        vcpu.advanceRip(exit);
        switch ((int) function) {
            case EXIT -> {
                int status = (int) (vcpu.cpu.gpr[Cpu.RBX] & 0xFF);
                exit.note("status", status);
                return ExitAction.guestEnded(status, "the guest asked to exit with status " + status);
            }
            case PRINT -> {
                long addr = vcpu.cpu.gpr[Cpu.RBX], len = vcpu.cpu.gpr[Cpu.RCX];
                exit.note("address", new Hex(addr));
                exit.note("bytes", len);
                if (len < 0 || len > MAX_PRINT || !vcpu.memory.isRam(addr, (int) Math.max(1, len))) {
                    vcpu.cpu.gpr[Cpu.RAX] = -1;
                    return ExitAction.RESUME;
                }
                byte[] bytes = new byte[(int) len];
                for (int i = 0; i < len; i++) bytes[i] = (byte) vcpu.memory.read(addr + i, 1);
                PrintStream out = vcpu.console.guestOutput();
                out.write(bytes, 0, bytes.length);
                out.flush();
                vcpu.cpu.gpr[Cpu.RAX] = len;
            }
            case EXIT_COUNT -> vcpu.cpu.gpr[Cpu.RAX] = vcpu.exitsHandled;
            default -> vcpu.cpu.gpr[Cpu.RAX] = UNKNOWN;
        }
        return ExitAction.RESUME;
    }
}
