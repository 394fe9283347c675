package lhv.vmx.entry;

import static lhv.vmx.entry.Fields.*;
import static lhv.vmx.vmcs.VmcsField.*;

import java.util.ArrayList;
import java.util.List;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Checks on the guest segment registers CS, SS, DS, ES, FS, GS, TR and LDTR, SDM Vol. 3C 27.3.1.2:
 * selectors, bases, limits and access rights, for virtual-8086 and protected/IA-32e guests. The
 * order is the SDM's: selector rules, base rules, limit rules, then access rights sub-field by
 * sub-field (type, S, DPL, P, reserved 11:8, D/B, G, reserved 31:17), then TR and LDTR. The
 * "unrestricted guest" control is never 1 here, so its exceptions do not apply.
 *
 * <p>Context: evaluated by VM entry in VMX root operation; failures are exit 33, qualification 0.
 */
final class GuestSegmentChecks {
    private GuestSegmentChecks() { }

    static final String S = "27.3.1.2";

    /** The four fields of one guest segment register. */
    record Reg(String name, VmcsField selector, VmcsField base, VmcsField limit, VmcsField ar) {
        String id() { return name.toLowerCase(); }
        int sel(VmcsSnapshot s) { return s.getInt(selector); }
        int arValue(VmcsSnapshot s) { return s.getInt(ar); }
        int type(VmcsSnapshot s) { return arValue(s) & 0xF; }
        int dpl(VmcsSnapshot s) { return (arValue(s) >>> 5) & 3; }
        boolean usable(VmcsSnapshot s) { return (arValue(s) & (1 << 16)) == 0; }
        String arText(VmcsSnapshot s) { return name + " AR = " + hex(arValue(s) & 0xFFFF_FFFFL); }
    }

    static final Reg ES = new Reg("ES", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES),
            CS = new Reg("CS", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES),
            SS = new Reg("SS", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES),
            DS = new Reg("DS", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES),
            FS = new Reg("FS", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES),
            GS = new Reg("GS", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES),
            TR = new Reg("TR", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES),
            LDTR = new Reg("LDTR", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES);

    /** CS, SS, DS, ES, FS, GS in the SDM's order. */
    static final Reg[] SEGMENTS = {CS, SS, DS, ES, FS, GS};
    static final Reg[] DATA = {DS, ES, FS, GS};

    private static EntryCheck c(String id, EntryCheck.Rule r, EntryCheck.Description d) {
        return new EntryCheck(id, S, Phase.GUEST_STATE, 0, r, d);
    }

    /** "If the register is CS or if the register is usable". */
    private static boolean checked(Reg r, VmcsSnapshot s) {
        return r == CS || r.usable(s);
    }

    static List<EntryCheck> all() {
        List<EntryCheck> l = new ArrayList<>();
        // ---- selector fields ----
        l.add(c("guest.tr.selector.ti", (s, x) -> (TR.sel(s) & 4) == 0,
                (s, x) -> "guest TR selector: TI (bit 2) must be 0 (TR selector = " + hex(TR.sel(s)) + ")"));
        l.add(c("guest.ldtr.selector.ti", (s, x) -> !LDTR.usable(s) || (LDTR.sel(s) & 4) == 0,
                (s, x) -> "guest LDTR selector: TI (bit 2) must be 0 when LDTR is usable (LDTR selector = " + hex(LDTR.sel(s)) + ")"));
        l.add(c("guest.ss.selector.rpl-equals-cs-rpl", (s, x) -> v8086(s) || (SS.sel(s) & 3) == (CS.sel(s) & 3),
                (s, x) -> "guest SS selector: RPL must equal the RPL of CS (SS selector = " + hex(SS.sel(s))
                        + ", CS selector = " + hex(CS.sel(s)) + ")"));

        // ---- base-address fields ----
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".base.v8086", (s, x) -> !v8086(s) || s.get(r.base) == ((long) r.sel(s) << 4),
                    (s, x) -> "guest " + r.name + " base: a virtual-8086 guest needs base = selector * 16 (" + r.name
                            + " selector = " + hex(r.sel(s)) + ", " + r.name + " base = " + hex(s.get(r.base)) + ")"));
        }
        for (Reg r : new Reg[]{TR, FS, GS}) {
            l.add(c("guest." + r.id() + ".base.canonical", (s, x) -> canonical(s.get(r.base)),
                    (s, x) -> "guest " + r.name + " base must be canonical (" + r.name + " base = " + hex(s.get(r.base)) + ")"));
        }
        l.add(c("guest.ldtr.base.canonical", (s, x) -> !LDTR.usable(s) || canonical(s.get(LDTR.base)),
                (s, x) -> "guest LDTR base must be canonical when LDTR is usable (LDTR base = " + hex(s.get(LDTR.base)) + ")"));
        for (Reg r : new Reg[]{CS, SS, DS, ES}) {
            l.add(c("guest." + r.id() + ".base.high", (s, x) -> !checked(r, s) || (s.get(r.base) >>> 32) == 0,
                    (s, x) -> "guest " + r.name + " base: bits 63:32 must be 0" + (r == CS ? "" : " when " + r.name + " is usable")
                            + " (" + r.name + " base = " + hex(s.get(r.base)) + ")"));
        }

        // ---- limit fields ----
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".limit.v8086", (s, x) -> !v8086(s) || s.getInt(r.limit) == 0xFFFF,
                    (s, x) -> "guest " + r.name + " limit: a virtual-8086 guest needs limit 0xffff (" + r.name + " limit = "
                            + hex(s.getInt(r.limit) & 0xFFFF_FFFFL) + ")"));
        }

        // ---- access rights of CS, SS, DS, ES, FS, GS ----
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".ar.v8086", (s, x) -> !v8086(s) || r.arValue(s) == 0xF3,
                    (s, x) -> "guest " + r.name + " access rights: a virtual-8086 guest needs 0xf3 (" + r.arText(s) + ")"));
        }
        // Type
        l.add(c("guest.cs.ar.type", (s, x) -> v8086(s) || (CS.type(s) & 9) == 9,
                (s, x) -> "guest CS access rights: type must be 9, 11, 13 or 15 (accessed code) (" + CS.arText(s) + ")"));
        l.add(c("guest.ss.ar.type", (s, x) -> v8086(s) || !SS.usable(s) || SS.type(s) == 3 || SS.type(s) == 7,
                (s, x) -> "guest SS access rights: type must be 3 or 7 (read/write accessed data) (" + SS.arText(s) + ")"));
        for (Reg r : DATA) {
            l.add(c("guest." + r.id() + ".ar.type-accessed", (s, x) -> v8086(s) || !r.usable(s) || (r.type(s) & 1) != 0,
                    (s, x) -> "guest " + r.name + " access rights: type must be accessed (bit 0 = 1) (" + r.arText(s) + ")"));
            l.add(c("guest." + r.id() + ".ar.type-code-readable",
                    (s, x) -> v8086(s) || !r.usable(s) || (r.type(s) & 8) == 0 || (r.type(s) & 2) != 0,
                    (s, x) -> "guest " + r.name + " access rights: a code segment must be readable (" + r.arText(s) + ")"));
        }
        // S
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".ar.s", (s, x) -> v8086(s) || !checked(r, s) || (r.arValue(s) & 0x10) != 0,
                    (s, x) -> "guest " + r.name + " access rights: S must be 1 (code or data segment) (" + r.arText(s) + ")"));
        }
        // DPL
        l.add(c("guest.cs.ar.dpl-nonconforming",
                (s, x) -> v8086(s) || (CS.type(s) != 9 && CS.type(s) != 11) || CS.dpl(s) == SS.dpl(s),
                (s, x) -> "guest CS access rights: a non-conforming code segment needs DPL = SS.DPL (" + CS.arText(s)
                        + ", " + SS.arText(s) + ")"));
        l.add(c("guest.cs.ar.dpl-conforming",
                (s, x) -> v8086(s) || (CS.type(s) != 13 && CS.type(s) != 15) || CS.dpl(s) <= SS.dpl(s),
                (s, x) -> "guest CS access rights: a conforming code segment needs DPL <= SS.DPL (" + CS.arText(s)
                        + ", " + SS.arText(s) + ")"));
        l.add(c("guest.ss.ar.dpl-equals-rpl", (s, x) -> v8086(s) || SS.dpl(s) == (SS.sel(s) & 3),
                (s, x) -> "guest SS access rights: DPL must equal the selector's RPL (" + SS.arText(s) + ", SS selector = "
                        + hex(SS.sel(s)) + ")"));
        for (Reg r : DATA) {
            l.add(c("guest." + r.id() + ".ar.dpl-not-below-rpl",
                    (s, x) -> v8086(s) || !r.usable(s) || r.type(s) > 11 || r.dpl(s) >= (r.sel(s) & 3),
                    (s, x) -> "guest " + r.name + " access rights: DPL must not be less than the selector's RPL (" + r.arText(s)
                            + ", " + r.name + " selector = " + hex(r.sel(s)) + ")"));
        }
        // P
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".ar.p", (s, x) -> v8086(s) || !checked(r, s) || (r.arValue(s) & 0x80) != 0,
                    (s, x) -> "guest " + r.name + " access rights: P must be 1 (" + r.arText(s) + ")"));
        }
        // bits 11:8
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".ar.reserved-11-8", (s, x) -> v8086(s) || !checked(r, s) || (r.arValue(s) & 0xF00) == 0,
                    (s, x) -> "guest " + r.name + " access rights: reserved bits 11:8 must be 0 (" + r.arText(s) + ")"));
        }
        // D/B of CS
        l.add(c("guest.cs.ar.l-requires-d0",
                (s, x) -> v8086(s) || !ia32eGuest(s) || (CS.arValue(s) & 0x2000) == 0 || (CS.arValue(s) & 0x4000) == 0,
                (s, x) -> "guest CS access rights: L=1 requires D=0 (" + CS.arText(s) + ")"));
        // G
        for (Reg r : SEGMENTS) {
            l.addAll(granularity(r, true));
        }
        // bits 31:17
        for (Reg r : SEGMENTS) {
            l.add(c("guest." + r.id() + ".ar.reserved-31-17", (s, x) -> v8086(s) || !checked(r, s) || (r.arValue(s) >>> 17) == 0,
                    (s, x) -> "guest " + r.name + " access rights: reserved bits 31:17 must be 0 (" + r.arText(s) + ")"));
        }

        // ---- TR ----
        l.add(c("guest.tr.ar.type",
                (s, x) -> ia32eGuest(s) ? TR.type(s) == 11 : TR.type(s) == 3 || TR.type(s) == 11,
                (s, x) -> "guest TR access rights: type must be " + (ia32eGuest(s) ? "11 (busy 64-bit TSS) for an IA-32e mode guest"
                        : "3 or 11 (busy 16- or 32-bit TSS)") + " (" + TR.arText(s) + ")"));
        l.add(c("guest.tr.ar.s", (s, x) -> (TR.arValue(s) & 0x10) == 0,
                (s, x) -> "guest TR access rights: S must be 0 (system segment) (" + TR.arText(s) + ")"));
        l.add(c("guest.tr.ar.p", (s, x) -> (TR.arValue(s) & 0x80) != 0,
                (s, x) -> "guest TR access rights: P must be 1 (" + TR.arText(s) + ")"));
        l.add(c("guest.tr.ar.reserved-11-8", (s, x) -> (TR.arValue(s) & 0xF00) == 0,
                (s, x) -> "guest TR access rights: reserved bits 11:8 must be 0 (" + TR.arText(s) + ")"));
        l.addAll(granularity(TR, false));
        l.add(c("guest.tr.ar.unusable", (s, x) -> TR.usable(s),
                (s, x) -> "guest TR access rights: the unusable bit (16) must be 0 (" + TR.arText(s) + ")"));
        l.add(c("guest.tr.ar.reserved-31-17", (s, x) -> (TR.arValue(s) >>> 17) == 0,
                (s, x) -> "guest TR access rights: reserved bits 31:17 must be 0 (" + TR.arText(s) + ")"));

        // ---- LDTR (only if usable) ----
        l.add(c("guest.ldtr.ar.type", (s, x) -> !LDTR.usable(s) || LDTR.type(s) == 2,
                (s, x) -> "guest LDTR access rights: type must be 2 (LDT) (" + LDTR.arText(s) + ")"));
        l.add(c("guest.ldtr.ar.s", (s, x) -> !LDTR.usable(s) || (LDTR.arValue(s) & 0x10) == 0,
                (s, x) -> "guest LDTR access rights: S must be 0 (system segment) (" + LDTR.arText(s) + ")"));
        l.add(c("guest.ldtr.ar.p", (s, x) -> !LDTR.usable(s) || (LDTR.arValue(s) & 0x80) != 0,
                (s, x) -> "guest LDTR access rights: P must be 1 (" + LDTR.arText(s) + ")"));
        l.add(c("guest.ldtr.ar.reserved-11-8", (s, x) -> !LDTR.usable(s) || (LDTR.arValue(s) & 0xF00) == 0,
                (s, x) -> "guest LDTR access rights: reserved bits 11:8 must be 0 (" + LDTR.arText(s) + ")"));
        l.addAll(granularity(LDTR, true));
        l.add(c("guest.ldtr.ar.reserved-31-17", (s, x) -> !LDTR.usable(s) || (LDTR.arValue(s) >>> 17) == 0,
                (s, x) -> "guest LDTR access rights: reserved bits 31:17 must be 0 (" + LDTR.arText(s) + ")"));
        return l;
    }

    /** G versus limit: limit[11:0] not all ones requires G = 0; limit[31:20] not zero requires G = 1. */
    private static List<EntryCheck> granularity(Reg r, boolean onlyIfUsable) {
        boolean segment = r != TR && r != LDTR;
        EntryCheck.Rule applies = (s, x) -> !(segment && v8086(s)) && (!onlyIfUsable || checked(r, s));
        return List.of(
                c("guest." + r.id() + ".ar.g-limit-low",
                        (s, x) -> !applies.holds(s, x) || (s.getInt(r.limit) & 0xFFF) == 0xFFF || (r.arValue(s) & 0x8000) == 0,
                        (s, x) -> "guest " + r.name + " access rights: G must be 0 when limit bits 11:0 are not all 1 (" + r.arText(s)
                                + ", " + r.name + " limit = " + hex(s.getInt(r.limit) & 0xFFFF_FFFFL) + ")"),
                c("guest." + r.id() + ".ar.g-limit-high",
                        (s, x) -> !applies.holds(s, x) || (s.getInt(r.limit) >>> 20) == 0 || (r.arValue(s) & 0x8000) != 0,
                        (s, x) -> "guest " + r.name + " access rights: G must be 1 when limit bits 31:20 are not all 0 (" + r.arText(s)
                                + ", " + r.name + " limit = " + hex(s.getInt(r.limit) & 0xFFFF_FFFFL) + ")"));
    }
}
