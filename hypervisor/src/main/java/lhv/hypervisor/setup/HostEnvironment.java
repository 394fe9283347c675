package lhv.hypervisor.setup;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.hypervisor.setup.MachineRegions.Region;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's processor environment: what a 64-bit kernel has already set up when the seed's module
 * is loaded. A GDT with a 64-bit code segment, a data segment and a 64-bit TSS; an IDT; 4-level page
 * tables identity-mapping machine RAM with 2 MiB pages (supervisor-only, so CR4.SMEP is harmless); a
 * host stack; and a page holding the instruction at HOST_RIP. The processor is put into 64-bit mode
 * on these tables, with the control-register values of a Linux kernel (CR0.WP, CR4.SMEP...).
 *
 * <p>Context: Java host, before VMX bring-up. The guest later shares CR3 and segments with the host
 * (no EPT), as in the seed. The host never executes x86 code here: every VM exit returns to Java, so
 * HOST_RIP only has to be a valid canonical address; it points at HLT; JMP $-1 for the record.
 */
public final class HostEnvironment {
    public static final int CODE_SELECTOR = 0x08, DATA_SELECTOR = 0x10, TSS_SELECTOR = 0x18;
    /** 64-bit code: G, L, P, S, type execute/read accessed (VMX access-rights layout, SDM 25.4.1). */
    public static final int CODE_AR = 0xA09B;
    /** Data: G, D/B, P, S, type read/write accessed. */
    public static final int DATA_AR = 0xC093;
    /** 64-bit busy TSS, present (SDM 8.2.3 / 3.5). */
    public static final int TSS_AR = 0x008B;
    public static final int TSS_LIMIT = 0x67;
    /** 8,192 descriptors of 8 bytes (see {@link #gdtLimit}). */
    static final int GDT_PAGES = 16;

    /** CR0 of a 64-bit Linux kernel: PE, MP, ET, NE, WP, AM, PG. */
    public static final long HOST_CR0 = Cr.CR0_PE | Cr.CR0_MP | Cr.CR0_ET | Cr.CR0_NE | Cr.CR0_WP | Cr.CR0_AM | Cr.CR0_PG;
    /** CR4 of a 64-bit kernel: PAE, PGE, OSFXSR, OSXMMEXCPT, SMEP (the bit the seed hides with its mask). */
    public static final long HOST_CR4 = Cr.CR4_PAE | Cr.CR4_PGE | Cr.CR4_OSFXSR | Cr.CR4_OSXMMEXCPT | Cr.CR4_SMEP;
    public static final long HOST_EFER = Cr.EFER_SCE | Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_NXE;

    private final List<Region> regions = new ArrayList<>();
    public final long gdtBase, idtBase, tssBase, pml4, stackTop, exitStub;
    /**
     * Both limits are 0xFFFF, the value every VM exit loads (SDM 28.5.2), so that the host's tables
     * look the same before the first exit as after any exit, and a guest sharing them (as the seed's
     * does) has the descriptor-table state the exits give the host: VM entry and exit then have
     * nothing to move for GDTR and IDTR (lhv.vmx.transition.StateSync). The GDT has all 8,192
     * entries (zero beyond the five used: a selector past them finds a null descriptor and faults as
     * it would past a shorter limit, #GP with the selector); 256 16-byte IDT gates fill 4 KiB, which
     * no vector reads past.
     */
    public final int gdtLimit = 0xFFFF, idtLimit = 0xFFFF;

    /** Builds the tables in regions taken from {@code alloc}, identity-mapping {@code ramSize} bytes. */
    public HostEnvironment(MachineRegions alloc, MemorySegment ram, long ramSize) {
        Region tables = take(alloc.allocate("host GDT/TSS/IDT", (GDT_PAGES + 2) * MachineRegions.PAGE));
        gdtBase = tables.base();
        tssBase = tables.base() + GDT_PAGES * MachineRegions.PAGE;
        idtBase = tssBase + MachineRegions.PAGE;
        long gib = (ramSize + (1L << 30) - 1) >>> 30;
        Region pt = take(alloc.allocate("host page tables", (2 + gib) * MachineRegions.PAGE));
        pml4 = pt.base();
        Region stack = take(alloc.allocate("host stack", 4 * MachineRegions.PAGE));
        stackTop = stack.end();
        Region stub = take(alloc.allocate("host exit stub", MachineRegions.PAGE));
        exitStub = stub.base();

        // GDT: null, 64-bit code, data, 16-byte TSS descriptor (SDM 3.4.5, 8.2.3).
        put64(ram, gdtBase + CODE_SELECTOR, descriptor(0, 0xFFFFF, CODE_AR));
        put64(ram, gdtBase + DATA_SELECTOR, descriptor(0, 0xFFFFF, DATA_AR));
        put64(ram, gdtBase + TSS_SELECTOR, descriptor(tssBase, TSS_LIMIT, TSS_AR));
        put64(ram, gdtBase + TSS_SELECTOR + 8, tssBase >>> 32);
        // TSS: RSP0 and IST1 at the host stack; I/O map base beyond the limit (no I/O bitmap).
        put64(ram, tssBase + 4, stackTop);
        put64(ram, tssBase + 0x24, stackTop);
        ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, tssBase + 0x66, (short) (TSS_LIMIT + 1));
        // IDT stays empty (not-present gates): the host takes no interrupts while Java runs.

        // Page tables: PML4[0] -> PDPT; PDPT[i] -> PD i; PD entries map 2 MiB pages (SDM 5.5.4).
        long pdpt = pml4 + MachineRegions.PAGE;
        put64(ram, pml4, pdpt | 0x3);
        for (long g = 0; g < gib; g++) {
            long pd = pml4 + (2 + g) * MachineRegions.PAGE;
            put64(ram, pdpt + g * 8, pd | 0x3);
            for (long i = 0; i < 512; i++) {
                long pa = (g << 30) + (i << 21);
                if (pa >= ramSize) break;
                put64(ram, pd + i * 8, pa | 0x83);   // present, writable, page size
            }
        }
        // HOST_RIP target: HLT; JMP $-1.
        ram.set(ValueLayout.JAVA_BYTE, exitStub, (byte) 0xF4);
        ram.set(ValueLayout.JAVA_BYTE, exitStub + 1, (byte) 0xEB);
        ram.set(ValueLayout.JAVA_BYTE, exitStub + 2, (byte) 0xFD);
    }

    private Region take(Region r) {
        regions.add(r);
        return r;
    }

    /** Every region this environment holds, for teardown. */
    public List<Region> regions() {
        return List.copyOf(regions);
    }

    /** Loads the host context into the processor: 64-bit mode at CPL 0 on these tables. */
    public void enter(Cpu cpu) {
        cpu.setCr0(HOST_CR0);
        cpu.setCr4(HOST_CR4 & cpu.model.cr4ValidBits());
        cpu.setCr3(pml4);
        cpu.setEfer(HOST_EFER & cpu.model.eferValidBits() | Cr.EFER_LME | Cr.EFER_LMA);
        cpu.setGdtr(gdtBase, gdtLimit);
        cpu.setIdtr(idtBase, idtLimit);
        cpu.seg[Segment.CS].set(CODE_SELECTOR, 0, 0xFFFFFFFF, CODE_AR);
        for (int s : new int[] {Segment.ES, Segment.SS, Segment.DS}) cpu.seg[s].set(DATA_SELECTOR, 0, 0xFFFFFFFF, DATA_AR);
        // null FS and GS: unusable, with the limit a VM exit gives them (SDM 28.5.2)
        for (int s : new int[] {Segment.FS, Segment.GS}) cpu.seg[s].set(0, 0, 0xFFFFFFFF, Segment.AR_UNUSABLE);
        cpu.ldtr.set(0, 0, 0, Segment.AR_UNUSABLE);
        cpu.tr.set(TSS_SELECTOR, tssBase, TSS_LIMIT, TSS_AR);
        cpu.cpl = 0;
        cpu.setRflags(Rflags.FIXED1);
        cpu.gpr[Cpu.RSP] = stackTop;
        cpu.rip = exitStub;
        cpu.stateChanged();
        cpu.mmu.flushAllContexts();
    }

    /** A segment descriptor in GDT format from base, 20-bit limit and VMX-format access rights. */
    static long descriptor(long base, int limit, int ar) {
        long d = limit & 0xFFFFL;
        d |= (base & 0xFFFFFFL) << 16;
        d |= (long) (ar & 0xFF) << 40;
        d |= (long) ((limit >>> 16) & 0xF) << 48;
        d |= (long) ((ar >>> 12) & 0xF) << 52;
        d |= ((base >>> 24) & 0xFFL) << 56;
        return d;
    }

    private static void put64(MemorySegment ram, long pa, long v) {
        ram.set(ValueLayout.JAVA_LONG_UNALIGNED, pa, v);
    }
}
