package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.cpu.Cr;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Checks on the host-state area, SDM Vol. 3C 27.2.2 (host control registers and MSRs), 27.2.3 (host
 * segment and descriptor-table registers) and 27.2.4 (host address-space size). A failure makes
 * VMLAUNCH/VMRESUME fail with VMfailValid, error 8.
 *
 * <p>Context: evaluated by VM entry in VMX root operation.
 */
final class HostStateChecks {
    private HostStateChecks() { }

    static final String CR_MSR = "27.2.2", SEG = "27.2.3", SIZE = "27.2.4";

    private static EntryCheck c(String id, String section, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, section, Phase.HOST_STATE, 0, r, d);
    }

    private static boolean hostAddressSpaceSize(VmcsSnapshot s) {
        return on(s, ExitControl.HOST_ADDRESS_SPACE_SIZE);
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        // ---- 27.2.2 host control registers and MSRs ----
        l.add(c("host.cr0.fixed-bits", CR_MSR, (s, x) -> x.caps().cr0Valid(s.get(HOST_CR0)),
                (s, x) -> "host CR0 must have the bits of IA32_VMX_CR0_FIXED0 set and those clear in IA32_VMX_CR0_FIXED1 clear (HOST_CR0 = "
                        + hex(s.get(HOST_CR0)) + ", FIXED0 = " + hex(x.caps().cr0Fixed0) + ", FIXED1 = " + hex(x.caps().cr0Fixed1) + ")"));
        l.add(c("host.cr4.fixed-bits", CR_MSR, (s, x) -> x.caps().cr4Valid(s.get(HOST_CR4)),
                (s, x) -> "host CR4 must have the bits of IA32_VMX_CR4_FIXED0 set and those clear in IA32_VMX_CR4_FIXED1 clear (HOST_CR4 = "
                        + hex(s.get(HOST_CR4)) + ", FIXED0 = " + hex(x.caps().cr4Fixed0) + ", FIXED1 = " + hex(x.caps().cr4Fixed1) + ")"));
        l.add(c("host.cr3.width", CR_MSR, (s, x) -> x.withinPhysicalWidth(s.get(HOST_CR3)),
                (s, x) -> "host CR3 must not set bits at or above the physical-address width " + x.physicalAddressWidth()
                        + " (HOST_CR3 = " + hex(s.get(HOST_CR3)) + ")"));
        l.add(canonical("host.sysenter-esp.canonical", CR_MSR, HOST_IA32_SYSENTER_ESP));
        l.add(canonical("host.sysenter-eip.canonical", CR_MSR, HOST_IA32_SYSENTER_EIP));
        l.add(c("host.perf-global-ctrl.reserved", CR_MSR,
                (s, x) -> !on(s, ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL)
                        || (s.get(HOST_IA32_PERF_GLOBAL_CTRL) & x.perfGlobalCtrlReserved()) == 0,
                (s, x) -> "with \"load IA32_PERF_GLOBAL_CTRL\" = 1, reserved bits of host IA32_PERF_GLOBAL_CTRL must be 0 (HOST_IA32_PERF_GLOBAL_CTRL = "
                        + hex(s.get(HOST_IA32_PERF_GLOBAL_CTRL)) + ", reserved = " + hex(x.perfGlobalCtrlReserved()) + ")"));
        l.add(c("host.pat.memory-types", CR_MSR,
                (s, x) -> !on(s, ExitControl.LOAD_IA32_PAT) || validPat(s.get(HOST_IA32_PAT)),
                (s, x) -> "with \"load IA32_PAT\" = 1, each byte of host IA32_PAT must be 0, 1, 4, 5, 6 or 7 (HOST_IA32_PAT = "
                        + hex(s.get(HOST_IA32_PAT)) + ", entry " + firstInvalidPatEntry(s.get(HOST_IA32_PAT)) + " invalid)"));
        l.add(c("host.efer.reserved", CR_MSR,
                (s, x) -> !on(s, ExitControl.LOAD_IA32_EFER) || (s.get(HOST_IA32_EFER) & ~EFER_DEFINED) == 0,
                (s, x) -> "with \"load IA32_EFER\" = 1, reserved bits of host IA32_EFER must be 0 (HOST_IA32_EFER = "
                        + hex(s.get(HOST_IA32_EFER)) + ")"));
        l.add(c("host.efer.lma-lme-match-address-space-size", CR_MSR,
                (s, x) -> !on(s, ExitControl.LOAD_IA32_EFER)
                        || (((s.get(HOST_IA32_EFER) & EFER_LMA) != 0) == hostAddressSpaceSize(s)
                            && ((s.get(HOST_IA32_EFER) & EFER_LME) != 0) == hostAddressSpaceSize(s)),
                (s, x) -> "with \"load IA32_EFER\" = 1, host IA32_EFER.LMA and LME must equal \"host address-space size\" = "
                        + (hostAddressSpaceSize(s) ? 1 : 0) + " (HOST_IA32_EFER = " + hex(s.get(HOST_IA32_EFER)) + ")"));

        // ---- 27.2.3 host segment and descriptor-table registers ----
        VmcsField[] selectors = {HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR,
                HOST_FS_SELECTOR, HOST_GS_SELECTOR, HOST_TR_SELECTOR};
        String[] names = {"es", "cs", "ss", "ds", "fs", "gs", "tr"};
        for (int i = 0; i < selectors.length; i++) {
            VmcsField f = selectors[i];
            String reg = names[i].toUpperCase();
            l.add(c("host." + names[i] + ".selector.rpl-ti", SEG, (s, x) -> (s.get(f) & 7) == 0,
                    (s, x) -> "host " + reg + " selector: RPL and TI (bits 2:0) must be 0 (" + f.name() + " = " + hex(s.get(f)) + ")"));
        }
        l.add(c("host.cs.selector.not-null", SEG, (s, x) -> s.get(HOST_CS_SELECTOR) != 0,
                (s, x) -> "host CS selector must not be 0000H (HOST_CS_SELECTOR = " + hex(s.get(HOST_CS_SELECTOR)) + ")"));
        l.add(c("host.tr.selector.not-null", SEG, (s, x) -> s.get(HOST_TR_SELECTOR) != 0,
                (s, x) -> "host TR selector must not be 0000H (HOST_TR_SELECTOR = " + hex(s.get(HOST_TR_SELECTOR)) + ")"));
        l.add(c("host.ss.selector.not-null-without-64-bit-host", SEG,
                (s, x) -> hostAddressSpaceSize(s) || s.get(HOST_SS_SELECTOR) != 0,
                (s, x) -> "host SS selector must not be 0000H when \"host address-space size\" = 0 (HOST_SS_SELECTOR = "
                        + hex(s.get(HOST_SS_SELECTOR)) + ")"));
        l.add(canonical("host.fs.base.canonical", SEG, HOST_FS_BASE));
        l.add(canonical("host.gs.base.canonical", SEG, HOST_GS_BASE));
        l.add(canonical("host.gdtr.base.canonical", SEG, HOST_GDTR_BASE));
        l.add(canonical("host.idtr.base.canonical", SEG, HOST_IDTR_BASE));
        l.add(canonical("host.tr.base.canonical", SEG, HOST_TR_BASE));

        // ---- 27.2.4 host address-space size ----
        l.add(c("host.address-space.outside-ia32e.no-ia32e-guest", SIZE,
                (s, x) -> x.hostIa32eMode() || !on(s, EntryControl.IA32E_MODE_GUEST),
                (s, x) -> "the processor is not in IA-32e mode (IA32_EFER.LMA = 0), so \"IA-32e mode guest\" must be 0 (VM-entry controls = "
                        + hex(entryControls(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("host.address-space.outside-ia32e.no-64-bit-host", SIZE,
                (s, x) -> x.hostIa32eMode() || !hostAddressSpaceSize(s),
                (s, x) -> "the processor is not in IA-32e mode (IA32_EFER.LMA = 0), so \"host address-space size\" must be 0 (VM-exit controls = "
                        + hex(exitControls(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("host.address-space.ia32e-requires-64-bit-host", SIZE,
                (s, x) -> !x.hostIa32eMode() || hostAddressSpaceSize(s),
                (s, x) -> "the processor is in IA-32e mode (IA32_EFER.LMA = 1), so \"host address-space size\" must be 1 (VM-exit controls = "
                        + hex(exitControls(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("host.address-space.32-bit-host.no-ia32e-guest", SIZE,
                (s, x) -> hostAddressSpaceSize(s) || !on(s, EntryControl.IA32E_MODE_GUEST),
                (s, x) -> "\"host address-space size\" = 0 requires \"IA-32e mode guest\" = 0 (VM-entry controls = "
                        + hex(entryControls(s) & 0xFFFF_FFFFL) + ")"));
        l.add(c("host.address-space.32-bit-host.no-pcide", SIZE,
                (s, x) -> hostAddressSpaceSize(s) || (s.get(HOST_CR4) & Cr.CR4_PCIDE) == 0,
                (s, x) -> "\"host address-space size\" = 0 requires host CR4.PCIDE = 0 (HOST_CR4 = " + hex(s.get(HOST_CR4)) + ")"));
        l.add(c("host.address-space.32-bit-host.rip-high", SIZE,
                (s, x) -> hostAddressSpaceSize(s) || (s.get(HOST_RIP) >>> 32) == 0,
                (s, x) -> "\"host address-space size\" = 0 requires bits 63:32 of host RIP to be 0 (HOST_RIP = " + hex(s.get(HOST_RIP)) + ")"));
        l.add(c("host.address-space.64-bit-host.pae", SIZE,
                (s, x) -> !hostAddressSpaceSize(s) || (s.get(HOST_CR4) & Cr.CR4_PAE) != 0,
                (s, x) -> "\"host address-space size\" = 1 requires host CR4.PAE = 1 (HOST_CR4 = " + hex(s.get(HOST_CR4)) + ")"));
        l.add(c("host.address-space.64-bit-host.rip-canonical", SIZE,
                (s, x) -> !hostAddressSpaceSize(s) || Fields.canonical(s.get(HOST_RIP)),
                (s, x) -> "\"host address-space size\" = 1 requires a canonical host RIP (HOST_RIP = " + hex(s.get(HOST_RIP)) + ")"));
        return l;
    }

    private static EntryCheck canonical(String id, String section, VmcsField f) {
        return c(id, section, (s, x) -> Fields.canonical(s.get(f)),
                (s, x) -> f.description + " must be canonical (" + f.name() + " = " + hex(s.get(f)) + ")");
    }
}
