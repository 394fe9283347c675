package lhv.vmx;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.intercept.VmExitSignal;
import lhv.cpu.model.CpuModel;
import lhv.vmx.caps.FeatureControl;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * A processor with VMX in 64-bit mode at CPL 0 (identity paging over the first 4 MiB), a VMXON
 * region and one VMCS holding a valid 64-bit host and guest: the known-good baseline that tests
 * change one thing of.
 *
 * <p>Memory map: 0x1000 VMXON region, 0x2000 VMCS, 0x3000 second VMCS, 0x4000/0x5000 I/O bitmaps
 * A/B, 0x6000 MSR bitmaps, 0x7000 MSR areas, 0x8000 GDT, 0x9000-0xB000 page tables, 0x10000 guest code,
 * 0x20000 host code.
 */
public final class VmxTestbed {
    public static final long VMXON = 0x1000, VMCS = 0x2000, VMCS2 = 0x3000, IO_A = 0x4000, IO_B = 0x5000,
            MSR_BITMAP_PAGE = 0x6000, MSR_AREA = 0x7000, GDT = 0x8000, PML4 = 0x9000, GUEST_RIP0 = 0x10000,
            GUEST_RSP0 = 0x18000, HOST_RIP0 = 0x20000, HOST_RSP0 = 0x28000;
    public static final long CR0 = Cr.CR0_PE | Cr.CR0_ET | Cr.CR0_NE | Cr.CR0_PG;
    public static final long CR4 = Cr.CR4_PAE | Cr.CR4_VMXE;
    public static final int CODE64_AR = 0xA09B, DATA_AR = 0xC093, TSS_AR = 0x8B;

    public final TestMemory mem = new TestMemory(4 << 20);
    public final Cpu cpu = new Cpu(CpuModel.withVmx(), mem);
    public final VmxCapabilities caps = VmxCapabilities.skylakeClient();
    public final Vmx vmx = Vmx.attach(cpu, caps);

    public VmxTestbed() {
        // identity map 0-4 MiB with 2 MiB pages: PML4 -> PDPT -> PD
        mem.write(PML4, 8, (PML4 + 0x1000) | 3);
        mem.write(PML4 + 0x1000, 8, (PML4 + 0x2000) | 3);
        mem.write(PML4 + 0x2000, 8, 0x83);
        mem.write(PML4 + 0x2008, 8, 0x200000 | 0x83);
        // GDT: null, 64-bit code 0x08, data 0x10, TSS 0x18 (16 bytes)
        mem.write(GDT + 8, 8, 0x00AF9B000000FFFFL);
        mem.write(GDT + 16, 8, 0x00CF93000000FFFFL);
        mem.write(GDT + 24, 8, 0x00008B0000000067L);
        cpu.setCr0(CR0);
        cpu.setCr4(CR4);
        cpu.setCr3(PML4);
        cpu.setEfer(Cr.EFER_LME | Cr.EFER_LMA);
        cpu.seg[Segment.CS].set(0x08, 0, -1, CODE64_AR);
        for (int s : new int[]{Segment.SS, Segment.DS, Segment.ES, Segment.FS, Segment.GS}) cpu.seg[s].set(0x10, 0, -1, DATA_AR);
        cpu.tr.set(0x18, 0, 0x67, TSS_AR);
        cpu.setGdtr(GDT, cpu.gdtrLimit);
        cpu.setGdtr(cpu.gdtrBase, 0x27);
        cpu.cpl = 0;
        cpu.rip = HOST_RIP0;
        cpu.gpr[Cpu.RSP] = HOST_RSP0;
        cpu.stateChanged();
        vmx.featureControl.write(FeatureControl.LOCK | FeatureControl.VMXON_OUTSIDE_SMX);
        mem.write(VMXON, 4, caps.revisionId());
        mem.write(VMCS, 4, caps.revisionId());
        mem.write(VMCS2, 4, caps.revisionId());
    }

    /** VMXON, VMCLEAR and VMPTRLD of {@link #VMCS}, every step asserted to succeed. */
    public VmxTestbed inVmxRootWithVmcs() {
        ok(vmx.vmxon(VMXON));
        ok(vmx.vmclear(VMCS));
        ok(vmx.vmptrld(VMCS));
        return this;
    }

    public void ok(VmxResult r) {
        assertInstanceOf(VmxResult.Succeeded.class, r);
    }

    public void w(VmcsField f, long v) {
        ok(vmx.vmwrite(f, v));
    }

    public long r(VmcsField f) {
        return vmx.vmread(f).orThrow();
    }

    /** A valid 64-bit host and guest with the minimal controls (SDM 27.2-27.3). */
    public VmxTestbed validVmcs() {
        w(PIN_BASED_VM_EXEC_CONTROL, caps.mustBeOne(ControlWord.PIN_BASED));
        w(CPU_BASED_VM_EXEC_CONTROL, caps.mustBeOne(ControlWord.PRIMARY_PROCESSOR_BASED));
        w(VM_EXIT_CONTROLS, caps.mustBeOne(ControlWord.EXIT) | ExitControl.HOST_ADDRESS_SPACE_SIZE.mask());
        w(VM_ENTRY_CONTROLS, caps.mustBeOne(ControlWord.ENTRY) | EntryControl.IA32E_MODE_GUEST.mask());
        w(CR3_TARGET_COUNT, 0);
        w(VMCS_LINK_POINTER, -1L);
        w(HOST_CR0, CR0);
        w(HOST_CR3, PML4);
        w(HOST_CR4, CR4);
        w(HOST_CS_SELECTOR, 0x08);
        w(HOST_SS_SELECTOR, 0x10);
        w(HOST_DS_SELECTOR, 0x10);
        w(HOST_ES_SELECTOR, 0x10);
        w(HOST_FS_SELECTOR, 0);
        w(HOST_GS_SELECTOR, 0x10);
        w(HOST_TR_SELECTOR, 0x18);
        w(HOST_GDTR_BASE, GDT);
        w(HOST_IDTR_BASE, 0);
        w(HOST_RIP, HOST_RIP0);
        w(HOST_RSP, HOST_RSP0);
        w(GUEST_CR0, CR0);
        w(GUEST_CR3, PML4);
        w(GUEST_CR4, CR4);
        w(GUEST_DR7, 0x400);
        w(GUEST_CS_SELECTOR, 0x08);
        w(GUEST_CS_LIMIT, 0xFFFFFFFFL);
        w(GUEST_CS_AR_BYTES, CODE64_AR);
        for (VmcsField[] f : new VmcsField[][]{
                {GUEST_SS_SELECTOR, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES}, {GUEST_DS_SELECTOR, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES},
                {GUEST_ES_SELECTOR, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES}, {GUEST_FS_SELECTOR, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES},
                {GUEST_GS_SELECTOR, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES}}) {
            w(f[0], 0x10);
            w(f[1], 0xFFFFFFFFL);
            w(f[2], DATA_AR);
        }
        w(GUEST_LDTR_AR_BYTES, 0x10000);
        w(GUEST_TR_SELECTOR, 0x18);
        w(GUEST_TR_LIMIT, 0x67);
        w(GUEST_TR_AR_BYTES, TSS_AR);
        w(GUEST_GDTR_BASE, GDT);
        w(GUEST_GDTR_LIMIT, 0x27);
        w(GUEST_IDTR_LIMIT, 0xFFF);
        w(GUEST_RFLAGS, 2);
        w(GUEST_RIP, GUEST_RIP0);
        w(GUEST_RSP, GUEST_RSP0);
        return this;
    }

    /** Sets primary processor-based controls (on top of the must-be-one bits). */
    public VmxTestbed primary(PrimaryProcessorControl... controls) {
        int v = caps.mustBeOne(ControlWord.PRIMARY_PROCESSOR_BASED);
        for (PrimaryProcessorControl c : controls) v |= c.mask();
        w(CPU_BASED_VM_EXEC_CONTROL, v & 0xFFFF_FFFFL);
        return this;
    }

    /** VMLAUNCH through the Java API, asserted to succeed: the processor is then in non-root operation. */
    public VmxTestbed launch() {
        ok(vmx.vmlaunch());
        return this;
    }

    /** Runs {@code action}, which must cause a VM exit to Java; returns the basic exit reason. */
    public int expectExit(Runnable action) {
        try {
            action.run();
        } catch (VmExitSignal s) {
            assertEquals(true, s.returnToHost, "exit of a Java-launched guest returns to Java");
            return (int) r(VM_EXIT_REASON) & 0xFFFF;
        }
        throw new AssertionError("expected a VM exit");
    }
}
