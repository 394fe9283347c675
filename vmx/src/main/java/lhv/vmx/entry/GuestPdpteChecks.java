package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.cpu.Cr;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Checks on the guest page-directory-pointer-table entries, SDM Vol. 3C 27.3.1.6. Without EPT (never
 * offered here) the four PDPTEs are read from guest-physical memory at guest CR3[31:5] whenever the
 * guest will use PAE paging (CR0.PG = 1, CR4.PAE = 1, not IA-32e mode); a present PDPTE must have its
 * reserved bits (2:1, 8:5 and 63:MAXPHYADDR) clear. Failures carry exit qualification 2 (SDM 27.8).
 *
 * <p>Context: evaluated by VM entry in VMX root operation.
 */
final class GuestPdpteChecks {
    private GuestPdpteChecks() { }

    static final String S = "27.3.1.6";

    static boolean pae(VmcsSnapshot s) {
        return (s.get(GUEST_CR0) & Cr.CR0_PG) != 0 && (s.get(GUEST_CR4) & Cr.CR4_PAE) != 0 && !ia32eGuest(s);
    }

    static long pdpteAddress(VmcsSnapshot s, int i) {
        return (s.get(GUEST_CR3) & 0xFFFF_FFE0L) + 8L * i;
    }

    static long reserved(EntryContext x) {
        return 0x1E6L | (-1L << x.physicalAddressWidth());
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        for (int n = 0; n < 4; n++) {
            int i = n;
            l.add(new EntryCheck("guest.pdpte" + i + ".reserved", S, Phase.GUEST_STATE, 2,
                    (s, x) -> {
                        if (!pae(s)) return true;
                        long e = x.memory().read(pdpteAddress(s, i), 8);
                        return (e & 1) == 0 || (e & reserved(x)) == 0;
                    },
                    (s, x) -> "guest PDPTE" + i + " (at " + hex(pdpteAddress(s, i)) + " from CR3 = " + hex(s.get(GUEST_CR3))
                            + ") is present with reserved bits set (PDPTE" + i + " = " + hex(x.memory().read(pdpteAddress(s, i), 8))
                            + ", reserved = " + hex(reserved(x)) + ")"));
        }
        return l;
    }
}
