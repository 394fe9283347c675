package lhv.hypervisor.exits;

import java.util.HashMap;
import java.util.Map;

/**
 * The hypervisor's emulated MSRs: for every MSR whose write bit is set in the MSR bitmap, the value
 * the guest wrote (it never reaches the processor) and reads back. Each starts at the value the
 * processor had when the VM was set up; an MSR the processor does not implement is absent, and the
 * exit handlers answer its access with #GP(0). Read-only traps need no entry: the read is served
 * from the guest's real value.
 *
 * <p>Context: Java host (VMX root software), RDMSR/WRMSR exit handlers.
 */
public final class MsrFile {
    private final Map<Integer, Long> values = new HashMap<>();

    public void define(int index, long initial) {
        values.put(index, initial);
    }

    public boolean has(int index) {
        return values.containsKey(index);
    }

    public long read(int index) {
        return values.get(index);
    }

    public void write(int index, long value) {
        values.put(index, value);
    }

    /**
     * The guest's actual value of an MSR the file does not emulate: the SYSENTER MSRs are switched by
     * VM entry/exit, so the guest's value is in the guest-state area (SDM 27.3.1); every other MSR
     * is shared with the host (the seed switches nothing else) and read from the processor.
     * Throws CpuFault (#GP) for an MSR the processor does not implement.
     */
    public static long guestValue(Vcpu vcpu, int index) {
        return switch (index) {
            case lhv.cpu.Msr.IA32_SYSENTER_CS -> vcpu.vmcs.read(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_CS);
            case lhv.cpu.Msr.IA32_SYSENTER_ESP -> vcpu.vmcs.read(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_ESP);
            case lhv.cpu.Msr.IA32_SYSENTER_EIP -> vcpu.vmcs.read(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_EIP);
            default -> vcpu.cpu.sys.rdmsr(index);
        };
    }

    /** Writes the guest's actual value of an MSR the file does not emulate (see {@link #guestValue}). */
    public static void setGuestValue(Vcpu vcpu, int index, long value) {
        switch (index) {
            case lhv.cpu.Msr.IA32_SYSENTER_CS -> vcpu.vmcs.write(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_CS, value);
            case lhv.cpu.Msr.IA32_SYSENTER_ESP -> vcpu.vmcs.write(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_ESP, value);
            case lhv.cpu.Msr.IA32_SYSENTER_EIP -> vcpu.vmcs.write(lhv.vmx.vmcs.VmcsField.GUEST_SYSENTER_EIP, value);
            default -> vcpu.cpu.sys.wrmsr(index, value);
        }
    }
}
