package lhv.vmx.entry;

import static lhv.vmx.vmcs.VmcsField.*;

import lhv.vmx.TestMemory;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * A fully valid VMCS in the shape the seed hypervisor builds: 64-bit host and 64-bit guest sharing
 * identity-mapped page tables, I/O and MSR bitmaps, HLT exiting, EFER loaded on entry and exit.
 * Every value is written here literally from the SDM's rules, not produced by the checks.
 */
final class Baseline {
    private Baseline() { }

    static final VmxCapabilities CAPS = VmxCapabilities.skylakeClient();
    static final int MAXPHYADDR = 39;
    static final long VMCS_PA = 0x3000, LINK_PA = 0x7000, VAPIC_PA = 0x8000, PDPT_PA = 0x9000;

    static TestMemory memory() {
        TestMemory m = new TestMemory(64 * 1024);
        m.write(VMCS_PA, 4, 4);          // the current VMCS
        m.write(LINK_PA, 4, 4);          // a second VMCS region with the right revision id
        for (int i = 0; i < 4; i++) m.write(PDPT_PA + 8 * i, 8, 0xA001L + 0x1000L * i); // valid PAE PDPTEs
        return m;
    }

    static EntryContext context() {
        return EntryContext.of(CAPS, MAXPHYADDR, memory(), true, VMCS_PA);
    }

    static VmcsSnapshot vmcs() {
        Vmcs v = new Vmcs();
        // ---- controls ----
        v.write(PIN_BASED_VM_EXEC_CONTROL, 0x16);
        v.write(CPU_BASED_VM_EXEC_CONTROL, 0x04006172L | PrimaryProcessorControl.HLT_EXITING.mask()
                | PrimaryProcessorControl.USE_IO_BITMAPS.mask() | PrimaryProcessorControl.USE_MSR_BITMAPS.mask()
                | (PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.mask() & 0xFFFF_FFFFL));
        v.write(SECONDARY_VM_EXEC_CONTROL, SecondaryProcessorControl.ENABLE_RDTSCP.mask());
        v.write(EXCEPTION_BITMAP, 1 << 14);
        v.write(CR3_TARGET_COUNT, 0);
        v.write(IO_BITMAP_A, 0x10000);
        v.write(IO_BITMAP_B, 0x11000);
        v.write(MSR_BITMAP, 0x12000);
        v.write(VM_EXIT_CONTROLS, 0x36dfbL | ExitControl.HOST_ADDRESS_SPACE_SIZE.mask() | ExitControl.LOAD_IA32_EFER.mask()
                | ExitControl.SAVE_IA32_EFER.mask());
        v.write(VM_ENTRY_CONTROLS, 0x11fbL | EntryControl.IA32E_MODE_GUEST.mask() | EntryControl.LOAD_IA32_EFER.mask());
        v.write(VM_EXIT_MSR_STORE_ADDR, 0x13000);
        v.write(VM_EXIT_MSR_LOAD_ADDR, 0x13100);
        v.write(VM_ENTRY_MSR_LOAD_ADDR, 0x13200);
        v.write(CR0_GUEST_HOST_MASK, 0x80000021L);
        v.write(CR0_READ_SHADOW, 0x80000031L);
        v.write(CR4_GUEST_HOST_MASK, 0x2000);
        v.write(CR4_READ_SHADOW, 0x20);
        // ---- host state ----
        v.write(HOST_CR0, 0x80050033L);
        v.write(HOST_CR3, 0x1000);
        v.write(HOST_CR4, 0x2220);
        v.write(HOST_ES_SELECTOR, 0x10);
        v.write(HOST_CS_SELECTOR, 0x08);
        v.write(HOST_SS_SELECTOR, 0x10);
        v.write(HOST_DS_SELECTOR, 0x10);
        v.write(HOST_FS_SELECTOR, 0x10);
        v.write(HOST_GS_SELECTOR, 0x10);
        v.write(HOST_TR_SELECTOR, 0x18);
        v.write(HOST_TR_BASE, 0x5000);
        v.write(HOST_GDTR_BASE, 0x4000);
        v.write(HOST_IDTR_BASE, 0x6000);
        v.write(HOST_IA32_EFER, 0xD01);
        v.write(HOST_RSP, 0x300000);
        v.write(HOST_RIP, 0x200000);
        // ---- guest state ----
        v.write(GUEST_CR0, 0x80000031L);
        v.write(GUEST_CR3, 0x1000);
        v.write(GUEST_CR4, 0x2020);
        v.write(GUEST_DR7, 0x400);
        v.write(GUEST_RSP, 0x8000);
        v.write(GUEST_RIP, 0x401000);
        v.write(GUEST_RFLAGS, 0x2);
        v.write(GUEST_CS_SELECTOR, 0x08);
        v.write(GUEST_CS_LIMIT, 0xFFFF_FFFFL);
        v.write(GUEST_CS_AR_BYTES, 0xA09B);
        for (var f : new lhv.vmx.vmcs.VmcsField[][]{
                {GUEST_SS_SELECTOR, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES}, {GUEST_DS_SELECTOR, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES},
                {GUEST_ES_SELECTOR, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES}, {GUEST_FS_SELECTOR, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES},
                {GUEST_GS_SELECTOR, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES}}) {
            v.write(f[0], 0x10);
            v.write(f[1], 0xFFFF_FFFFL);
            v.write(f[2], 0xC093);
        }
        v.write(GUEST_LDTR_AR_BYTES, 0x10000);
        v.write(GUEST_TR_SELECTOR, 0x18);
        v.write(GUEST_TR_BASE, 0x5000);
        v.write(GUEST_TR_LIMIT, 0x67);
        v.write(GUEST_TR_AR_BYTES, 0x8B);
        v.write(GUEST_GDTR_BASE, 0x4000);
        v.write(GUEST_GDTR_LIMIT, 0x27);
        v.write(GUEST_IDTR_BASE, 0x6000);
        v.write(GUEST_IDTR_LIMIT, 0xFFF);
        v.write(GUEST_IA32_EFER, 0x500);
        v.write(GUEST_IA32_PAT, 0x0007040600070406L);
        v.write(GUEST_ACTIVITY_STATE, 0);
        v.write(GUEST_INTERRUPTIBILITY_INFO, 0);
        v.write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
        v.write(VMCS_LINK_POINTER, -1L);
        return v.snapshot();
    }

    /** A 32-bit protected-mode guest with PAE paging (PDPTEs at {@link #PDPT_PA}), 64-bit host. */
    static VmcsSnapshot pae32() {
        return vmcs()
                .with(VM_ENTRY_CONTROLS, vmcs().get(VM_ENTRY_CONTROLS) & ~EntryControl.IA32E_MODE_GUEST.mask())
                .with(GUEST_IA32_EFER, 0)
                .with(GUEST_CS_AR_BYTES, 0xC09B)
                .with(GUEST_CR3, PDPT_PA);
    }

    /** {@link #pae32()} with a 32-bit host: "host address-space size" = 0, host EFER.LMA = LME = 0. */
    static VmcsSnapshot host32() {
        return pae32()
                .with(VM_EXIT_CONTROLS, vmcs().get(VM_EXIT_CONTROLS) & ~ExitControl.HOST_ADDRESS_SPACE_SIZE.mask())
                .with(HOST_IA32_EFER, 0x1);
    }

    /** A virtual-8086 guest (RFLAGS.VM = 1) on top of {@link #pae32()}. */
    static VmcsSnapshot v8086() {
        VmcsSnapshot s = pae32().with(GUEST_RFLAGS, 0x20002);
        lhv.vmx.vmcs.VmcsField[][] segs = {
                {GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES},
                {GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES},
                {GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES},
                {GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES},
                {GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES},
                {GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES}};
        int sel = 0x1000;
        for (var f : segs) {
            s = s.with(f[0], sel).with(f[1], (long) sel << 4).with(f[2], 0xFFFF).with(f[3], 0xF3);
            sel += 0x1000;
        }
        return s.with(GUEST_RIP, 0x100);
    }
}
