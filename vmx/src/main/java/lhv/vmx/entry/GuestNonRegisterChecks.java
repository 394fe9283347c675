package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.cpu.Rflags;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Checks on the guest non-register state, SDM Vol. 3C 27.3.1.5: activity state, interruptibility
 * state, pending debug exceptions and the VMCS link pointer. Link-pointer failures carry exit
 * qualification 4; the NMI-injection-under-STI-blocking failure carries 3 (SDM 27.8).
 *
 * <p>Model choices the SDM leaves to the processor: this processor requires blocking by STI to be 0
 * when injecting an NMI (the SDM says a processor "may" require it); it has no SGX and no RTM, so
 * interruptibility bit 4 and pending-debug bit 16 are reserved; it is never in SMM.
 *
 * <p>Context: evaluated by VM entry in VMX root operation.
 */
final class GuestNonRegisterChecks {
    private GuestNonRegisterChecks() { }

    static final String S = "27.3.1.5";
    /** Pending debug exceptions: bits 11:4, 13, 15 and 63:16 must be 0 (bit 16 RTM is not supported). */
    static final long PENDING_DEBUG_RESERVED = 0xFF0L | (1L << 13) | (1L << 15) | ~0xFFFFL;
    static final long PENDING_DEBUG_BS = 1L << 14;

    private static EntryCheck c(String id, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, 0, r, d);
    }

    private static EntryCheck c(String id, int qualification, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, qualification, r, d);
    }

    private static int activity(VmcsSnapshot s) { return s.getInt(GUEST_ACTIVITY_STATE); }

    private static String intr(VmcsSnapshot s) {
        return "interruptibility state = " + hex(interruptibility(s) & 0xFFFF_FFFFL);
    }

    private static String info(VmcsSnapshot s) {
        return "interruption information = " + hex(intrInfo(s) & 0xFFFF_FFFFL);
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        // ---- activity state ----
        l.add(c("guest.activity-state.supported",
                (s, x) -> activity(s) >= 0 && activity(s) <= 3 && x.caps().supportsActivityState(activity(s)),
                (s, x) -> "guest activity state " + Integer.toUnsignedString(activity(s))
                        + " is not supported (IA32_VMX_MISC allows active (0)" + (x.caps().supportsActivityState(1) ? ", HLT (1)" : "")
                        + (x.caps().supportsActivityState(2) ? ", shutdown (2)" : "")
                        + (x.caps().supportsActivityState(3) ? ", wait-for-SIPI (3)" : "") + ")"));
        l.add(c("guest.activity-state.hlt-requires-ss-dpl0",
                (s, x) -> activity(s) != ACTIVITY_HLT || ((s.getInt(GUEST_SS_AR_BYTES) >>> 5) & 3) == 0,
                (s, x) -> "guest activity state HLT requires SS.DPL = 0 (SS AR = " + hex(s.getInt(GUEST_SS_AR_BYTES) & 0xFFFF_FFFFL) + ")"));
        l.add(c("guest.activity-state.active-when-sti-or-mov-ss-blocking",
                (s, x) -> (interruptibility(s) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) == 0 || activity(s) == ACTIVITY_ACTIVE,
                (s, x) -> "guest activity state must be active (0) with blocking by STI or MOV SS (activity state = "
                        + activity(s) + ", " + intr(s) + ")"));
        l.add(c("guest.activity-state.injection-allowed",
                (s, x) -> !injecting(s) || injectionAllowedIn(activity(s), injectType(s), injectVector(s)),
                (s, x) -> "the injected event (type " + injectType(s) + ", vector " + injectVector(s)
                        + ") is blocked in guest activity state " + activity(s) + " (" + info(s) + ")"));

        // ---- interruptibility state ----
        l.add(c("guest.interruptibility.reserved", (s, x) -> (interruptibility(s) & ~0xF) == 0,
                (s, x) -> "guest interruptibility state: bits 31:4 must be 0 (" + intr(s) + ")"));
        l.add(c("guest.interruptibility.sti-and-mov-ss",
                (s, x) -> (interruptibility(s) & 3) != 3,
                (s, x) -> "guest interruptibility state: blocking by STI and by MOV SS cannot both be 1 (" + intr(s) + ")"));
        l.add(c("guest.interruptibility.sti-requires-if",
                (s, x) -> (interruptibility(s) & BLOCKING_BY_STI) == 0 || (s.get(GUEST_RFLAGS) & Rflags.IF) != 0,
                (s, x) -> "guest interruptibility state: blocking by STI requires RFLAGS.IF = 1 (" + intr(s) + ", RFLAGS = "
                        + hex(s.get(GUEST_RFLAGS)) + ")"));
        l.add(c("guest.interruptibility.external-interrupt-injection",
                (s, x) -> !injectingType(s, TYPE_EXTERNAL_INTERRUPT) || (interruptibility(s) & 3) == 0,
                (s, x) -> "guest interruptibility state: injecting an external interrupt requires no blocking by STI or MOV SS ("
                        + intr(s) + ", " + info(s) + ")"));
        l.add(c("guest.interruptibility.nmi-injection-mov-ss",
                (s, x) -> !injectingType(s, TYPE_NMI) || (interruptibility(s) & BLOCKING_BY_MOV_SS) == 0,
                (s, x) -> "guest interruptibility state: injecting an NMI requires no blocking by MOV SS (" + intr(s) + ", " + info(s) + ")"));
        l.add(c("guest.interruptibility.smi-outside-smm",
                (s, x) -> (interruptibility(s) & BLOCKING_BY_SMI) == 0,
                (s, x) -> "guest interruptibility state: blocking by SMI must be 0 outside SMM (" + intr(s) + ")"));
        l.add(c("guest.interruptibility.nmi-injection-sti", 3,
                (s, x) -> !injectingType(s, TYPE_NMI) || (interruptibility(s) & BLOCKING_BY_STI) == 0,
                (s, x) -> "guest interruptibility state: this processor does not inject an NMI while blocking by STI is 1 ("
                        + intr(s) + ", " + info(s) + ")"));
        l.add(c("guest.interruptibility.virtual-nmi-injection",
                (s, x) -> !(on(s, PinBasedControl.VIRTUAL_NMIS) && injectingType(s, TYPE_NMI))
                        || (interruptibility(s) & BLOCKING_BY_NMI) == 0,
                (s, x) -> "guest interruptibility state: with \"virtual NMIs\" = 1, injecting an NMI requires blocking by NMI = 0 ("
                        + intr(s) + ", " + info(s) + ")"));

        // ---- pending debug exceptions ----
        l.add(c("guest.pending-debug.reserved", (s, x) -> (s.get(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DEBUG_RESERVED) == 0,
                (s, x) -> "guest pending debug exceptions: bits 11:4, 13, 15 and 63:16 must be 0 (pending debug exceptions = "
                        + hex(s.get(GUEST_PENDING_DBG_EXCEPTIONS)) + ")"));
        l.add(c("guest.pending-debug.bs",
                (s, x) -> !bsRuleApplies(s) || ((s.get(GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DEBUG_BS) != 0) == singleStepping(s),
                (s, x) -> "guest pending debug exceptions: with blocking by STI/MOV SS or activity HLT, BS (bit 14) must be "
                        + (singleStepping(s) ? "1 because RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0" : "0 because RFLAGS.TF = 0 or IA32_DEBUGCTL.BTF = 1")
                        + " (pending debug exceptions = " + hex(s.get(GUEST_PENDING_DBG_EXCEPTIONS)) + ", RFLAGS = "
                        + hex(s.get(GUEST_RFLAGS)) + ", IA32_DEBUGCTL = " + hex(s.get(GUEST_IA32_DEBUGCTL)) + ")"));

        // ---- VMCS link pointer (qualification 4) ----
        l.add(c("guest.vmcs-link-pointer.alignment", 4,
                (s, x) -> s.get(VMCS_LINK_POINTER) == -1L || (s.get(VMCS_LINK_POINTER) & 0xFFF) == 0,
                (s, x) -> "VMCS link pointer must be all ones or 4-KByte aligned (VMCS link pointer = " + hex(s.get(VMCS_LINK_POINTER)) + ")"));
        l.add(c("guest.vmcs-link-pointer.width", 4,
                (s, x) -> s.get(VMCS_LINK_POINTER) == -1L || x.withinPhysicalWidth(s.get(VMCS_LINK_POINTER)),
                (s, x) -> "VMCS link pointer must be all ones or below 2^" + x.physicalAddressWidth() + " (VMCS link pointer = "
                        + hex(s.get(VMCS_LINK_POINTER)) + ")"));
        l.add(c("guest.vmcs-link-pointer.revision", 4,
                (s, x) -> !linkPointerAddressValid(s, x) || Vmcs.revisionAt(x.memory(), s.get(VMCS_LINK_POINTER)) == x.caps().revisionId(),
                (s, x) -> "VMCS link pointer: the referenced region must start with VMCS revision identifier " + x.caps().revisionId()
                        + " (VMCS link pointer = " + hex(s.get(VMCS_LINK_POINTER)) + ", revision found = "
                        + Vmcs.revisionAt(x.memory(), s.get(VMCS_LINK_POINTER)) + ")"));
        l.add(c("guest.vmcs-link-pointer.shadow-indicator", 4,
                (s, x) -> !linkPointerAddressValid(s, x) || !Vmcs.shadowIndicatorAt(x.memory(), s.get(VMCS_LINK_POINTER)),
                (s, x) -> "VMCS link pointer: the shadow-VMCS indicator (bit 31) of the referenced region must be 0 when \"VMCS shadowing\" = 0"
                        + " (VMCS link pointer = " + hex(s.get(VMCS_LINK_POINTER)) + ")"));
        l.add(c("guest.vmcs-link-pointer.not-current", 4,
                (s, x) -> s.get(VMCS_LINK_POINTER) == -1L || s.get(VMCS_LINK_POINTER) != x.currentVmcsPointer(),
                (s, x) -> "VMCS link pointer must not be the current-VMCS pointer (VMCS link pointer = "
                        + hex(s.get(VMCS_LINK_POINTER)) + ")"));
        return l;
    }

    /**
     * The link pointer is in use and names a well-formed address; only then is the region it
     * references examined (so a bad address is reported once, by the alignment or width rule).
     */
    private static boolean linkPointerAddressValid(VmcsSnapshot s, EntryContext x) {
        long p = s.get(VMCS_LINK_POINTER);
        return p != -1L && (p & 0xFFF) == 0 && x.withinPhysicalWidth(p);
    }

    /** SDM 27.3.1.5: events allowed for each activity state. */
    private static boolean injectionAllowedIn(int activity, int type, int vector) {
        return switch (activity) {
            case ACTIVITY_ACTIVE -> true;
            case ACTIVITY_HLT -> type == TYPE_EXTERNAL_INTERRUPT || type == TYPE_NMI
                    || (type == TYPE_HARDWARE_EXCEPTION && (vector == 1 || vector == 18))
                    || (type == TYPE_OTHER_EVENT && vector == 0);
            case ACTIVITY_SHUTDOWN -> type == TYPE_NMI || (type == TYPE_HARDWARE_EXCEPTION && vector == 18);
            default -> false;
        };
    }

    private static boolean bsRuleApplies(VmcsSnapshot s) {
        return (interruptibility(s) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) != 0 || s.getInt(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT;
    }

    /** RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0: a single-step trap is due. */
    private static boolean singleStepping(VmcsSnapshot s) {
        return (s.get(GUEST_RFLAGS) & Rflags.TF) != 0 && (s.get(GUEST_IA32_DEBUGCTL) & 2) == 0;
    }
}
