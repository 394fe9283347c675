package lhv.hypervisor.setup;

import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.ControlSelection.Controls;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code hv check} says beyond the VM-entry checks: a VMCS can pass every check and still not
 * be what the configuration asked for. Compares each control word in the VMCS with the SDM's way of
 * computing it from the desired bits (SDM A.3.1: desired bits, plus every must-be-1 bit, and only
 * bits whose allowed-1 setting is 1), and each MSR-area count with the processor's recommended
 * maximum (SDM A.6) — the places where the seed's kernel module went wrong.
 *
 * <p>Context: Java host (VMX root software), after the VMCS is built, before any VM entry.
 */
public final class ControlLint {
    private ControlLint() { }

    public static List<String> check(VmConfig config, VmxCapabilities caps, CheckedVmcs vmcs) {
        VmConfig intended = new VmConfig(config.memorySize(), config.guest(), config.controls(), config.ioTraps(),
                config.msrReadTraps(), config.msrWriteTraps(), config.cr0(), config.cr4(), config.exceptionBitmap(),
                config.stopOnExceptions(), config.pageFaultErrorCodeMask(), config.pageFaultErrorCodeMatch(),
                config.cr3Targets(), config.exitMsrStore(), config.exitMsrLoad(), config.entryMsrLoad(), config.exposeVmx(),
                config.preemptionTimer(), List.of(), config.origin());
        Controls expected = ControlSelection.select(intended, caps);
        List<String> out = new ArrayList<>();
        word(out, ControlWord.PIN_BASED, VmcsField.PIN_BASED_VM_EXEC_CONTROL, vmcs.read32(VmcsField.PIN_BASED_VM_EXEC_CONTROL), expected, caps);
        int primary = vmcs.read32(VmcsField.CPU_BASED_VM_EXEC_CONTROL);
        word(out, ControlWord.PRIMARY_PROCESSOR_BASED, VmcsField.CPU_BASED_VM_EXEC_CONTROL, primary, expected, caps);
        int mustBeOne = caps.mustBeOne(ControlWord.PRIMARY_PROCESSOR_BASED);
        if ((primary & mustBeOne) != mustBeOne) {
            out.add("[SDM B.1.2] CPU_BASED_VM_EXEC_CONTROL (0x4002) holds what looks like the secondary controls; "
                    + "they belong in SECONDARY_VM_EXEC_CONTROL (0x401e), used when 'activate secondary controls' is set");
        }
        if (PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.isSet(primary)) {
            word(out, ControlWord.SECONDARY_PROCESSOR_BASED, VmcsField.SECONDARY_VM_EXEC_CONTROL,
                    vmcs.read32(VmcsField.SECONDARY_VM_EXEC_CONTROL), expected, caps);
        }
        word(out, ControlWord.EXIT, VmcsField.VM_EXIT_CONTROLS, vmcs.read32(VmcsField.VM_EXIT_CONTROLS), expected, caps);
        word(out, ControlWord.ENTRY, VmcsField.VM_ENTRY_CONTROLS, vmcs.read32(VmcsField.VM_ENTRY_CONTROLS), expected, caps);
        int max = caps.maxMsrListSize();
        area(out, VmcsField.VM_EXIT_MSR_STORE_COUNT, VmcsField.VM_EXIT_MSR_STORE_ADDR, vmcs, max, "25.7.2");
        area(out, VmcsField.VM_EXIT_MSR_LOAD_COUNT, VmcsField.VM_EXIT_MSR_LOAD_ADDR, vmcs, max, "25.7.2");
        area(out, VmcsField.VM_ENTRY_MSR_LOAD_COUNT, VmcsField.VM_ENTRY_MSR_LOAD_ADDR, vmcs, max, "25.8.2");
        return out;
    }

    private static void word(List<String> out, ControlWord w, VmcsField field, int value, Controls expected, VmxCapabilities caps) {
        int want = expected.of(w);
        if (value == want) return;
        int extra = value & ~want, missing = want & ~value;
        out.add("[SDM A.3.1] " + field + " = 0x" + Integer.toHexString(value) + " is not (desired | must-be-1) & allowed-1 = 0x"
                + Integer.toHexString(want) + (extra != 0 ? "; set without being asked for: " + String.join(", ", w.decode(extra)) : "")
                + (missing != 0 ? "; missing: " + String.join(", ", w.decode(missing)) : ""));
    }

    private static void area(List<String> out, VmcsField count, VmcsField addr, CheckedVmcs vmcs, int max, String section) {
        long n = vmcs.read(count);
        if (n > max) {
            out.add("[SDM " + section + ", A.6] " + count + " = " + n + " exceeds the recommended maximum " + max
                    + " (512 * (IA32_VMX_MISC[27:25] + 1)); it looks like an address - is " + addr + " = 0x"
                    + Long.toHexString(vmcs.read(addr)) + " the count?");
        }
    }
}
