package lhv.hypervisor.setup;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Msr;
import lhv.cpu.Segment;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.config.VmConfig.MsrEntry;
import lhv.hypervisor.config.VmConfig.SeedMistake;
import lhv.hypervisor.setup.ControlSelection.Controls;
import lhv.hypervisor.setup.MachineRegions.Region;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * Fills the current VMCS the way the seed's init_vmcs_control_field does, from a {@link VmConfig}:
 * the five control words, exception bitmap and #PF error-code mask/match, I/O bitmaps A and B, the
 * CR0/CR4 guest/host masks and read shadows, the CR3-target values and count, the MSR bitmap, the
 * three MSR areas, the host-state area (from the processor's current host context) and the
 * guest-state area (the host's segments and CR3, as the seed does; no EPT), then the guest entry
 * point. Every VMWRITE is checked ({@link CheckedVmcs}). The bitmaps and MSR areas are allocated
 * from machine memory and recorded in {@link #regions()} so the caller frees them on every path.
 *
 * <p>Context: Java host (VMX root software), after VMPTRLD.
 */
public final class VmcsBuilder {
    private final CheckedVmcs vmcs;
    private final Cpu cpu;
    private final VmxCapabilities caps;
    private final MachineRegions alloc;
    private final MemorySegment ram;
    private final List<Region> regions = new ArrayList<>();

    public VmcsBuilder(CheckedVmcs vmcs, Cpu cpu, VmxCapabilities caps, MachineRegions alloc) {
        this.vmcs = vmcs;
        this.cpu = cpu;
        this.caps = caps;
        this.alloc = alloc;
        this.ram = cpu.mem.ram();
    }

    /** Regions allocated so far (bitmaps, MSR areas), to be freed by the caller. */
    public List<Region> regions() {
        return List.copyOf(regions);
    }

    // ---- VM-execution, VM-exit and VM-entry controls (SDM 25.6-25.8) ----

    public void controls(Controls c, VmConfig config) {
        vmcs.write(PIN_BASED_VM_EXEC_CONTROL, c.pin() & 0xFFFFFFFFL);
        vmcs.write(CPU_BASED_VM_EXEC_CONTROL, c.primary() & 0xFFFFFFFFL);
        if (config.seedMistakes().contains(SeedMistake.SECONDARY_IN_PRIMARY)) {
            // The seed's mistake: the secondary value lands in the primary field (0x4002).
            vmcs.write(CPU_BASED_VM_EXEC_CONTROL, c.secondary() & 0xFFFFFFFFL);
        } else if (PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.isSet(c.primary())) {
            vmcs.write(SECONDARY_VM_EXEC_CONTROL, c.secondary() & 0xFFFFFFFFL);
        }
        vmcs.write(VM_EXIT_CONTROLS, c.exit() & 0xFFFFFFFFL);
        vmcs.write(VM_ENTRY_CONTROLS, c.entry() & 0xFFFFFFFFL);
        // SDM 25.6.3: a #PF exits iff (PFEC & mask) == match, inverted when bit 14 of the bitmap is 0.
        vmcs.write(EXCEPTION_BITMAP, config.exceptionBitmap() & 0xFFFFFFFFL);
        vmcs.write(PAGE_FAULT_ERROR_CODE_MASK, config.pageFaultErrorCodeMask() & 0xFFFFFFFFL);
        vmcs.write(PAGE_FAULT_ERROR_CODE_MATCH, config.pageFaultErrorCodeMatch() & 0xFFFFFFFFL);
        if (PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.isSet(c.pin())) {
            vmcs.write(VMX_PREEMPTION_TIMER_VALUE, Math.max(0, config.preemptionTimer()) & 0xFFFFFFFFL);
        }
    }

    /** I/O bitmap A covers ports 0-0x7FFF, B 0x8000-0xFFFF; a set bit makes the access exit (SDM 25.6.4). */
    public void ioBitmaps(VmConfig config) {
        Region a = take(alloc.allocate("I/O bitmap A", MachineRegions.PAGE));
        Region b = take(alloc.allocate("I/O bitmap B", MachineRegions.PAGE));
        for (VmConfig.PortRange r : config.ioTraps()) {
            for (int port = r.first(); port <= r.last(); port++) {
                long base = port < 0x8000 ? a.base() : b.base();
                setBit(base, port & 0x7FFF);
            }
        }
        vmcs.write(IO_BITMAP_A, a.base());
        vmcs.write(IO_BITMAP_B, b.base());
    }

    /**
     * The 4 KiB MSR bitmap (SDM 25.6.9): read bitmap for low MSRs (0-0x1FFF) at offset 0, for high
     * MSRs (0xC0000000-0xC0001FFF) at 1024, then the write bitmaps at 2048 and 3072. MSRs outside both
     * ranges always exit, so they need no bit.
     */
    public void msrBitmap(VmConfig config) {
        Region m = take(alloc.allocate("MSR bitmap", MachineRegions.PAGE));
        for (int msr : config.msrReadTraps()) setMsrBit(m.base(), 0, msr);
        for (int msr : config.msrWriteTraps()) setMsrBit(m.base(), 2048, msr);
        if (caps.supports(MSR_BITMAP)) vmcs.write(MSR_BITMAP, m.base());
    }

    private void setMsrBit(long base, int offset, int msr) {
        if (msr >= 0 && msr <= 0x1FFF) setBit(base + offset, msr);
        else if (msr >= 0xC0000000 && msr <= 0xC0001FFF) setBit(base + offset + 1024, msr - 0xC0000000);
    }

    /** CR0/CR4 guest/host masks and read shadows (SDM 25.6.6); the seed's shadow hides the masked bits. */
    public void crMasksAndShadows(VmConfig config) {
        vmcs.write(CR0_GUEST_HOST_MASK, config.cr0().mask());
        vmcs.write(CR0_READ_SHADOW, shadow(config.cr0(), cpu.cr0));
        vmcs.write(CR4_GUEST_HOST_MASK, config.cr4().mask());
        vmcs.write(CR4_READ_SHADOW, shadow(config.cr4(), cpu.cr4));
    }

    static long shadow(VmConfig.CrVirtualization v, long hostValue) {
        return v.shadow() != null ? v.shadow() : hostValue & ~v.mask();
    }

    /** CR3-target values and count (SDM 25.6.7): MOV to CR3 of one of these does not exit. */
    public void cr3Targets(VmConfig config) {
        VmcsField[] fields = {CR3_TARGET_VALUE0, CR3_TARGET_VALUE1, CR3_TARGET_VALUE2, CR3_TARGET_VALUE3};
        List<Long> t = config.cr3Targets();
        for (int i = 0; i < t.size(); i++) vmcs.write(fields[i], t.get(i));
        vmcs.write(CR3_TARGET_COUNT, t.size());
    }

    /**
     * The VM-exit MSR-store, VM-exit MSR-load and VM-entry MSR-load areas (SDM 25.7.2, 25.8.2): 16-byte
     * entries of index, reserved, data. With the seed mistake "msr-area-counts" the counts go to the
     * address fields and the addresses to the count fields.
     */
    public void msrAreas(VmConfig config) {
        boolean swapped = config.seedMistakes().contains(SeedMistake.MSR_AREA_COUNTS);
        area("VM-exit MSR-store area", config.exitMsrStore(), VM_EXIT_MSR_STORE_ADDR, VM_EXIT_MSR_STORE_COUNT, swapped);
        area("VM-exit MSR-load area", config.exitMsrLoad(), VM_EXIT_MSR_LOAD_ADDR, VM_EXIT_MSR_LOAD_COUNT, swapped);
        area("VM-entry MSR-load area", config.entryMsrLoad(), VM_ENTRY_MSR_LOAD_ADDR, VM_ENTRY_MSR_LOAD_COUNT, swapped);
    }

    private void area(String name, List<MsrEntry> entries, VmcsField addrField, VmcsField countField, boolean swapped) {
        long addr = 0;
        if (!entries.isEmpty()) {
            Region r = take(alloc.allocate(name, entries.size() * 16L));
            for (int i = 0; i < entries.size(); i++) {
                ram.set(ValueLayout.JAVA_INT_UNALIGNED, r.base() + i * 16L, entries.get(i).index());
                ram.set(ValueLayout.JAVA_LONG_UNALIGNED, r.base() + i * 16L + 8, entries.get(i).value());
            }
            addr = r.base();
        }
        if (swapped) {
            vmcs.write(addrField, entries.size());
            vmcs.write(countField, addr & 0xFFFFFFFFL);
        } else {
            vmcs.write(addrField, addr);
            vmcs.write(countField, entries.size());
        }
    }

    /** The host-state area (SDM 25.5): the processor's current (host) context, HOST_RIP/RSP from {@code host}. */
    public void hostState(HostEnvironment host) {
        vmcs.write(HOST_CR0, cpu.cr0);
        vmcs.write(HOST_CR3, cpu.cr3);
        vmcs.write(HOST_CR4, cpu.cr4);
        vmcs.write(HOST_ES_SELECTOR, cpu.seg[Segment.ES].selector & 0xF8);
        vmcs.write(HOST_CS_SELECTOR, cpu.seg[Segment.CS].selector & 0xF8);
        vmcs.write(HOST_SS_SELECTOR, cpu.seg[Segment.SS].selector & 0xF8);
        vmcs.write(HOST_DS_SELECTOR, cpu.seg[Segment.DS].selector & 0xF8);
        vmcs.write(HOST_FS_SELECTOR, cpu.seg[Segment.FS].selector & 0xF8);
        vmcs.write(HOST_GS_SELECTOR, cpu.seg[Segment.GS].selector & 0xF8);
        vmcs.write(HOST_TR_SELECTOR, cpu.tr.selector & 0xF8);
        vmcs.write(HOST_FS_BASE, cpu.seg[Segment.FS].base);
        vmcs.write(HOST_GS_BASE, cpu.seg[Segment.GS].base);
        vmcs.write(HOST_TR_BASE, cpu.tr.base);
        vmcs.write(HOST_GDTR_BASE, cpu.gdtrBase);
        vmcs.write(HOST_IDTR_BASE, cpu.idtrBase);
        vmcs.write(HOST_IA32_SYSENTER_CS, rdmsr(Msr.IA32_SYSENTER_CS));
        vmcs.write(HOST_IA32_SYSENTER_ESP, rdmsr(Msr.IA32_SYSENTER_ESP));
        vmcs.write(HOST_IA32_SYSENTER_EIP, rdmsr(Msr.IA32_SYSENTER_EIP));
        if (caps.supports(HOST_IA32_PAT)) vmcs.write(HOST_IA32_PAT, rdmsr(Msr.IA32_PAT));
        if (caps.supports(HOST_IA32_EFER)) vmcs.write(HOST_IA32_EFER, cpu.efer);
        vmcs.write(HOST_RSP, host.stackTop);
        vmcs.write(HOST_RIP, host.exitStub);
    }

    /**
     * The guest-state area (SDM 25.4) as the seed fills it: the host's selectors, bases and control
     * registers (the guest shares CR3: no EPT), null data selectors marked unusable, LDTR unusable,
     * VMCS link pointer all ones, activity state active.
     */
    public void guestState() {
        int[] segs = {Segment.ES, Segment.CS, Segment.SS, Segment.DS, Segment.FS, Segment.GS};
        VmcsField[] sel = {GUEST_ES_SELECTOR, GUEST_CS_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR, GUEST_FS_SELECTOR, GUEST_GS_SELECTOR};
        VmcsField[] lim = {GUEST_ES_LIMIT, GUEST_CS_LIMIT, GUEST_SS_LIMIT, GUEST_DS_LIMIT, GUEST_FS_LIMIT, GUEST_GS_LIMIT};
        VmcsField[] ar = {GUEST_ES_AR_BYTES, GUEST_CS_AR_BYTES, GUEST_SS_AR_BYTES, GUEST_DS_AR_BYTES, GUEST_FS_AR_BYTES, GUEST_GS_AR_BYTES};
        VmcsField[] base = {GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE};
        for (int i = 0; i < segs.length; i++) {
            Segment s = cpu.seg[segs[i]];
            // SDM 25.4.1: a null selector in ES/DS/FS/GS makes the register unusable (AR bit 16).
            boolean unusable = s.selector == 0 && segs[i] != Segment.CS && segs[i] != Segment.SS;
            vmcs.write(sel[i], s.selector);
            vmcs.write(lim[i], s.limit & 0xFFFFFFFFL);
            vmcs.write(ar[i], unusable ? Segment.AR_UNUSABLE : s.attributes & 0xFFFFFFFFL);
            vmcs.write(base[i], s.base);
        }
        vmcs.write(GUEST_LDTR_SELECTOR, 0);
        vmcs.write(GUEST_LDTR_LIMIT, 0); // meaningless while unusable; 0 is what a VM exit gives the host's LDTR (SDM 28.5.2)
        vmcs.write(GUEST_LDTR_AR_BYTES, Segment.AR_UNUSABLE);
        vmcs.write(GUEST_LDTR_BASE, 0);
        vmcs.write(GUEST_TR_SELECTOR, cpu.tr.selector);
        vmcs.write(GUEST_TR_LIMIT, cpu.tr.limit & 0xFFFFFFFFL);
        vmcs.write(GUEST_TR_AR_BYTES, cpu.tr.attributes);
        vmcs.write(GUEST_TR_BASE, cpu.tr.base);
        vmcs.write(GUEST_GDTR_BASE, cpu.gdtrBase);
        vmcs.write(GUEST_GDTR_LIMIT, cpu.gdtrLimit);
        vmcs.write(GUEST_IDTR_BASE, cpu.idtrBase);
        vmcs.write(GUEST_IDTR_LIMIT, cpu.idtrLimit);

        vmcs.write(GUEST_CR0, cpu.cr0);
        vmcs.write(GUEST_CR3, cpu.cr3);
        vmcs.write(GUEST_CR4, cpu.cr4);
        vmcs.write(GUEST_DR7, 0x400);
        vmcs.write(GUEST_RFLAGS, lhv.cpu.Rflags.FIXED1);
        vmcs.write(GUEST_IA32_DEBUGCTL, 0);
        vmcs.write(GUEST_SYSENTER_CS, rdmsr(Msr.IA32_SYSENTER_CS));
        vmcs.write(GUEST_SYSENTER_ESP, rdmsr(Msr.IA32_SYSENTER_ESP));
        vmcs.write(GUEST_SYSENTER_EIP, rdmsr(Msr.IA32_SYSENTER_EIP));
        if (caps.supports(GUEST_IA32_PAT)) vmcs.write(GUEST_IA32_PAT, rdmsr(Msr.IA32_PAT));
        if (caps.supports(GUEST_IA32_EFER)) vmcs.write(GUEST_IA32_EFER, cpu.efer);

        vmcs.write(GUEST_ACTIVITY_STATE, 0);
        vmcs.write(GUEST_INTERRUPTIBILITY_INFO, 0);
        vmcs.write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
        vmcs.write(VMCS_LINK_POINTER, -1L);
    }

    /** Guest RIP = the image's entry point; RSP = top of the guest stack aligned down to 16 (the seed's rule). */
    public void entryPoint(long rip, long stackTop) {
        vmcs.write(GUEST_RSP, stackTop & ~0xFL);
        vmcs.write(GUEST_RIP, rip);
    }

    private long rdmsr(int index) {
        try {
            return cpu.sys.rdmsr(index);
        } catch (CpuFault f) {
            return 0;
        }
    }

    private Region take(Region r) {
        regions.add(r);
        return r;
    }

    private void setBit(long base, int bit) {
        long pa = base + (bit >>> 3);
        byte b = ram.get(ValueLayout.JAVA_BYTE, pa);
        ram.set(ValueLayout.JAVA_BYTE, pa, (byte) (b | (1 << (bit & 7))));
    }
}
