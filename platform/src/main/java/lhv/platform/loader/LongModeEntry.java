package lhv.platform.loader;

import lhv.cpu.Cr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The 64-bit entry state we give images that start in long mode (plain ELF64 and flat binaries),
 * the state a hypervisor would prepare for its guest: IA-32e paging identity-mapping the first
 * 4 GiB with 2 MiB pages, a GDT with a 64-bit code and a flat data segment, interrupts off.
 *
 * <p>Context: Java host, while loading an image.
 *
 * <p>Layout in low memory (pages from 0x1000 up, all below the Multiboot-style info area):
 * GDT at 0x1000 (null, code 0x08, data 0x10), PML4 at 0x2000, PDPT at 0x3000, four page
 * directories at 0x4000-0x7FFF (SDM Vol. 3A 4.5, 2-MByte pages: PS=1 in the PDE). Registers:
 * CR0 = PE|MP|ET|NE|WP|PG, CR4 = PAE, EFER = LME|LMA, CR3 = 0x2000, RSP = {@link #STACK_TOP}
 * (16-byte aligned, growing down through free conventional memory), RFLAGS = 2, all other general
 * registers 0. The image must not load over [0x1000, 0x8000).
 */
final class LongModeEntry {
    static final long GDT = 0x1000, PML4 = 0x2000, PDPT = 0x3000, PD = 0x4000, END = 0x8000;
    static final long STACK_TOP = 0x80000;
    static final int CODE_SELECTOR = 0x08, DATA_SELECTOR = 0x10;

    private static final long P = 1, RW = 2, PS = 0x80;

    private LongModeEntry() { }

    /** Adds the GDT and page tables to {@code plan}. */
    static void plan(LoadPlan plan) {
        ByteBuffer gdt = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        gdt.putLong(0).putLong(BootState.descriptor(BootState.CODE64_AR)).putLong(BootState.descriptor(BootState.DATA_AR));
        plan.bytes("boot GDT", GDT, gdt.array());

        ByteBuffer tables = ByteBuffer.allocate((int) (END - PML4)).order(ByteOrder.LITTLE_ENDIAN);
        tables.putLong(0, PDPT | P | RW);
        for (int i = 0; i < 4; i++) tables.putLong((int) (PDPT - PML4) + 8 * i, (PD + 0x1000L * i) | P | RW);
        for (int i = 0; i < 4 * 512; i++) tables.putLong((int) (PD - PML4) + 8 * i, ((long) i << 21) | P | RW | PS);
        plan.bytes("boot page tables", PML4, tables.array());
    }

    static BootState state(String format, long entry, List<String> warnings) {
        long cr0 = Cr.CR0_PE | Cr.CR0_MP | Cr.CR0_ET | Cr.CR0_NE | Cr.CR0_WP | Cr.CR0_PG;
        return new BootState(BootState.Mode.LONG_64, format, entry, 0, 0, 0, STACK_TOP,
                cr0, PML4, Cr.CR4_PAE, Cr.EFER_LME | Cr.EFER_LMA,
                CODE_SELECTOR, DATA_SELECTOR, BootState.CODE64_AR, BootState.DATA_AR, GDT, 23, warnings);
    }
}
