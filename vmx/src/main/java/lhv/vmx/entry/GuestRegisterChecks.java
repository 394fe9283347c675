package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.cpu.Cr;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.vmcs.VmcsField;

/**
 * Checks on the guest control registers, debug registers and MSRs, SDM Vol. 3C 27.3.1.1. A failure is
 * a VM-entry failure: exit reason 33, exit qualification 0.
 *
 * <p>Without "unrestricted guest" (never offered here) CR0.PE and CR0.PG are checked against the
 * fixed bits like every other bit, so the separate rule "PG = 1 requires PE = 1" can only fail
 * together with the fixed-bit rule, which comes first.
 *
 * <p>Context: evaluated by VM entry in VMX root operation.
 */
final class GuestRegisterChecks {
    private GuestRegisterChecks() { }

    static final String S = "27.3.1.1";

    private static EntryCheck c(String id, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, 0, r, d);
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        l.add(c("guest.cr0.fixed-bits", (s, x) -> x.caps().cr0Valid(s.get(GUEST_CR0)),
                (s, x) -> "guest CR0 must have the bits of IA32_VMX_CR0_FIXED0 set and those clear in IA32_VMX_CR0_FIXED1 clear (GUEST_CR0 = "
                        + hex(s.get(GUEST_CR0)) + ", FIXED0 = " + hex(x.caps().cr0Fixed0) + ", FIXED1 = " + hex(x.caps().cr0Fixed1) + ")"));
        l.add(c("guest.cr0.pg-requires-pe",
                (s, x) -> (s.get(GUEST_CR0) & Cr.CR0_PG) == 0 || (s.get(GUEST_CR0) & Cr.CR0_PE) != 0,
                (s, x) -> "guest CR0.PG = 1 requires CR0.PE = 1 (GUEST_CR0 = " + hex(s.get(GUEST_CR0)) + ")"));
        l.add(c("guest.cr4.fixed-bits", (s, x) -> x.caps().cr4Valid(s.get(GUEST_CR4)),
                (s, x) -> "guest CR4 must have the bits of IA32_VMX_CR4_FIXED0 set and those clear in IA32_VMX_CR4_FIXED1 clear (GUEST_CR4 = "
                        + hex(s.get(GUEST_CR4)) + ", FIXED0 = " + hex(x.caps().cr4Fixed0) + ", FIXED1 = " + hex(x.caps().cr4Fixed1) + ")"));
        l.add(c("guest.debugctl.reserved",
                (s, x) -> !on(s, EntryControl.LOAD_DEBUG_CONTROLS) || (s.get(GUEST_IA32_DEBUGCTL) & ~DEBUGCTL_DEFINED) == 0,
                (s, x) -> "with \"load debug controls\" = 1, reserved bits 5:2 and 63:16 of guest IA32_DEBUGCTL must be 0 (GUEST_IA32_DEBUGCTL = "
                        + hex(s.get(GUEST_IA32_DEBUGCTL)) + ")"));
        l.add(c("guest.ia32e.requires-pg",
                (s, x) -> !ia32eGuest(s) || (s.get(GUEST_CR0) & Cr.CR0_PG) != 0,
                (s, x) -> "\"IA-32e mode guest\" = 1 requires guest CR0.PG = 1 (GUEST_CR0 = " + hex(s.get(GUEST_CR0)) + ")"));
        l.add(c("guest.ia32e.requires-pae",
                (s, x) -> !ia32eGuest(s) || (s.get(GUEST_CR4) & Cr.CR4_PAE) != 0,
                (s, x) -> "\"IA-32e mode guest\" = 1 requires guest CR4.PAE = 1 (GUEST_CR4 = " + hex(s.get(GUEST_CR4)) + ")"));
        l.add(c("guest.cr4.pcide-requires-ia32e",
                (s, x) -> ia32eGuest(s) || (s.get(GUEST_CR4) & Cr.CR4_PCIDE) == 0,
                (s, x) -> "\"IA-32e mode guest\" = 0 requires guest CR4.PCIDE = 0 (GUEST_CR4 = " + hex(s.get(GUEST_CR4)) + ")"));
        l.add(c("guest.cr3.width", (s, x) -> x.withinPhysicalWidth(s.get(GUEST_CR3)),
                (s, x) -> "guest CR3 must not set bits at or above the physical-address width " + x.physicalAddressWidth()
                        + " (GUEST_CR3 = " + hex(s.get(GUEST_CR3)) + ")"));
        l.add(c("guest.dr7.high",
                (s, x) -> !on(s, EntryControl.LOAD_DEBUG_CONTROLS) || (s.get(GUEST_DR7) >>> 32) == 0,
                (s, x) -> "with \"load debug controls\" = 1, bits 63:32 of guest DR7 must be 0 (GUEST_DR7 = " + hex(s.get(GUEST_DR7)) + ")"));
        l.add(canonical("guest.sysenter-esp.canonical", GUEST_SYSENTER_ESP));
        l.add(canonical("guest.sysenter-eip.canonical", GUEST_SYSENTER_EIP));
        l.add(c("guest.perf-global-ctrl.reserved",
                (s, x) -> !on(s, EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL)
                        || (s.get(GUEST_IA32_PERF_GLOBAL_CTRL) & x.perfGlobalCtrlReserved()) == 0,
                (s, x) -> "with \"load IA32_PERF_GLOBAL_CTRL\" = 1, reserved bits of guest IA32_PERF_GLOBAL_CTRL must be 0 (GUEST_IA32_PERF_GLOBAL_CTRL = "
                        + hex(s.get(GUEST_IA32_PERF_GLOBAL_CTRL)) + ", reserved = " + hex(x.perfGlobalCtrlReserved()) + ")"));
        l.add(c("guest.pat.memory-types",
                (s, x) -> !on(s, EntryControl.LOAD_IA32_PAT) || validPat(s.get(GUEST_IA32_PAT)),
                (s, x) -> "with \"load IA32_PAT\" = 1, each byte of guest IA32_PAT must be 0, 1, 4, 5, 6 or 7 (GUEST_IA32_PAT = "
                        + hex(s.get(GUEST_IA32_PAT)) + ", entry " + firstInvalidPatEntry(s.get(GUEST_IA32_PAT)) + " invalid)"));
        l.add(c("guest.efer.reserved",
                (s, x) -> !on(s, EntryControl.LOAD_IA32_EFER) || (s.get(GUEST_IA32_EFER) & ~EFER_DEFINED) == 0,
                (s, x) -> "with \"load IA32_EFER\" = 1, reserved bits of guest IA32_EFER must be 0 (GUEST_IA32_EFER = "
                        + hex(s.get(GUEST_IA32_EFER)) + ")"));
        l.add(c("guest.efer.lma-matches-ia32e",
                (s, x) -> !on(s, EntryControl.LOAD_IA32_EFER) || ((s.get(GUEST_IA32_EFER) & EFER_LMA) != 0) == ia32eGuest(s),
                (s, x) -> "with \"load IA32_EFER\" = 1, guest IA32_EFER.LMA must equal \"IA-32e mode guest\" = "
                        + (ia32eGuest(s) ? 1 : 0) + " (GUEST_IA32_EFER = " + hex(s.get(GUEST_IA32_EFER)) + ")"));
        l.add(c("guest.efer.lme-matches-ia32e",
                (s, x) -> !on(s, EntryControl.LOAD_IA32_EFER) || (s.get(GUEST_CR0) & Cr.CR0_PG) == 0
                        || ((s.get(GUEST_IA32_EFER) & EFER_LME) != 0) == ia32eGuest(s),
                (s, x) -> "with \"load IA32_EFER\" = 1 and guest CR0.PG = 1, guest IA32_EFER.LME must equal \"IA-32e mode guest\" = "
                        + (ia32eGuest(s) ? 1 : 0) + " (GUEST_IA32_EFER = " + hex(s.get(GUEST_IA32_EFER)) + ")"));
        return l;
    }

    private static EntryCheck canonical(String id, VmcsField f) {
        return c(id, (s, x) -> Fields.canonical(s.get(f)),
                (s, x) -> f.description + " must be canonical (" + f.name() + " = " + hex(s.get(f)) + ")");
    }
}
