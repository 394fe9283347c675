package lhv.machine.fuzz;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.CpuFault;
import lhv.cpu.StopReason;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.caps.FeatureControl;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.vmcs.VmcsField;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

import java.time.Duration;
import java.util.Random;

import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Random VMCS contents: from a valid 64-bit host/guest VMCS, one field or many fields get random
 * values (and the five control words random settings within or outside the capability MSRs), then
 * VM entry through the Java API (VMLAUNCH, then VMRESUME after each exit) and through an x86
 * VMLAUNCH executed by guest code in VMX root operation. Every attempt must end in VMfail, an
 * entry-failure exit (33/34), a VM exit, a shutdown or a stop reason; never a Java exception. The
 * guest is random code, so this also runs random code in VMX non-root operation under random controls.
 *
 * <p>Context: unit tests only (Java host).
 */
class VmcsFuzzTest {
    static final long VMXON = 0x20000, VMCS = 0x21000, IO_A = 0x22000, IO_B = 0x23000, MSR_BITMAP_PAGE = 0x24000,
            MSR_AREA = 0x25000, HOST_CODE = 0x30000, HOST_RIP_ADDR = 0x30010, HOST_STACK = 0x38000;
    static final Duration BOUND = Duration.ofSeconds(10);
    static final VmcsField[] FIELDS = VmcsField.values();

    /** A machine in 64-bit VMX root operation with a current, valid VMCS whose guest is {@code code}. */
    static FuzzGuest rootWithValidVmcs(byte[] code, long seed) {
        FuzzGuest g = new FuzzGuest(FuzzGuest.Mode.LONG64, code, seed);
        Cpu cpu = g.cpu;
        Vmx vmx = g.machine.vmx();
        VmxCapabilities caps = vmx.caps;
        var m = g.machine.memory();
        cpu.setCr4(cpu.cr4 | Cr.CR4_VMXE);
        cpu.stateChanged();
        vmx.featureControl.write(FeatureControl.LOCK | FeatureControl.VMXON_OUTSIDE_SMX);
        m.put32(VMXON, caps.revisionId());
        m.put32(VMCS, caps.revisionId());
        // host code: vmlaunch; hlt / at HOST_RIP: vmresume; hlt
        m.load(HOST_CODE, new byte[] {0x0F, 0x01, (byte) 0xC2, (byte) 0xF4});
        m.load(HOST_RIP_ADDR, new byte[] {0x0F, 0x01, (byte) 0xC3, (byte) 0xF4});
        ok(vmx.vmxon(VMXON));
        ok(vmx.vmclear(VMCS));
        ok(vmx.vmptrld(VMCS));
        w(vmx, PIN_BASED_VM_EXEC_CONTROL, caps.mustBeOne(ControlWord.PIN_BASED));
        w(vmx, CPU_BASED_VM_EXEC_CONTROL, caps.mustBeOne(ControlWord.PRIMARY_PROCESSOR_BASED) | (1L << 7) | (1L << 25) | (1L << 28));
        w(vmx, IO_BITMAP_A, IO_A);
        w(vmx, IO_BITMAP_B, IO_B);
        w(vmx, MSR_BITMAP, MSR_BITMAP_PAGE);
        w(vmx, VM_EXIT_CONTROLS, caps.mustBeOne(ControlWord.EXIT) | ExitControl.HOST_ADDRESS_SPACE_SIZE.mask());
        w(vmx, VM_ENTRY_CONTROLS, caps.mustBeOne(ControlWord.ENTRY) | EntryControl.IA32E_MODE_GUEST.mask());
        w(vmx, VM_EXIT_MSR_STORE_ADDR, MSR_AREA);
        w(vmx, VM_EXIT_MSR_LOAD_ADDR, MSR_AREA + 0x100);
        w(vmx, VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA + 0x200);
        w(vmx, CR3_TARGET_COUNT, 0);
        w(vmx, VMCS_LINK_POINTER, -1L);
        w(vmx, HOST_CR0, cpu.cr0);
        w(vmx, HOST_CR3, cpu.cr3);
        w(vmx, HOST_CR4, cpu.cr4);
        w(vmx, HOST_IA32_EFER, cpu.efer);
        w(vmx, HOST_CS_SELECTOR, FuzzGuest.CODE64);
        for (VmcsField f : new VmcsField[] {HOST_SS_SELECTOR, HOST_DS_SELECTOR, HOST_ES_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR}) {
            w(vmx, f, FuzzGuest.DATA32);
        }
        w(vmx, HOST_TR_SELECTOR, FuzzGuest.TSS_SEL);
        w(vmx, HOST_TR_BASE, FuzzGuest.TSS);
        w(vmx, HOST_GDTR_BASE, FuzzGuest.GDT);
        w(vmx, HOST_IDTR_BASE, FuzzGuest.IDT);
        w(vmx, HOST_RIP, HOST_RIP_ADDR);
        w(vmx, HOST_RSP, HOST_STACK);
        w(vmx, GUEST_CR0, cpu.cr0);
        w(vmx, GUEST_CR3, cpu.cr3);
        w(vmx, GUEST_CR4, cpu.cr4);
        w(vmx, GUEST_IA32_EFER, cpu.efer);
        w(vmx, GUEST_DR7, 0x400);
        w(vmx, GUEST_CS_SELECTOR, FuzzGuest.CODE64);
        w(vmx, GUEST_CS_LIMIT, 0xFFFFFFFFL);
        w(vmx, GUEST_CS_AR_BYTES, 0xA09B);
        for (VmcsField[] f : new VmcsField[][] {
                {GUEST_SS_SELECTOR, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES}, {GUEST_DS_SELECTOR, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES},
                {GUEST_ES_SELECTOR, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES}, {GUEST_FS_SELECTOR, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES},
                {GUEST_GS_SELECTOR, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES}}) {
            w(vmx, f[0], FuzzGuest.DATA32);
            w(vmx, f[1], 0xFFFFFFFFL);
            w(vmx, f[2], 0xC093);
        }
        w(vmx, GUEST_LDTR_AR_BYTES, 0x10000);
        w(vmx, GUEST_TR_SELECTOR, FuzzGuest.TSS_SEL);
        w(vmx, GUEST_TR_BASE, FuzzGuest.TSS);
        w(vmx, GUEST_TR_LIMIT, 0x67);
        w(vmx, GUEST_TR_AR_BYTES, 0x8B);
        w(vmx, GUEST_GDTR_BASE, FuzzGuest.GDT);
        w(vmx, GUEST_GDTR_LIMIT, cpu.gdtrLimit);
        w(vmx, GUEST_IDTR_BASE, FuzzGuest.IDT);
        w(vmx, GUEST_IDTR_LIMIT, cpu.idtrLimit);
        w(vmx, GUEST_RFLAGS, 2);
        w(vmx, GUEST_RIP, FuzzGuest.CODE);
        w(vmx, GUEST_RSP, FuzzGuest.STACK_TOP - 0x100);
        cpu.rip = HOST_CODE;
        cpu.gpr[Cpu.RSP] = HOST_STACK;
        return g;
    }

    static void ok(VmxResult r) {
        assertInstanceOf(VmxResult.Succeeded.class, r);
    }

    static void w(Vmx vmx, VmcsField f, long v) {
        ok(vmx.vmwrite(f, v));
    }

    /** Random control words: must-be-1 bits set, then random bits within (or, 1 time in 4, outside) allowed-1. */
    static void randomControls(Vmx vmx, Random r) {
        VmxCapabilities caps = vmx.caps;
        VmcsField[] fields = {PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL, VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS};
        ControlWord[] words = {ControlWord.PIN_BASED, ControlWord.PRIMARY_PROCESSOR_BASED, ControlWord.SECONDARY_PROCESSOR_BASED, ControlWord.EXIT, ControlWord.ENTRY};
        for (int k = 0; k < fields.length; k++) {
            int v = caps.mustBeOne(words[k]) | (r.nextInt() & (r.nextInt(4) == 0 ? -1 : caps.mayBeOne(words[k])));
            if (words[k] == ControlWord.EXIT) v |= (int) ExitControl.HOST_ADDRESS_SPACE_SIZE.mask();
            vmx.vmwrite(fields[k], v & 0xFFFFFFFFL);
        }
    }

    /** Guest-state values near what makes sense: small, page-aligned addresses in RAM, all ones, random. */
    static long value(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1L;
            case 2 -> r.nextInt(0x40) * 0x1000L;
            case 3 -> 1L << r.nextInt(64);
            case 4 -> r.nextInt(0x10000);
            default -> FuzzGuest.interesting(r);
        };
    }

    enum Mutation { ONE_FIELD, MANY_FIELDS, CONTROLS, CONTROLS_AND_FIELDS }

    /** Applies {@code mutation}; a VMWRITE that fails (read-only or unsupported field) is a valid outcome too. */
    static void mutate(Vmx vmx, Mutation mutation, Random r) {
        switch (mutation) {
            case ONE_FIELD -> vmx.vmwrite(FIELDS[r.nextInt(FIELDS.length)], value(r));
            case MANY_FIELDS -> {
                for (int n = 1 + r.nextInt(20); n > 0; n--) vmx.vmwrite(FIELDS[r.nextInt(FIELDS.length)], value(r));
            }
            case CONTROLS -> randomControls(vmx, r);
            case CONTROLS_AND_FIELDS -> {
                randomControls(vmx, r);
                for (int n = r.nextInt(6); n > 0; n--) vmx.vmwrite(FIELDS[r.nextInt(FIELDS.length)], value(r));
            }
        }
        // random VMCS-referenced memory: bitmaps, MSR areas
        for (int n = r.nextInt(4); n > 0; n--) vmx.cpu.mem.write(MSR_AREA + 8L * r.nextInt(0x60), 8, r.nextLong());
    }

    /** VMLAUNCH through the Java API, then run the guest and VMRESUME after each exit a few times. */
    @Property(tries = 400, seed = "31337", shrinking = ShrinkingMode.BOUNDED)
    void javaApiEntryWithRandomVmcsEndsInADefinedOutcome(@ForAll("mutations") Mutation mutation, @ForAll long seed,
                                                          @ForAll("code") byte[] code) {
        String outcome = assertTimeoutPreemptively(BOUND, () -> {
            try (FuzzGuest g = rootWithValidVmcs(code, seed)) {
                Vmx vmx = g.machine.vmx();
                mutate(vmx, mutation, new Random(seed));
                VmxResult r = vmx.vmlaunch();
                String first = r.getClass().getSimpleName();
                for (int exits = 0; exits < 8 && r.succeeded(); exits++) {
                    StopReason s = g.cpu.run(500);
                    assertNotNull(s);
                    if (s != StopReason.VM_EXIT) break;
                    r = vmx.vmresume();
                }
                assertNotNull(r);
                return first;
            } catch (CpuFault f) {
                return "fault #" + f.vector;
                // A VMX instruction from Java may fault exactly as the x86 instruction would (#UD, #GP):
                // a defined architectural outcome.
            }
        }, () -> "mutation " + mutation + " seed " + seed);
        Statistics.collect(outcome);
    }

    /** The same, with VMLAUNCH/VMRESUME executed as x86 instructions by host code in VMX root operation. */
    @Property(tries = 400, seed = "1337", shrinking = ShrinkingMode.BOUNDED)
    void x86EntryWithRandomVmcsEndsInADefinedOutcome(@ForAll("mutations") Mutation mutation, @ForAll long seed,
                                                     @ForAll("code") byte[] code) {
        String outcome = assertTimeoutPreemptively(BOUND, () -> {
            try (FuzzGuest g = rootWithValidVmcs(code, seed)) {
                mutate(g.machine.vmx(), mutation, new Random(seed));
                StopReason s = g.cpu.run(3000);
                assertNotNull(s);
                return s + (g.cpu.nonRoot ? " in non-root" : " in root");
            }
        }, () -> "mutation " + mutation + " seed " + seed);
        Statistics.collect(outcome);
    }

    @Provide
    Arbitrary<Mutation> mutations() {
        return Arbitraries.of(Mutation.class);
    }

    @Provide
    Arbitrary<byte[]> code() {
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(256),
                new GuestCodeFuzzTest().mixes());
    }
}
