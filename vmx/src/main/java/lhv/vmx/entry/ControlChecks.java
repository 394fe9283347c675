package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Checks on the VMX controls, SDM Vol. 3C 27.2.1: VM-execution controls (27.2.1.1), VM-exit controls
 * (27.2.1.2) and VM-entry controls (27.2.1.3). A failure makes VMLAUNCH/VMRESUME fail with
 * VMfailValid, error 7.
 *
 * <p>Rules that only concern controls this processor never allows to be 1 (EPT, VPID, unrestricted
 * guest, APIC virtualization, posted interrupts, VMCS shadowing, PML, VM functions, SMM entry, ...)
 * are not separate units: the reserved-bit check of the control word already rejects any VMCS that
 * sets those controls (see docs/VMX-ENTRY-CHECKS.md).
 *
 * <p>Context: evaluated by VM entry in VMX root operation.
 */
final class ControlChecks {
    private ControlChecks() { }

    static final String EXEC = "27.2.1.1", EXIT = "27.2.1.2", ENTRY = "27.2.1.3";

    private static EntryCheck c(String id, String section, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, section, Phase.CONTROLS, 0, r, d);
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        // ---- 27.2.1.1 VM-execution control fields ----
        l.add(reservedBits("controls.pin.reserved", EXEC, ControlWord.PIN_BASED, PIN_BASED_VM_EXEC_CONTROL));
        l.add(reservedBits("controls.proc.reserved", EXEC, ControlWord.PRIMARY_PROCESSOR_BASED, CPU_BASED_VM_EXEC_CONTROL));
        l.add(c("controls.proc2.reserved", EXEC,
                (s, x) -> !PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.isSet(proc(s))
                        || x.caps().isValidSetting(ControlWord.SECONDARY_PROCESSOR_BASED, s.getInt(SECONDARY_VM_EXEC_CONTROL)),
                (s, x) -> reservedMessage(x, ControlWord.SECONDARY_PROCESSOR_BASED, SECONDARY_VM_EXEC_CONTROL, s)));
        l.add(c("controls.cr3-target-count", EXEC,
                (s, x) -> s.getInt(CR3_TARGET_COUNT) <= x.caps().cr3TargetCount() && s.getInt(CR3_TARGET_COUNT) >= 0,
                (s, x) -> "CR3-target count must not exceed " + x.caps().cr3TargetCount()
                        + " (IA32_VMX_MISC[24:16]) (CR3-target count = " + Integer.toUnsignedString(s.getInt(CR3_TARGET_COUNT)) + ")"));
        l.add(pageAddress("controls.io-bitmap-a.address", IO_BITMAP_A, PrimaryProcessorControl.USE_IO_BITMAPS));
        l.add(pageAddress("controls.io-bitmap-b.address", IO_BITMAP_B, PrimaryProcessorControl.USE_IO_BITMAPS));
        l.add(pageAddress("controls.msr-bitmap.address", MSR_BITMAP, PrimaryProcessorControl.USE_MSR_BITMAPS));
        l.add(pageAddress("controls.virtual-apic.address", VIRTUAL_APIC_PAGE_ADDR, PrimaryProcessorControl.USE_TPR_SHADOW));
        // With "use TPR shadow" and no virtual-interrupt delivery (never offered here): TPR threshold 31:4 zero.
        l.add(c("controls.tpr-threshold.reserved", EXEC,
                (s, x) -> !on(s, PrimaryProcessorControl.USE_TPR_SHADOW) || (s.getInt(TPR_THRESHOLD) & ~0xF) == 0,
                (s, x) -> "with \"use TPR shadow\" = 1, bits 31:4 of the TPR threshold must be 0 (TPR threshold = "
                        + hex(s.getInt(TPR_THRESHOLD) & 0xFFFF_FFFFL) + ")"));
        // ... and without APIC-access virtualization: threshold bits 3:0 <= VTPR bits 7:4.
        l.add(c("controls.tpr-threshold.vtpr", EXEC,
                (s, x) -> !on(s, PrimaryProcessorControl.USE_TPR_SHADOW)
                        || (s.getInt(TPR_THRESHOLD) & 0xF) <= vtprPriority(s, x),
                (s, x) -> "with \"use TPR shadow\" = 1, TPR threshold bits 3:0 must not exceed VTPR bits 7:4 (TPR threshold = "
                        + (s.getInt(TPR_THRESHOLD) & 0xF) + ", VTPR at " + hex(s.get(VIRTUAL_APIC_PAGE_ADDR) + 0x80)
                        + " = " + hex(x.memory().read(s.get(VIRTUAL_APIC_PAGE_ADDR) + 0x80, 1)) + ")"));
        l.add(c("controls.nmi.virtual-nmis-requires-nmi-exiting", EXEC,
                (s, x) -> on(s, PinBasedControl.NMI_EXITING) || !on(s, PinBasedControl.VIRTUAL_NMIS),
                (s, x) -> "\"virtual NMIs\" = 1 requires \"NMI exiting\" = 1 (pin-based controls = " + hex(pin(s)) + ")"));
        l.add(c("controls.nmi.nmi-window-requires-virtual-nmis", EXEC,
                (s, x) -> on(s, PinBasedControl.VIRTUAL_NMIS) || !on(s, PrimaryProcessorControl.NMI_WINDOW_EXITING),
                (s, x) -> "\"NMI-window exiting\" = 1 requires \"virtual NMIs\" = 1 (pin-based controls = " + hex(pin(s))
                        + ", primary processor-based controls = " + hex(proc(s) & 0xFFFF_FFFFL) + ")"));

        // ---- 27.2.1.2 VM-exit control fields ----
        l.add(reservedBits("controls.exit.reserved", EXIT, ControlWord.EXIT, VM_EXIT_CONTROLS));
        l.add(c("controls.exit.save-preemption-timer-requires-timer", EXIT,
                (s, x) -> on(s, PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER) || !on(s, ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE),
                (s, x) -> "\"save VMX-preemption timer value\" = 1 requires \"activate VMX-preemption timer\" = 1 (VM-exit controls = "
                        + hex(exitControls(s) & 0xFFFF_FFFFL) + ", pin-based controls = " + hex(pin(s)) + ")"));
        l.addAll(msrArea("controls.exit.msr-store-area", EXIT, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR));
        l.addAll(msrArea("controls.exit.msr-load-area", EXIT, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR));

        // ---- 27.2.1.3 VM-entry control fields ----
        l.add(reservedBits("controls.entry.reserved", ENTRY, ControlWord.ENTRY, VM_ENTRY_CONTROLS));
        l.add(c("controls.entry.intr-info.type", ENTRY,
                (s, x) -> !injecting(s) || (injectType(s) != 1
                        && (injectType(s) != TYPE_OTHER_EVENT || x.caps().allows(PrimaryProcessorControl.MONITOR_TRAP_FLAG))),
                (s, x) -> "VM-entry interruption information: interruption type " + injectType(s)
                        + " is reserved (interruption information = " + hex(intrInfo(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("controls.entry.intr-info.nmi-vector", ENTRY,
                (s, x) -> !injectingType(s, TYPE_NMI) || injectVector(s) == 2,
                (s, x) -> "VM-entry interruption information: an NMI must have vector 2 (vector = " + injectVector(s) + ")"));
        l.add(c("controls.entry.intr-info.exception-vector", ENTRY,
                (s, x) -> !injectingType(s, TYPE_HARDWARE_EXCEPTION) || injectVector(s) <= 31,
                (s, x) -> "VM-entry interruption information: a hardware exception must have vector 0-31 (vector = "
                        + injectVector(s) + ")"));
        l.add(c("controls.entry.intr-info.other-event-vector", ENTRY,
                (s, x) -> !injectingType(s, TYPE_OTHER_EVENT) || injectVector(s) == 0,
                (s, x) -> "VM-entry interruption information: type 7 (other event) must have vector 0 (pending MTF VM exit) (vector = "
                        + injectVector(s) + ")"));
        l.add(c("controls.entry.intr-info.error-code-required", ENTRY,
                (s, x) -> !injecting(s) || !exceptionWithErrorCode(s) || injectDeliversErrorCode(s)
                        || x.caps().injectsExceptionsWithoutErrorCode(),
                (s, x) -> "VM-entry interruption information: hardware exception " + injectVector(s)
                        + " requires deliver-error-code = 1 (interruption information = " + hex(intrInfo(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("controls.entry.intr-info.error-code-not-allowed", ENTRY,
                (s, x) -> !injecting(s) || !injectDeliversErrorCode(s)
                        || (injectType(s) == TYPE_HARDWARE_EXCEPTION
                            && (x.caps().injectsExceptionsWithoutErrorCode() || exceptionWithErrorCode(s))),
                (s, x) -> "VM-entry interruption information: deliver-error-code = 1 is allowed only for hardware exceptions 8, 10-14, 17 (type = "
                        + injectType(s) + ", vector = " + injectVector(s) + ")"));
        l.add(c("controls.entry.intr-info.reserved", ENTRY,
                (s, x) -> !injecting(s) || (intrInfo(s) & 0x7FFF_F000) == 0,
                (s, x) -> "VM-entry interruption information: bits 30:12 must be 0 (interruption information = "
                        + hex(intrInfo(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("controls.entry.exception-error-code.reserved", ENTRY,
                (s, x) -> !injecting(s) || !injectDeliversErrorCode(s) || (s.getInt(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF_0000) == 0,
                (s, x) -> "VM-entry exception error code: bits 31:16 must be 0 when an error code is delivered (error code = "
                        + hex(s.getInt(VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF_FFFFL) + ")"));
        l.add(c("controls.entry.instruction-length", ENTRY,
                (s, x) -> !injecting(s) || !softwareEvent(s) || lengthValid(s, x),
                (s, x) -> "VM-entry instruction length must be " + (x.caps().allowsZeroLengthInjection() ? "0" : "1")
                        + "-15 for a software interrupt or exception (instruction length = "
                        + Integer.toUnsignedString(s.getInt(VM_ENTRY_INSTRUCTION_LEN)) + ")"));
        l.addAll(msrArea("controls.entry.msr-load-area", ENTRY, VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR));
        return l;
    }

    private static EntryCheck reservedBits(String id, String section, ControlWord word, VmcsField field) {
        return c(id, section, (s, x) -> x.caps().isValidSetting(word, s.getInt(field)),
                (s, x) -> reservedMessage(x, word, field, s));
    }

    private static String reservedMessage(EntryContext x, ControlWord word, VmcsField field, VmcsSnapshot s) {
        int v = s.getInt(field);
        int must1 = x.caps().mustBeOne(word), may1 = x.caps().mayBeOne(word);
        int missing = must1 & ~v, extra = v & ~may1;
        StringBuilder sb = new StringBuilder(word.sdmName).append(": ");
        if (missing != 0) sb.append("bits that must be 1 are 0: ").append(String.join(", ", word.decode(missing)));
        if (missing != 0 && extra != 0) sb.append("; ");
        if (extra != 0) sb.append("bits that must be 0 are 1: ").append(String.join(", ", word.decode(extra)));
        return sb.append(" (").append(field.name()).append(" = ").append(hex(v & 0xFFFF_FFFFL))
                .append(", allowed-0 = ").append(hex(must1 & 0xFFFF_FFFFL))
                .append(", allowed-1 = ").append(hex(may1 & 0xFFFF_FFFFL)).append(")").toString();
    }

    /** Bitmap / page addresses: 4-KiB aligned and within the physical-address width (27.2.1.1). */
    private static EntryCheck pageAddress(String id, VmcsField field, PrimaryProcessorControl control) {
        return c(id, EXEC,
                (s, x) -> !on(s, control) || ((s.get(field) & 0xFFF) == 0 && x.withinPhysicalWidth(s.get(field))),
                (s, x) -> "with \"" + control.sdmName() + "\" = 1, the " + field.description
                        + " must be 4-KByte aligned and below 2^" + x.physicalAddressWidth() + " (" + field.name() + " = "
                        + hex(s.get(field)) + ")");
    }

    /** MSR-store/load areas: 16-byte aligned, first and last byte within the physical-address width. */
    private static List<EntryCheck> msrArea(String id, String section, VmcsField count, VmcsField address) {
        return List.of(
                c(id + ".alignment", section,
                        (s, x) -> s.getInt(count) == 0 || (s.get(address) & 0xF) == 0,
                        (s, x) -> "the " + address.description + " must be 16-byte aligned when the count is not 0 ("
                                + address.name() + " = " + hex(s.get(address)) + ", " + count.name() + " = "
                                + Integer.toUnsignedString(s.getInt(count)) + ")"),
                c(id + ".width", section,
                        (s, x) -> s.getInt(count) == 0 || x.withinPhysicalWidth(s.get(address)),
                        (s, x) -> "the " + address.description + " must be below 2^" + x.physicalAddressWidth() + " ("
                                + address.name() + " = " + hex(s.get(address)) + ")"),
                c(id + ".last-byte", section,
                        // Reported only when the first byte is within the width, so each rule names one problem.
                        (s, x) -> s.getInt(count) == 0 || !x.withinPhysicalWidth(s.get(address))
                                || lastByteWithin(s.get(address), s.getInt(count), x),
                        (s, x) -> "the last byte of the area at the " + address.description + " (" + count.name() + " = "
                                + Integer.toUnsignedString(s.getInt(count)) + " entries of 16 bytes) must be below 2^"
                                + x.physicalAddressWidth() + " (" + address.name() + " = " + hex(s.get(address)) + ", last byte = "
                                + hex(s.get(address) + 16 * Integer.toUnsignedLong(s.getInt(count)) - 1) + ")"));
    }

    private static boolean lastByteWithin(long address, int count, EntryContext x) {
        long last = address + 16 * Integer.toUnsignedLong(count) - 1;
        return Long.compareUnsigned(last, address) >= 0 && x.withinPhysicalWidth(last);
    }

    private static int vtprPriority(VmcsSnapshot s, EntryContext x) {
        return (int) (x.memory().read(s.get(VIRTUAL_APIC_PAGE_ADDR) + 0x80, 1) >>> 4) & 0xF;
    }

    /** Hardware exceptions that push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC (SDM 27.2.1.3). */
    private static boolean exceptionWithErrorCode(VmcsSnapshot s) {
        if (injectType(s) != TYPE_HARDWARE_EXCEPTION) return false;
        int v = injectVector(s);
        return v == 8 || (v >= 10 && v <= 14) || v == 17;
    }

    private static boolean softwareEvent(VmcsSnapshot s) {
        int t = injectType(s);
        return t == TYPE_SOFTWARE_INTERRUPT || t == TYPE_PRIVILEGED_SOFTWARE_EXCEPTION || t == TYPE_SOFTWARE_EXCEPTION;
    }

    private static boolean lengthValid(VmcsSnapshot s, EntryContext x) {
        int len = s.getInt(VM_ENTRY_INSTRUCTION_LEN);
        return (len >= 1 && len <= 15) || (len == 0 && x.caps().allowsZeroLengthInjection());
    }
}
