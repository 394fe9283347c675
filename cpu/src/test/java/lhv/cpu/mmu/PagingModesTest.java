package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** 32-bit, PAE and 4-level paging with every page size, SMEP/SMAP and large-page INVLPG (SDM 4.3-4.6, 4.10). */
class PagingModesTest {
    static final int P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
    final Cpu cpu = new Cpu(lhv.cpu.model.CpuModel.withVmx(), new TestRam(8 << 20));
    final TestRam ram = TestRam.of(cpu);

    void flat32(long cr4) {
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_WP | Cr.CR0_ET);
        cpu.setCr4(cr4);
        cpu.setEfer(0);
        cpu.seg[Segment.CS].set(8, 0, 0xFFFFFFFF, 0xC09B);
        for (int s : new int[] {Segment.DS, Segment.SS, Segment.ES}) cpu.seg[s].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        cpu.stateChanged();
        cpu.mmu.flush(true);
    }

    CpuFault fault(Runnable r) {
        return assertThrows(CpuFault.class, r::run);
    }

    @Test
    void thirtyTwoBitPagingWith4KibAnd4MibPages() {
        long pd = 0x10000, pt = 0x11000;
        cpu.setCr3(pd);
        ram.d(pd, (int) (pt | P | RW | US));                        // PDE 0 -> page table
        ram.d(pt + 4 * 5, 0x123000 | P | RW);                       // linear 0x5000 -> 0x123000
        ram.d(pd + 4, 0x00400000 | P | RW | PS);                    // linear 0x400000 -> 4 MiB page at 0x400000
        flat32(Cr.CR4_PSE);
        ram.d(0x123010, 0xABCD);
        assertEquals(0xABCD, cpu.mmu.read32(Segment.DS, 0x5010));
        assertEquals(0x400000 + 0x1234, cpu.mmu.translate(0x401234, Mmu.READ, false));
        assertEquals(A, ram.d(pd + 4) & A);
        cpu.mmu.write8(Segment.DS, 0x401234, 1);
        assertEquals(A | D, ram.d(pd + 4) & (A | D), "D set in the PDE of a 4 MiB page");
        // Without CR4.PSE the PS bit is ignored: the PDE points to a page table.
        cpu.setCr4(0);
        cpu.mmu.flush(true);
        ram.d(0x400000 + 4 * 1, 0x200000 | P);
        assertEquals(0x200000 + 0x234, cpu.mmu.translate(0x401234, Mmu.READ, false));
    }

    @Test
    void pse36HighAddressBitsAndReservedBits() {
        long pd = 0x10000;
        cpu.setCr3(pd);
        ram.d(pd + 4, 0x00400000 | P | PS | (0x3 << 13));          // physical bits 33:32 = 3
        flat32(Cr.CR4_PSE);
        assertEquals(0x3_0040_0010L, cpu.mmu.translate(0x400010, Mmu.READ, false));
        ram.d(pd + 4, 0x00400000 | P | PS | (1 << 21));            // bit 21 reserved
        cpu.mmu.flush(true);
        CpuFault f = fault(() -> cpu.mmu.translate(0x400010, Mmu.READ, false));
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, f.errorCode);
        ram.d(pd + 4, 0x00400000 | P | PS | (1 << 20));            // bit 39 of the address: above MAXPHYADDR 39
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, fault(() -> cpu.mmu.translate(0x400010, Mmu.READ, false)).errorCode);
    }

    @Test
    void thirtyTwoBitPagingHasNoInstructionFetchBitWithoutSmep() {
        cpu.setCr3(0x10000);
        flat32(0);
        assertEquals(0, fault(() -> cpu.mmu.fetchPhysical(0x5000)).errorCode);
        cpu.setCr4(Cr.CR4_SMEP);
        assertEquals(Mmu.PF_ID, fault(() -> cpu.mmu.fetchPhysical(0x5000)).errorCode);
    }

    @Test
    void paePagingWith2MibPagesAndNx() {
        long pdpt = 0x10000, pd = 0x11000;
        ram.q(pdpt + 8, pd | P);                                    // PDPTE 1: 1..2 GiB
        ram.q(pd + 8 * 3, 0x600000L | P | RW | PS | (1L << 63));    // linear 0x40600000 -> 2 MiB at 0x600000, XD
        cpu.setCr3(pdpt);
        flat32(Cr.CR4_PAE);
        cpu.mmu.loadPdptes(cpu.cr3);
        // XD with NXE=0 is a reserved bit.
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, fault(() -> cpu.mmu.translate(0x40612345L, Mmu.READ, false)).errorCode);
        cpu.setEfer(Cr.EFER_NXE);
        cpu.mmu.flush(true);
        assertEquals(0x612345L, cpu.mmu.translate(0x40612345L, Mmu.READ, false));
        assertEquals(Mmu.PF_P | Mmu.PF_ID, fault(() -> cpu.mmu.fetchPhysical(0x40612345L)).errorCode);
        // PDE bits 20:13 of a 2 MiB page are reserved.
        ram.q(pd + 8 * 3, 0x600000L | P | PS | (1L << 13));
        cpu.mmu.flush(true);
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, fault(() -> cpu.mmu.translate(0x40612345L, Mmu.READ, false)).errorCode);
        assertEquals(0, fault(() -> cpu.mmu.translate(0x12345L, Mmu.READ, false)).errorCode, "PDPTE 0 not present");
    }

    void long64() {
        TestRam.long64(cpu, cpu.cr3);
    }

    @Test
    void oneGibPagesAndReservedBits() {
        long pml4 = 0x10000, pdpt = 0x11000;
        ram.q(pml4 + 8 * 1, pdpt | P | RW | US);                     // PML4 1: 512 GiB..1 TiB
        ram.q(pdpt + 8 * 2, 0x40000000L | P | RW | PS);              // 1 GiB page at 1 GiB
        cpu.setCr3(pml4);
        long64();
        long lin = (1L << 39) | (2L << 30) | 0x12345;
        assertEquals(0x40012345L, cpu.mmu.translate(lin, Mmu.READ, false));
        assertEquals(A, ram.q(pml4 + 8) & A);
        ram.q(pdpt + 8 * 2, 0x40000000L | P | RW | PS | (1L << 20)); // bits 29:13 reserved
        cpu.mmu.flush(true);
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, fault(() -> cpu.mmu.translate(lin, Mmu.READ, false)).errorCode);
        ram.q(pml4 + 8, pdpt | P | PS);                               // PS in a PML4E is reserved
        assertEquals(Mmu.PF_P | Mmu.PF_W | Mmu.PF_RSVD, fault(() -> cpu.mmu.translate(lin, Mmu.WRITE, false)).errorCode);
    }

    /** Identity map of 0..2 MiB as one user page (PD entry 0, 2 MiB), and 2..4 MiB as a supervisor page. */
    void userAndSupervisorPages() {
        long pml4 = 0x10000, pdpt = 0x11000, pd = 0x12000;
        ram.q(pml4, pdpt | P | RW | US);
        ram.q(pdpt, pd | P | RW | US);
        ram.q(pd, P | RW | US | PS);
        ram.q(pd + 8, 0x200000L | P | RW | PS);
        cpu.setCr3(pml4);
        long64();
    }

    @Test
    void smepForbidsSupervisorFetchFromUserPages() {
        userAndSupervisorPages();
        assertEquals(0x1000, cpu.mmu.fetchPhysical(0x1000));
        cpu.setCr4(cpu.cr4 | Cr.CR4_SMEP);
        cpu.mmu.flush(true);
        assertEquals(Mmu.PF_P | Mmu.PF_ID, fault(() -> cpu.mmu.fetchPhysical(0x1000)).errorCode);
        cpu.cpl = 3;
        assertEquals(0x1000, cpu.mmu.fetchPhysical(0x1000), "user fetch is fine");
        assertEquals(Mmu.PF_P | Mmu.PF_ID | Mmu.PF_U, fault(() -> cpu.mmu.fetchPhysical(0x200000)).errorCode);
    }

    @Test
    void smapDependsOnAcAndImplicitAccesses() {
        userAndSupervisorPages();
        cpu.setCr4(cpu.cr4 | Cr.CR4_SMAP);
        cpu.mmu.flush(true);
        assertEquals(Mmu.PF_P, fault(() -> cpu.mmu.read8(Segment.DS, 0x1000)).errorCode);
        assertEquals(Mmu.PF_P | Mmu.PF_W, fault(() -> cpu.mmu.write8(Segment.DS, 0x1000, 1)).errorCode);
        cpu.rflags |= Rflags.AC;
        cpu.mmu.write8(Segment.DS, 0x1000, 1);                        // explicit access with AC=1
        assertEquals(1, cpu.mmu.read8(Segment.DS, 0x1000));
        assertEquals(Mmu.PF_P, fault(() -> cpu.mmu.readLinear(0x1000, 8, true)).errorCode, "implicit: AC ignored");
        cpu.rflags &= ~Rflags.AC;
        assertEquals(Mmu.PF_P, fault(() -> cpu.mmu.read8(Segment.DS, 0x1000)).errorCode, "AC cleared again: not cached");
        cpu.mmu.read8(Segment.DS, 0x200000);
    }

    @Test
    void implicitSupervisorAccessFromUserMode() {
        userAndSupervisorPages();
        cpu.cpl = 3;
        assertEquals(Mmu.PF_P | Mmu.PF_U, fault(() -> cpu.mmu.read8(Segment.DS, 0x200000)).errorCode);
        cpu.mmu.readLinear(0x200000, 8, true);                         // e.g. a GDT read: supervisor access
        assertEquals(Mmu.PF_P | Mmu.PF_U | Mmu.PF_W, fault(() -> cpu.mmu.write8(Segment.DS, 0x200000, 1)).errorCode);
    }

    @Test
    void userWriteToReadOnlyPageIgnoresWp() {
        userAndSupervisorPages();
        ram.q(0x12000, P | US | PS);
        cpu.mmu.flush(true);
        cpu.cpl = 3;
        cpu.setCr0(cpu.cr0 & ~Cr.CR0_WP);
        assertEquals(Mmu.PF_P | Mmu.PF_W | Mmu.PF_U, fault(() -> cpu.mmu.write8(Segment.DS, 0x1000, 1)).errorCode);
    }

    @Test
    void invlpgDropsAllFragmentsOfALargePage() {
        userAndSupervisorPages();
        cpu.mmu.read8(Segment.DS, 0x1000);
        cpu.mmu.read8(Segment.DS, 0x5000);
        ram.q(0x12000, 0x400000L | P | RW | US | PS);                 // remap the 2 MiB page
        ram.b(0x405000, 9);
        assertEquals(0, cpu.mmu.read8(Segment.DS, 0x5000), "stale until invalidated");
        cpu.mmu.invalidatePage(0x1000);                                // another address in the same large page
        assertEquals(9, cpu.mmu.read8(Segment.DS, 0x5000));
    }

    @Test
    void pagingOffIsIdentityWithin32Bits() {
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_ET);
        cpu.seg[Segment.DS].set(0x10, 0x100, 0xFFFFFFFF, 0xC093);
        cpu.seg[Segment.CS].set(0x8, 0, 0xFFFFFFFF, 0xC09B);
        cpu.stateChanged();
        cpu.mmu.write32(Segment.DS, 0xFFFFFF00L + 0x10, 0x55);       // base + offset wraps at 4 GiB
        assertEquals(0x55, ram.d(0x10));
    }
}
