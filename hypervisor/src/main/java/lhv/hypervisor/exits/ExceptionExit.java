package lhv.hypervisor.exits;

import lhv.cpu.Vector;
import lhv.hypervisor.trace.ExitTrace.Hex;
import lhv.vmx.vmcs.VmcsField;

/**
 * Exception or NMI (exit reason 0): an exception whose exception-bitmap bit is set (for #PF, as the
 * error-code mask/match decide, SDM 26.2). The exception is reported, then re-injected into the
 * guest through the VM-entry interruption-information field — unless the config lists it under
 * stop-on-exceptions, which ends the run. For #PF the exit happens before CR2 is written (SDM
 * 27.1), so the hypervisor loads CR2 with the exit qualification before re-injecting; software
 * exceptions (INT3, INTO) need the instruction length for the injection (SDM 27.6.1.1).
 *
 * <p>Context: Java host (VMX root software).
 */
final class ExceptionExit implements ExitHandler {
    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        long info = vcpu.vmcs.read(VmcsField.VM_EXIT_INTR_INFO);
        int vector = (int) info & 0xFF, type = (int) (info >>> 8) & 7;
        boolean hasError = (info & (1L << 11)) != 0;
        int error = hasError ? (int) vcpu.vmcs.read(VmcsField.VM_EXIT_INTR_ERROR_CODE) : -1;
        Vector v = Vector.of(vector);
        String name = type == 2 ? "NMI" : v != null ? "#" + v.name() : "vector " + vector;
        exit.note("vector", vector);
        exit.note("exception", name);
        exit.note("type", type);
        if (hasError) exit.note("error_code", new Hex(error & 0xFFFFFFFFL));
        if (vector == 14) exit.note("address", new Hex(exit.qualification()));
        String what = name + (hasError ? "(0x" + Integer.toHexString(error) + ")" : "") + " at rip 0x" + Long.toHexString(exit.rip)
                + (vector == 14 ? " address 0x" + Long.toHexString(exit.qualification()) : "");
        if ((vcpu.config.stopOnExceptions() & (1 << vector)) != 0 && type != 2) {
            return ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "guest exception " + what + " (configured to stop)");
        }
        // The exit may have happened while another event was being delivered (IDT-vectoring
        // information, SDM 28.2.4): reflecting the new exception then follows the double-fault
        // rules of SDM 6.15 Table 6-5 as the processor would have applied them.
        long vectoring = vcpu.vmcs.read(VmcsField.IDT_VECTORING_INFO_FIELD);
        if ((vectoring & (1L << 31)) != 0 && ((vectoring >>> 8) & 7) == 3 && type == 3) {
            Vector first = Vector.of((int) vectoring & 0xFF);
            exit.note("during_delivery_of", first != null ? "#" + first.name() : "vector " + (vectoring & 0xFF));
            if (first != null && v != null) {
                if (first == Vector.DF && (v.kind == Vector.Kind.CONTRIBUTORY || v.kind == Vector.Kind.PAGE_FAULT)) {
                    return ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "guest triple fault: " + what + " while delivering #DF");
                }
                boolean doubleFault = first.kind == Vector.Kind.CONTRIBUTORY && v.kind == Vector.Kind.CONTRIBUTORY
                        || first.kind == Vector.Kind.PAGE_FAULT && (v.kind == Vector.Kind.CONTRIBUTORY || v.kind == Vector.Kind.PAGE_FAULT);
                if (doubleFault) {
                    vcpu.console.step("guest exception " + what + " while delivering #" + first.name() + ": injecting #DF");
                    vcpu.injectException(Vector.DF.number, 0);
                    return ExitAction.RESUME;
                }
            }
        }
        vcpu.console.step("guest exception " + what + ": re-injecting");
        if (vector == 14) vcpu.cpu.cr2 = exit.qualification();
        // Re-inject: vector, type, deliver-error-code and valid bits carry over (SDM 25.8.3).
        long inject = (info & (0xFFL | 7L << 8 | 1L << 11)) | (1L << 31);
        vcpu.vmcs.write(VmcsField.VM_ENTRY_INTR_INFO_FIELD, inject);
        if (hasError) vcpu.vmcs.write(VmcsField.VM_ENTRY_EXCEPTION_ERROR_CODE, error & 0xFFFFFFFFL);
        if (type == 4 || type == 5 || type == 6) vcpu.vmcs.write(VmcsField.VM_ENTRY_INSTRUCTION_LEN, exit.length());
        return ExitAction.RESUME;
    }
}
