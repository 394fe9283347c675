package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.List;

/**
 * Checks on the guest GDTR and IDTR fields, SDM Vol. 3C 27.3.1.3: canonical bases, limits of at most
 * 16 bits.
 *
 * <p>Context: evaluated by VM entry in VMX root operation; failures are exit 33, qualification 0.
 */
final class GuestDescriptorTableChecks {
    private GuestDescriptorTableChecks() { }

    static final String S = "27.3.1.3";

    private static EntryCheck c(String id, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, 0, r, d);
    }

    static List<EntryCheck> all() {
        return List.of(
                c("guest.gdtr.base.canonical", (s, x) -> canonical(s.get(GUEST_GDTR_BASE)),
                        (s, x) -> "guest GDTR base must be canonical (GDTR base = " + hex(s.get(GUEST_GDTR_BASE)) + ")"),
                c("guest.idtr.base.canonical", (s, x) -> canonical(s.get(GUEST_IDTR_BASE)),
                        (s, x) -> "guest IDTR base must be canonical (IDTR base = " + hex(s.get(GUEST_IDTR_BASE)) + ")"),
                c("guest.gdtr.limit.high", (s, x) -> (s.getInt(GUEST_GDTR_LIMIT) >>> 16) == 0,
                        (s, x) -> "guest GDTR limit: bits 31:16 must be 0 (GDTR limit = "
                                + hex(s.getInt(GUEST_GDTR_LIMIT) & 0xFFFF_FFFFL) + ")"),
                c("guest.idtr.limit.high", (s, x) -> (s.getInt(GUEST_IDTR_LIMIT) >>> 16) == 0,
                        (s, x) -> "guest IDTR limit: bits 31:16 must be 0 (IDTR limit = "
                                + hex(s.getInt(GUEST_IDTR_LIMIT) & 0xFFFF_FFFFL) + ")"));
    }
}
