package lhv.vmx.entry;

import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import lhv.vmx.TestMemory;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * For every VM-entry check: start from a known-good VMCS, change one thing, and assert that exactly
 * that check fails (id, phase, SDM section) with a message naming the field and its value. A few
 * rules cannot fail alone on this processor (another rule covering the same bits comes first); their
 * rows list the co-failing checks and assert the first failure explicitly.
 */
class EntryCheckMutationTest {

    record Row(String id, Supplier<VmcsSnapshot> base, UnaryOperator<VmcsSnapshot> mutation,
               Consumer<TestMemory> memory, boolean hostIa32e, String expectedText, String firstFailure, Set<String> coFailures) {
        @Override
        public String toString() {
            return id;
        }
    }

    private static final List<Row> ROWS = new ArrayList<>();

    private static Row row(String id, UnaryOperator<VmcsSnapshot> m, String text) {
        return add(new Row(id, Baseline::vmcs, m, x -> { }, true, text, id, Set.of()));
    }

    private static Row row(String id, Supplier<VmcsSnapshot> base, UnaryOperator<VmcsSnapshot> m, String text) {
        return add(new Row(id, base, m, x -> { }, true, text, id, Set.of()));
    }

    private static Row add(Row r) {
        ROWS.add(r);
        return r;
    }

    private static UnaryOperator<VmcsSnapshot> set(VmcsField f, long v) {
        return s -> s.with(f, v);
    }

    private static UnaryOperator<VmcsSnapshot> or(VmcsField f, long bits) {
        return s -> s.with(f, s.get(f) | bits);
    }

    private static UnaryOperator<VmcsSnapshot> andNot(VmcsField f, long bits) {
        return s -> s.with(f, s.get(f) & ~bits);
    }

    @SafeVarargs
    private static UnaryOperator<VmcsSnapshot> all(UnaryOperator<VmcsSnapshot>... ms) {
        return s -> {
            for (var m : ms) s = m.apply(s);
            return s;
        };
    }

    private static final long NONCANONICAL = 0x0000_8000_0000_0000L, BEYOND = 1L << Baseline.MAXPHYADDR;
    private static final UnaryOperator<VmcsSnapshot> LDTR_USABLE = all(set(GUEST_LDTR_SELECTOR, 0x28),
            set(GUEST_LDTR_AR_BYTES, 0x82), set(GUEST_LDTR_LIMIT, 0));
    private static final UnaryOperator<VmcsSnapshot> TPR_SHADOW = all(
            or(CPU_BASED_VM_EXEC_CONTROL, PrimaryProcessorControl.USE_TPR_SHADOW.mask()),
            set(VIRTUAL_APIC_PAGE_ADDR, Baseline.VAPIC_PA));

    static {
        // ---- 27.2.1.1 ----
        row("controls.pin.reserved", or(PIN_BASED_VM_EXEC_CONTROL, PinBasedControl.PROCESS_POSTED_INTERRUPTS.mask()),
                "bits that must be 0 are 1: process posted interrupts (PIN_BASED_VM_EXEC_CONTROL = 0x96");
        row("controls.proc.reserved", andNot(CPU_BASED_VM_EXEC_CONTROL, 2), "bits that must be 1 are 0: bit 1 (default1)");
        row("controls.proc2.reserved", or(SECONDARY_VM_EXEC_CONTROL, SecondaryProcessorControl.ENABLE_EPT.mask()),
                "bits that must be 0 are 1: enable EPT (SECONDARY_VM_EXEC_CONTROL = 0xa");
        row("controls.cr3-target-count", set(CR3_TARGET_COUNT, 5), "(CR3-target count = 5)");
        row("controls.io-bitmap-a.address", set(IO_BITMAP_A, 0x10001), "IO_BITMAP_A = 0x10001");
        row("controls.io-bitmap-b.address", set(IO_BITMAP_B, BEYOND), "IO_BITMAP_B = 0x8000000000");
        row("controls.msr-bitmap.address", set(MSR_BITMAP, 0x12800), "MSR_BITMAP = 0x12800");
        row("controls.virtual-apic.address", all(TPR_SHADOW, set(VIRTUAL_APIC_PAGE_ADDR, 0x8040)),
                "VIRTUAL_APIC_PAGE_ADDR = 0x8040");
        row("controls.tpr-threshold.reserved", all(TPR_SHADOW, set(TPR_THRESHOLD, 0x10)), "TPR threshold = 0x10");
        row("controls.tpr-threshold.vtpr", all(TPR_SHADOW, set(TPR_THRESHOLD, 5)), "TPR threshold = 5, VTPR at 0x8080 = 0x0");
        row("controls.nmi.virtual-nmis-requires-nmi-exiting", or(PIN_BASED_VM_EXEC_CONTROL, PinBasedControl.VIRTUAL_NMIS.mask()),
                "pin-based controls = 0x36");
        row("controls.nmi.nmi-window-requires-virtual-nmis",
                or(CPU_BASED_VM_EXEC_CONTROL, PrimaryProcessorControl.NMI_WINDOW_EXITING.mask()), "pin-based controls = 0x16");
        // ---- 27.2.1.2 ----
        row("controls.exit.reserved", or(VM_EXIT_CONTROLS, ExitControl.CLEAR_IA32_BNDCFGS.mask()),
                "bits that must be 0 are 1: clear IA32_BNDCFGS");
        row("controls.exit.save-preemption-timer-requires-timer",
                or(VM_EXIT_CONTROLS, ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask()), "pin-based controls = 0x16");
        for (String area : new String[]{"exit.msr-store", "exit.msr-load", "entry.msr-load"}) {
            VmcsField count = switch (area) {
                case "exit.msr-store" -> VM_EXIT_MSR_STORE_COUNT;
                case "exit.msr-load" -> VM_EXIT_MSR_LOAD_COUNT;
                default -> VM_ENTRY_MSR_LOAD_COUNT;
            };
            VmcsField addr = switch (area) {
                case "exit.msr-store" -> VM_EXIT_MSR_STORE_ADDR;
                case "exit.msr-load" -> VM_EXIT_MSR_LOAD_ADDR;
                default -> VM_ENTRY_MSR_LOAD_ADDR;
            };
            row("controls." + area + "-area.alignment", all(set(count, 1), set(addr, 0x13008)), addr.name() + " = 0x13008");
            row("controls." + area + "-area.width", all(set(count, 1), set(addr, BEYOND)), addr.name() + " = 0x8000000000");
            row("controls." + area + "-area.last-byte", all(set(count, 2), set(addr, BEYOND - 16)),
                    "last byte = 0x800000000f");
        }
        // ---- 27.2.1.3 ----
        row("controls.entry.reserved", or(VM_ENTRY_CONTROLS, EntryControl.ENTRY_TO_SMM.mask()),
                "bits that must be 0 are 1: entry to SMM");
        row("controls.entry.intr-info.type", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0100L), "interruption type 1 is reserved");
        row("controls.entry.intr-info.nmi-vector", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0203L), "(vector = 3)");
        row("controls.entry.intr-info.exception-vector", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0320L), "(vector = 32)");
        row("controls.entry.intr-info.other-event-vector", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0701L), "(vector = 1)");
        row("controls.entry.intr-info.error-code-required", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_030DL),
                "interruption information = 0x8000030d");
        row("controls.entry.intr-info.error-code-not-allowed", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0B06L),
                "(type = 3, vector = 6)");
        row("controls.entry.intr-info.reserved", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_1306L),
                "interruption information = 0x80001306");
        row("controls.entry.exception-error-code.reserved",
                all(set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0B0DL), set(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000)), "error code = 0x10000");
        row("controls.entry.instruction-length",
                all(set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0480L), set(VM_ENTRY_INSTRUCTION_LEN, 16)), "instruction length = 16");

        // ---- 27.2.2 ----
        row("host.cr0.fixed-bits", set(HOST_CR0, 0x80050013L), "HOST_CR0 = 0x80050013");
        row("host.cr4.fixed-bits", set(HOST_CR4, 0x220), "HOST_CR4 = 0x220");
        row("host.cr3.width", set(HOST_CR3, BEYOND | 0x1000), "HOST_CR3 = 0x8000001000");
        row("host.sysenter-esp.canonical", set(HOST_IA32_SYSENTER_ESP, NONCANONICAL), "HOST_IA32_SYSENTER_ESP = 0x800000000000");
        row("host.sysenter-eip.canonical", set(HOST_IA32_SYSENTER_EIP, NONCANONICAL), "HOST_IA32_SYSENTER_EIP = 0x800000000000");
        row("host.perf-global-ctrl.reserved", all(or(VM_EXIT_CONTROLS, ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL.mask()),
                set(HOST_IA32_PERF_GLOBAL_CTRL, 0x10)), "HOST_IA32_PERF_GLOBAL_CTRL = 0x10");
        row("host.pat.memory-types", all(or(VM_EXIT_CONTROLS, ExitControl.LOAD_IA32_PAT.mask()),
                set(HOST_IA32_PAT, 0x0007040600070402L)), "HOST_IA32_PAT = 0x7040600070402, entry 0 invalid");
        row("host.efer.reserved", set(HOST_IA32_EFER, 0x1D01), "HOST_IA32_EFER = 0x1d01");
        row("host.efer.lma-lme-match-address-space-size", set(HOST_IA32_EFER, 0x101), "HOST_IA32_EFER = 0x101");
        // ---- 27.2.3 ----
        VmcsField[] hostSel = {HOST_ES_SELECTOR, HOST_CS_SELECTOR, HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_FS_SELECTOR,
                HOST_GS_SELECTOR, HOST_TR_SELECTOR};
        for (VmcsField f : hostSel) {
            String reg = f.name().substring(5, 7).toLowerCase();
            row("host." + reg + ".selector.rpl-ti", or(f, 3), f.name() + " = 0x");
        }
        row("host.cs.selector.not-null", set(HOST_CS_SELECTOR, 0), "HOST_CS_SELECTOR = 0x0");
        row("host.tr.selector.not-null", set(HOST_TR_SELECTOR, 0), "HOST_TR_SELECTOR = 0x0");
        add(new Row("host.ss.selector.not-null-without-64-bit-host", Baseline::host32, set(HOST_SS_SELECTOR, 0), x -> { },
                false, "HOST_SS_SELECTOR = 0x0", "host.ss.selector.not-null-without-64-bit-host", Set.of()));
        for (VmcsField f : new VmcsField[]{HOST_FS_BASE, HOST_GS_BASE, HOST_GDTR_BASE, HOST_IDTR_BASE, HOST_TR_BASE}) {
            String reg = f.name().substring(5, f.name().indexOf("_BASE")).toLowerCase();
            row("host." + reg + ".base.canonical", set(f, NONCANONICAL), f.name() + " = 0x800000000000");
        }
        // ---- 27.2.4 ----
        add(new Row("host.address-space.outside-ia32e.no-ia32e-guest", Baseline::host32,
                or(VM_ENTRY_CONTROLS, EntryControl.IA32E_MODE_GUEST.mask()), x -> { }, false, "IA32_EFER.LMA = 0",
                "host.address-space.outside-ia32e.no-ia32e-guest",
                Set.of("host.address-space.32-bit-host.no-ia32e-guest", "guest.efer.lma-matches-ia32e",
                        "guest.efer.lme-matches-ia32e")));
        add(new Row("host.address-space.outside-ia32e.no-64-bit-host", Baseline::host32,
                all(or(VM_EXIT_CONTROLS, ExitControl.HOST_ADDRESS_SPACE_SIZE.mask()),
                        andNot(VM_EXIT_CONTROLS, ExitControl.LOAD_IA32_EFER.mask())), x -> { }, false, "VM-exit controls = 0x136ffb",
                "host.address-space.outside-ia32e.no-64-bit-host", Set.of()));
        add(new Row("host.address-space.ia32e-requires-64-bit-host", Baseline::host32, s -> s, x -> { }, true,
                "VM-exit controls = 0x336dfb", "host.address-space.ia32e-requires-64-bit-host", Set.of()));
        add(new Row("host.address-space.32-bit-host.no-ia32e-guest", Baseline::host32,
                or(VM_ENTRY_CONTROLS, EntryControl.IA32E_MODE_GUEST.mask()), x -> { }, true, "VM-entry controls = 0x93fb",
                "host.address-space.ia32e-requires-64-bit-host",
                Set.of("host.address-space.ia32e-requires-64-bit-host", "guest.efer.lma-matches-ia32e",
                        "guest.efer.lme-matches-ia32e")));
        add(new Row("host.address-space.32-bit-host.no-pcide", Baseline::host32, or(HOST_CR4, 0x20000), x -> { }, false,
                "HOST_CR4 = 0x22220", "host.address-space.32-bit-host.no-pcide", Set.of()));
        add(new Row("host.address-space.32-bit-host.rip-high", Baseline::host32, set(HOST_RIP, 1L << 32), x -> { }, false,
                "HOST_RIP = 0x100000000", "host.address-space.32-bit-host.rip-high", Set.of()));
        row("host.address-space.64-bit-host.pae", set(HOST_CR4, 0x2200), "HOST_CR4 = 0x2200");
        row("host.address-space.64-bit-host.rip-canonical", set(HOST_RIP, NONCANONICAL), "HOST_RIP = 0x800000000000");

        // ---- 27.3.1.1 ----
        row("guest.cr0.fixed-bits", set(GUEST_CR0, 0x80000011L), "GUEST_CR0 = 0x80000011");
        add(new Row("guest.cr0.pg-requires-pe", Baseline::vmcs, set(GUEST_CR0, 0x80000030L), x -> { }, true,
                "GUEST_CR0 = 0x80000030", "guest.cr0.fixed-bits", Set.of("guest.cr0.fixed-bits")));
        row("guest.cr4.fixed-bits", set(GUEST_CR4, 0x20), "GUEST_CR4 = 0x20");
        row("guest.debugctl.reserved", all(or(VM_ENTRY_CONTROLS, EntryControl.LOAD_DEBUG_CONTROLS.mask()),
                set(GUEST_IA32_DEBUGCTL, 4)), "GUEST_IA32_DEBUGCTL = 0x4");
        add(new Row("guest.ia32e.requires-pg", Baseline::vmcs, set(GUEST_CR0, 0x31), x -> { }, true, "GUEST_CR0 = 0x31",
                "guest.cr0.fixed-bits", Set.of("guest.cr0.fixed-bits")));
        row("guest.ia32e.requires-pae", set(GUEST_CR4, 0x2000), "GUEST_CR4 = 0x2000");
        row("guest.cr4.pcide-requires-ia32e", Baseline::pae32, or(GUEST_CR4, 0x20000), "GUEST_CR4 = 0x22020");
        row("guest.cr3.width", set(GUEST_CR3, BEYOND | 0x1000), "GUEST_CR3 = 0x8000001000");
        row("guest.dr7.high", all(or(VM_ENTRY_CONTROLS, EntryControl.LOAD_DEBUG_CONTROLS.mask()),
                set(GUEST_DR7, (1L << 32) | 0x400)), "GUEST_DR7 = 0x100000400");
        row("guest.sysenter-esp.canonical", set(GUEST_SYSENTER_ESP, NONCANONICAL), "GUEST_SYSENTER_ESP = 0x800000000000");
        row("guest.sysenter-eip.canonical", set(GUEST_SYSENTER_EIP, NONCANONICAL), "GUEST_SYSENTER_EIP = 0x800000000000");
        row("guest.perf-global-ctrl.reserved", all(or(VM_ENTRY_CONTROLS, EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL.mask()),
                set(GUEST_IA32_PERF_GLOBAL_CTRL, 0x10)), "GUEST_IA32_PERF_GLOBAL_CTRL = 0x10");
        row("guest.pat.memory-types", all(or(VM_ENTRY_CONTROLS, EntryControl.LOAD_IA32_PAT.mask()),
                set(GUEST_IA32_PAT, 0x0007040602070406L)), "entry 3 invalid");
        row("guest.efer.reserved", set(GUEST_IA32_EFER, 0x1500), "GUEST_IA32_EFER = 0x1500");
        row("guest.efer.lma-matches-ia32e", set(GUEST_IA32_EFER, 0x100), "GUEST_IA32_EFER = 0x100");
        row("guest.efer.lme-matches-ia32e", set(GUEST_IA32_EFER, 0x400), "GUEST_IA32_EFER = 0x400");

        // ---- 27.3.1.2 ----
        row("guest.tr.selector.ti", set(GUEST_TR_SELECTOR, 0x1C), "TR selector = 0x1c");
        row("guest.ldtr.selector.ti", all(LDTR_USABLE, set(GUEST_LDTR_SELECTOR, 0x2C)), "LDTR selector = 0x2c");
        row("guest.ss.selector.rpl-equals-cs-rpl", set(GUEST_CS_SELECTOR, 0x0B), "SS selector = 0x10, CS selector = 0xb");
        String[] regs = {"CS", "SS", "DS", "ES", "FS", "GS"};
        for (String r : regs) {
            VmcsField sel = VmcsField.valueOf("GUEST_" + r + "_SELECTOR"), base = VmcsField.valueOf("GUEST_" + r + "_BASE"),
                    limit = VmcsField.valueOf("GUEST_" + r + "_LIMIT");
            String l = r.toLowerCase();
            row("guest." + l + ".base.v8086", Baseline::v8086, s -> s.with(base, (s.get(sel) << 4) + 0x10), r + " base = 0x");
            row("guest." + l + ".limit.v8086", Baseline::v8086, set(limit, 0xFFFE), r + " limit = 0xfffe");
        }
        for (String r : new String[]{"TR", "FS", "GS"}) {
            row("guest." + r.toLowerCase() + ".base.canonical", set(VmcsField.valueOf("GUEST_" + r + "_BASE"), NONCANONICAL),
                    r + " base = 0x800000000000");
        }
        row("guest.ldtr.base.canonical", all(LDTR_USABLE, set(GUEST_LDTR_BASE, NONCANONICAL)), "LDTR base = 0x800000000000");
        for (String r : new String[]{"CS", "SS", "DS", "ES"}) {
            row("guest." + r.toLowerCase() + ".base.high", set(VmcsField.valueOf("GUEST_" + r + "_BASE"), 1L << 32),
                    r + " base = 0x100000000");
        }
        for (String r : regs) {
            VmcsField ar = VmcsField.valueOf("GUEST_" + r + "_AR_BYTES");
            String l = r.toLowerCase();
            row("guest." + l + ".ar.v8086", Baseline::v8086, set(ar, 0xF2), r + " AR = 0xf2");
            long good = r.equals("CS") ? 0xA09B : 0xC093;
            row("guest." + l + ".ar.s", set(ar, good & ~0x10), r + " AR = 0x" + Long.toHexString(good & ~0x10));
            row("guest." + l + ".ar.p", set(ar, good & ~0x80), r + " AR = 0x" + Long.toHexString(good & ~0x80));
            row("guest." + l + ".ar.reserved-11-8", set(ar, good | 0x100), r + " AR = 0x" + Long.toHexString(good | 0x100));
            row("guest." + l + ".ar.reserved-31-17", set(ar, good | 0x20000), r + " AR = 0x" + Long.toHexString(good | 0x20000));
            row("guest." + l + ".ar.g-limit-low", set(VmcsField.valueOf("GUEST_" + r + "_LIMIT"), 0xFFFFF000L),
                    r + " limit = 0xfffff000");
            row("guest." + l + ".ar.g-limit-high", set(ar, good & ~0x8000), r + " AR = 0x" + Long.toHexString(good & ~0x8000));
        }
        row("guest.cs.ar.type", set(GUEST_CS_AR_BYTES, 0xA093), "CS AR = 0xa093");
        row("guest.ss.ar.type", set(GUEST_SS_AR_BYTES, 0xC091), "SS AR = 0xc091");
        for (String r : new String[]{"DS", "ES", "FS", "GS"}) {
            VmcsField ar = VmcsField.valueOf("GUEST_" + r + "_AR_BYTES");
            String l = r.toLowerCase();
            row("guest." + l + ".ar.type-accessed", set(ar, 0xC092), r + " AR = 0xc092");
            row("guest." + l + ".ar.type-code-readable", set(ar, 0xC099), r + " AR = 0xc099");
            row("guest." + l + ".ar.dpl-not-below-rpl", set(VmcsField.valueOf("GUEST_" + r + "_SELECTOR"), 0x13),
                    r + " selector = 0x13");
        }
        row("guest.cs.ar.dpl-nonconforming", set(GUEST_CS_AR_BYTES, 0xA0BB), "CS AR = 0xa0bb, SS AR = 0xc093");
        row("guest.cs.ar.dpl-conforming", set(GUEST_CS_AR_BYTES, 0xA0BF), "CS AR = 0xa0bf, SS AR = 0xc093");
        row("guest.ss.ar.dpl-equals-rpl", all(set(GUEST_CS_AR_BYTES, 0xA09F), set(GUEST_SS_AR_BYTES, 0xC0B3)),
                "SS AR = 0xc0b3, SS selector = 0x10");
        row("guest.cs.ar.l-requires-d0", set(GUEST_CS_AR_BYTES, 0xE09B),
                "VM-entry check failed [SDM 27.3.1.2] guest CS access rights: L=1 requires D=0 (CS AR = 0xe09b)");
        row("guest.tr.ar.type", set(GUEST_TR_AR_BYTES, 0x89), "TR AR = 0x89");
        row("guest.tr.ar.s", set(GUEST_TR_AR_BYTES, 0x9B), "TR AR = 0x9b");
        row("guest.tr.ar.p", set(GUEST_TR_AR_BYTES, 0x0B), "TR AR = 0xb");
        row("guest.tr.ar.reserved-11-8", set(GUEST_TR_AR_BYTES, 0x18B), "TR AR = 0x18b");
        row("guest.tr.ar.g-limit-low", set(GUEST_TR_AR_BYTES, 0x808B), "TR AR = 0x808b, TR limit = 0x67");
        row("guest.tr.ar.g-limit-high", set(GUEST_TR_LIMIT, 0x100000), "TR limit = 0x100000");
        row("guest.tr.ar.unusable", set(GUEST_TR_AR_BYTES, 0x1008B), "TR AR = 0x1008b");
        row("guest.tr.ar.reserved-31-17", set(GUEST_TR_AR_BYTES, 0x2008B), "TR AR = 0x2008b");
        row("guest.ldtr.ar.type", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x83)), "LDTR AR = 0x83");
        row("guest.ldtr.ar.s", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x92)), "LDTR AR = 0x92");
        row("guest.ldtr.ar.p", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x02)), "LDTR AR = 0x2");
        row("guest.ldtr.ar.reserved-11-8", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x182)), "LDTR AR = 0x182");
        row("guest.ldtr.ar.g-limit-low", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x8082)), "LDTR AR = 0x8082, LDTR limit = 0x0");
        row("guest.ldtr.ar.g-limit-high", all(LDTR_USABLE, set(GUEST_LDTR_LIMIT, 0x100000)), "LDTR limit = 0x100000");
        row("guest.ldtr.ar.reserved-31-17", all(LDTR_USABLE, set(GUEST_LDTR_AR_BYTES, 0x20082)), "LDTR AR = 0x20082");

        // ---- 27.3.1.3 ----
        row("guest.gdtr.base.canonical", set(GUEST_GDTR_BASE, NONCANONICAL), "GDTR base = 0x800000000000");
        row("guest.idtr.base.canonical", set(GUEST_IDTR_BASE, NONCANONICAL), "IDTR base = 0x800000000000");
        row("guest.gdtr.limit.high", set(GUEST_GDTR_LIMIT, 0x10000), "GDTR limit = 0x10000");
        row("guest.idtr.limit.high", set(GUEST_IDTR_LIMIT, 0x10000), "IDTR limit = 0x10000");

        // ---- 27.3.1.4 ----
        row("guest.rip.high", Baseline::pae32, set(GUEST_RIP, 1L << 32), "RIP = 0x100000000");
        row("guest.rip.canonical", set(GUEST_RIP, NONCANONICAL), "RIP = 0x800000000000");
        row("guest.rflags.reserved", set(GUEST_RFLAGS, 0xA), "RFLAGS = 0xa");
        row("guest.rflags.vm", Baseline::v8086, all(or(VM_ENTRY_CONTROLS, EntryControl.IA32E_MODE_GUEST.mask()),
                set(GUEST_IA32_EFER, 0x500)), "RFLAGS = 0x20002, IA-32e mode guest = 1");
        row("guest.rflags.if-for-external-interrupt", set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0020L), "RFLAGS = 0x2");

        // ---- 27.3.1.5 ----
        row("guest.activity-state.supported", set(GUEST_ACTIVITY_STATE, 2), "guest activity state 2 is not supported");
        row("guest.activity-state.hlt-requires-ss-dpl0", all(set(GUEST_ACTIVITY_STATE, 1), set(GUEST_CS_SELECTOR, 0x0B),
                set(GUEST_CS_AR_BYTES, 0xA0FB), set(GUEST_SS_SELECTOR, 0x13), set(GUEST_SS_AR_BYTES, 0xC0F3)), "SS AR = 0xc0f3");
        row("guest.activity-state.active-when-sti-or-mov-ss-blocking",
                all(set(GUEST_ACTIVITY_STATE, 1), set(GUEST_INTERRUPTIBILITY_INFO, 2)), "activity state = 1, interruptibility state = 0x2");
        row("guest.activity-state.injection-allowed", all(set(GUEST_ACTIVITY_STATE, 1), set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0306L)),
                "interruption information = 0x80000306");
        row("guest.interruptibility.reserved", set(GUEST_INTERRUPTIBILITY_INFO, 0x10), "interruptibility state = 0x10");
        row("guest.interruptibility.sti-and-mov-ss", all(set(GUEST_INTERRUPTIBILITY_INFO, 3), set(GUEST_RFLAGS, 0x202)),
                "interruptibility state = 0x3");
        row("guest.interruptibility.sti-requires-if", set(GUEST_INTERRUPTIBILITY_INFO, 1), "RFLAGS = 0x2");
        row("guest.interruptibility.external-interrupt-injection", all(set(GUEST_INTERRUPTIBILITY_INFO, 2), set(GUEST_RFLAGS, 0x202),
                set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0020L)), "interruptibility state = 0x2, interruption information = 0x80000020");
        row("guest.interruptibility.nmi-injection-mov-ss", all(set(GUEST_INTERRUPTIBILITY_INFO, 2),
                set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0202L)), "interruptibility state = 0x2, interruption information = 0x80000202");
        row("guest.interruptibility.smi-outside-smm", set(GUEST_INTERRUPTIBILITY_INFO, 4), "interruptibility state = 0x4");
        row("guest.interruptibility.nmi-injection-sti", all(set(GUEST_INTERRUPTIBILITY_INFO, 1), set(GUEST_RFLAGS, 0x202),
                set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0202L)), "interruptibility state = 0x1, interruption information = 0x80000202");
        row("guest.interruptibility.virtual-nmi-injection", all(set(GUEST_INTERRUPTIBILITY_INFO, 8),
                or(PIN_BASED_VM_EXEC_CONTROL, PinBasedControl.NMI_EXITING.mask() | PinBasedControl.VIRTUAL_NMIS.mask()),
                set(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0202L)), "interruptibility state = 0x8");
        row("guest.pending-debug.reserved", set(GUEST_PENDING_DBG_EXCEPTIONS, 0x10), "pending debug exceptions = 0x10");
        row("guest.pending-debug.bs", all(set(GUEST_INTERRUPTIBILITY_INFO, 1), set(GUEST_RFLAGS, 0x302)),
                "BS (bit 14) must be 1 because RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 (pending debug exceptions = 0x0, RFLAGS = 0x302");
        row("guest.vmcs-link-pointer.alignment", set(VMCS_LINK_POINTER, Baseline.LINK_PA + 8), "VMCS link pointer = 0x7008");
        row("guest.vmcs-link-pointer.width", set(VMCS_LINK_POINTER, BEYOND), "VMCS link pointer = 0x8000000000");
        row("guest.vmcs-link-pointer.revision", set(VMCS_LINK_POINTER, 0xB000), "revision found = 0");
        add(new Row("guest.vmcs-link-pointer.shadow-indicator", Baseline::vmcs, set(VMCS_LINK_POINTER, Baseline.LINK_PA),
                m -> m.write(Baseline.LINK_PA, 4, 0x8000_0004L), true, "VMCS link pointer = 0x7000",
                "guest.vmcs-link-pointer.shadow-indicator", Set.of()));
        row("guest.vmcs-link-pointer.not-current", set(VMCS_LINK_POINTER, Baseline.VMCS_PA), "VMCS link pointer = 0x3000");

        // ---- 27.3.1.6 ----
        for (int n = 0; n < 4; n++) {
            int i = n;
            add(new Row("guest.pdpte" + i + ".reserved", Baseline::pae32, s -> s,
                    m -> m.write(Baseline.PDPT_PA + 8 * i, 8, 0xA001L + 0x1000L * i | 2), true,
                    "PDPTE" + i + " = 0x" + Long.toHexString(0xA003L + 0x1000L * i), "guest.pdpte" + i + ".reserved", Set.of()));
        }
    }

    static Stream<Row> rows() {
        return ROWS.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void mutationFailsExactlyThatCheck(Row r) {
        TestMemory mem = Baseline.memory();
        r.memory.accept(mem);
        EntryContext ctx = EntryContext.of(Baseline.CAPS, Baseline.MAXPHYADDR, mem, r.hostIa32e, Baseline.VMCS_PA);
        VmcsSnapshot s = r.mutation.apply(r.base.get());
        EntryCheck check = EntryChecks.byId(r.id);
        assertNotNull(check, "no check " + r.id);

        List<CheckFailure> failures = EntryChecks.all(s, ctx);
        Set<String> ids = new HashSet<>();
        for (CheckFailure f : failures) ids.add(f.id());
        Set<String> expected = new HashSet<>(r.coFailures);
        expected.add(r.id);
        assertEquals(expected, ids, "failures: " + failures);

        CheckFailure first = EntryChecks.firstFailure(s, ctx);
        assertNotNull(first);
        assertEquals(r.firstFailure, first.id(), first.message());

        CheckFailure mine = failures.stream().filter(f -> f.id().equals(r.id)).findFirst().orElseThrow();
        assertEquals(check.phase, mine.phase());
        assertEquals(check.section, mine.section());
        assertEquals(r.id.startsWith("controls.") ? Phase.CONTROLS : r.id.startsWith("host.") ? Phase.HOST_STATE : Phase.GUEST_STATE,
                mine.phase());
        assertTrue(mine.message().startsWith("VM-entry check failed [SDM " + check.section + "] "), mine.message());
        assertTrue(mine.message().contains(r.expectedText), "message lacks '" + r.expectedText + "': " + mine.message());
    }

    @Test
    void everyCheckHasAMutationRow() {
        Set<String> covered = new HashSet<>();
        for (Row r : ROWS) assertTrue(covered.add(r.id), "duplicate row " + r.id);
        List<String> missing = new ArrayList<>();
        for (EntryCheck c : EntryChecks.checks()) if (!covered.contains(c.id)) missing.add(c.id);
        assertEquals(List.of(), missing);
    }

    @Test
    void variantBaselinesAreValid() {
        TestMemory mem = Baseline.memory();
        assertEquals(List.of(), EntryChecks.all(Baseline.pae32(), EntryContext.of(Baseline.CAPS, 39, mem, true, Baseline.VMCS_PA)));
        assertEquals(List.of(), EntryChecks.all(Baseline.v8086(), EntryContext.of(Baseline.CAPS, 39, mem, true, Baseline.VMCS_PA)));
        assertEquals(List.of(), EntryChecks.all(Baseline.host32(), EntryContext.of(Baseline.CAPS, 39, mem, false, Baseline.VMCS_PA)));
    }

    @Test
    void exitQualifications() {
        assertEquals(2, EntryChecks.byId("guest.pdpte0.reserved").exitQualification);
        assertEquals(3, EntryChecks.byId("guest.interruptibility.nmi-injection-sti").exitQualification);
        assertEquals(4, EntryChecks.byId("guest.vmcs-link-pointer.revision").exitQualification);
        assertEquals(0, EntryChecks.byId("guest.cs.ar.l-requires-d0").exitQualification);
        assertEquals(Phase.CONTROLS, EntryChecks.byId("controls.pin.reserved").phase);
        assertEquals(7, Phase.CONTROLS.instructionError.number);
        assertEquals(8, Phase.HOST_STATE.instructionError.number);
        assertEquals(33, Phase.GUEST_STATE.exitReason.number);
    }

    @Test
    void firstFailureFollowsSdmOrder() {
        // A control error and a guest error: the control check fails first (VMfailValid 7 before any guest check).
        VmcsSnapshot s = Baseline.vmcs().with(CR3_TARGET_COUNT, 9).with(GUEST_CS_AR_BYTES, 0xE09B);
        CheckFailure f = EntryChecks.firstFailure(s, Baseline.context());
        assertEquals("controls.cr3-target-count", f.id());
        assertEquals(2, EntryChecks.all(s, Baseline.context()).size());
        assertEquals("guest.cs.ar.l-requires-d0", EntryChecks.firstFailure(s, Baseline.context(), Phase.GUEST_STATE).id());
        assertNull(EntryChecks.firstFailure(s, Baseline.context(), Phase.HOST_STATE));
    }
}
