package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.List;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;

/**
 * Checks on the guest RIP and RFLAGS fields, SDM Vol. 3C 27.3.1.4.
 *
 * <p>Context: evaluated by VM entry in VMX root operation; failures are exit 33, qualification 0.
 */
final class GuestRipRflagsChecks {
    private GuestRipRflagsChecks() { }

    static final String S = "27.3.1.4";
    /** RFLAGS bits that must be 0: 63:22, 15, 5, 3. */
    static final long RFLAGS_RESERVED = ~((1L << 22) - 1) | (1L << 15) | (1L << 5) | (1L << 3);

    private static EntryCheck c(String id, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, 0, r, d);
    }

    private static boolean csL(lhv.vmx.vmcs.VmcsSnapshot s) {
        return (s.getInt(GUEST_CS_AR_BYTES) & 0x2000) != 0;
    }

    static List<EntryCheck> all() {
        return List.of(
                c("guest.rip.high", (s, x) -> (ia32eGuest(s) && csL(s)) || (s.get(GUEST_RIP) >>> 32) == 0,
                        (s, x) -> "guest RIP: bits 63:32 must be 0 unless the guest is IA-32e mode with CS.L = 1 (RIP = "
                                + hex(s.get(GUEST_RIP)) + ")"),
                c("guest.rip.canonical", (s, x) -> !(ia32eGuest(s) && csL(s)) || canonical(s.get(GUEST_RIP)),
                        (s, x) -> "guest RIP must be canonical in 64-bit mode (RIP = " + hex(s.get(GUEST_RIP)) + ")"),
                c("guest.rflags.reserved",
                        (s, x) -> (s.get(GUEST_RFLAGS) & RFLAGS_RESERVED) == 0 && (s.get(GUEST_RFLAGS) & Rflags.FIXED1) != 0,
                        (s, x) -> "guest RFLAGS: bits 63:22, 15, 5 and 3 must be 0 and bit 1 must be 1 (RFLAGS = "
                                + hex(s.get(GUEST_RFLAGS)) + ")"),
                c("guest.rflags.vm",
                        (s, x) -> !v8086(s) || (!ia32eGuest(s) && (s.get(GUEST_CR0) & Cr.CR0_PE) != 0),
                        (s, x) -> "guest RFLAGS.VM must be 0 for an IA-32e mode guest or with CR0.PE = 0 (RFLAGS = "
                                + hex(s.get(GUEST_RFLAGS)) + ", IA-32e mode guest = " + (ia32eGuest(s) ? 1 : 0) + ")"),
                c("guest.rflags.if-for-external-interrupt",
                        (s, x) -> !injectingType(s, TYPE_EXTERNAL_INTERRUPT) || (s.get(GUEST_RFLAGS) & Rflags.IF) != 0,
                        (s, x) -> "guest RFLAGS.IF must be 1 to inject an external interrupt (RFLAGS = " + hex(s.get(GUEST_RFLAGS)) + ")"));
    }
}
