package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Page walks, access rights, #PF error codes, A/D bits and the software TLB (SDM Vol. 3A ch. 4). */
class MmuTest {
    static final long PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT = 0x13000;
    static final int P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, G = 0x100;
    static final long XD = 1L << 63;

    final Cpu cpu = TestRam.cpu();
    final TestRam ram = TestRam.of(cpu);

    /** 4-level paging, 64-bit mode, CPL 0; maps linear 0x400000.. through PML4[0] -> PDPT[0] -> PD[2] -> PT. */
    void long64(long pteFlags) {
        ram.q(PML4, PDPT | P | RW | US);
        ram.q(PDPT, PD | P | RW | US);
        ram.q(PD + 2 * 8, PT | P | RW | US);
        for (int i = 0; i < 512; i++) ram.q(PT + i * 8L, (0x200000L + i * 0x1000L) | pteFlags);
        TestRam.long64(cpu, PML4);
    }

    CpuFault fault(Runnable r) {
        return assertThrows(CpuFault.class, r::run);
    }

    @Test
    void realModeReadWriteIsSegmentBasePlusOffset() {
        cpu.seg[Segment.DS].loadReal(0x1000);
        cpu.mmu.write32(Segment.DS, 0x10, 0xCAFEBABE);
        assertEquals(0xCAFEBABE, ram.d(0x10010));
        assertEquals(0xCAFEBABE, cpu.mmu.read32(Segment.DS, 0x10));
        assertEquals(0xBABE, cpu.mmu.read16(Segment.DS, 0x10));
        assertEquals(0xFE, cpu.mmu.read8(Segment.DS, 0x12));
    }

    @Test
    void realModeLimitViolationIsGpOrSs() {
        assertEquals(13, fault(() -> cpu.mmu.read16(Segment.DS, 0xFFFF)).vector);
        assertEquals(12, fault(() -> cpu.mmu.read16(Segment.SS, 0xFFFF)).vector);
    }

    @Test
    void fourKibWalkSetsAccessedAndDirty() {
        long64(P | RW);
        cpu.mmu.write64(Segment.DS, 0x401008, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, ram.q(0x201008));
        assertEquals(0x1122334455667788L, cpu.mmu.read64(Segment.DS, 0x401008));
        assertEquals(A, ram.q(PML4) & A);
        assertEquals(A, ram.q(PDPT) & A);
        assertEquals(A, ram.q(PD + 16) & A);
        assertEquals(A | D, ram.q(PT + 8) & (A | D));
        assertEquals(0, ram.q(PT + 16) & (A | D));
        cpu.mmu.read8(Segment.DS, 0x402000);
        assertEquals(A, ram.q(PT + 16) & (A | D), "a read sets A only");
    }

    @Test
    void notPresentFaultHasErrorCodeAndCr2() {
        long64(0);
        CpuFault f = fault(() -> cpu.mmu.read32(Segment.DS, 0x400123));
        assertEquals(14, f.vector);
        assertEquals(0, f.errorCode);
        assertEquals(0x400123, f.faultAddress, "the address for CR2 (written on delivery)");
        f = fault(() -> cpu.mmu.write32(Segment.DS, 0x400123, 1));
        assertEquals(Mmu.PF_W, f.errorCode);
    }

    @Test
    void userAccessToSupervisorPage() {
        long64(P | RW);
        ram.q(PT, 0x200000L | P | RW); // PT entry without U/S
        cpu.cpl = 3;
        CpuFault f = fault(() -> cpu.mmu.read8(Segment.DS, 0x400000));
        assertEquals(Mmu.PF_P | Mmu.PF_U, f.errorCode);
    }

    @Test
    void writeProtectHonoursCr0Wp() {
        long64(P | US);
        CpuFault f = fault(() -> cpu.mmu.write8(Segment.DS, 0x400000, 1));
        assertEquals(Mmu.PF_P | Mmu.PF_W, f.errorCode);
        cpu.setCr0(cpu.cr0 & ~Cr.CR0_WP);
        cpu.mmu.flush(true);
        cpu.mmu.write8(Segment.DS, 0x400000, 7);
        assertEquals(7, ram.b(0x200000));
    }

    @Test
    void executeDisableAndInstructionFetchBit() {
        long64(P | RW | US);
        ram.q(PT, 0x200000L | P | RW | XD);
        CpuFault f = fault(() -> cpu.mmu.fetchPhysical(0x400000));
        assertEquals(Mmu.PF_P | Mmu.PF_ID, f.errorCode);
        assertEquals(0x201000L + 5, cpu.mmu.fetchPhysical(0x401005));
    }

    @Test
    void reservedBitGivesRsvd() {
        long64(P | RW);
        ram.q(PT, 0x200000L | P | (1L << 45));
        CpuFault f = fault(() -> cpu.mmu.read8(Segment.DS, 0x400000));
        assertEquals(Mmu.PF_P | Mmu.PF_RSVD, f.errorCode);
    }

    @Test
    void pageCrossingAccessSplits() {
        long64(P | RW);
        // Map linear page 0x401000 to a non-adjacent physical page.
        ram.q(PT + 8, 0x300000L | P | RW);
        cpu.mmu.write32(Segment.DS, 0x400FFE, 0xAABBCCDD);
        assertEquals(0xCCDD, ram.d(0x200FFE) & 0xFFFF);
        assertEquals(0xAABB, ram.d(0x300000) & 0xFFFF);
        assertEquals(0xAABBCCDD, cpu.mmu.read32(Segment.DS, 0x400FFE));
    }

    @Test
    void pageCrossingWriteFaultsBeforeStoringAnything() {
        long64(P | RW);
        ram.q(PT + 8, 0);
        CpuFault f = fault(() -> cpu.mmu.write32(Segment.DS, 0x400FFE, 0xAABBCCDD));
        assertEquals(0, ram.d(0x200FFC));
        assertEquals(0x401000, f.faultAddress);
    }

    @Test
    void tlbKeepsStaleTranslationUntilInvlpg() {
        long64(P | RW);
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x400000));
        ram.q(PT, 0x300000L | P | RW);
        ram.d(0x300000, 42);
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x400000), "cached translation is used");
        cpu.mmu.invalidatePage(0x400000);
        assertEquals(42, cpu.mmu.read32(Segment.DS, 0x400000));
    }

    @Test
    void nonGlobalFlushKeepsGlobalPages() {
        cpu.setCr4(cpu.cr4 | Cr.CR4_PGE);
        long64(P | RW);
        cpu.setCr4(cpu.cr4 | Cr.CR4_PGE);
        ram.q(PT, 0x200000L | P | RW | G);
        cpu.mmu.read32(Segment.DS, 0x400000);
        cpu.mmu.read32(Segment.DS, 0x401000);
        ram.q(PT, 0x300000L | P | RW | G);
        ram.q(PT + 8, 0x300000L | P | RW);
        ram.d(0x300000, 42);
        cpu.mmu.flush(false);
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x400000), "global entry survives");
        assertEquals(42, cpu.mmu.read32(Segment.DS, 0x401000), "non-global entry was flushed");
        cpu.mmu.flush(true);
        assertEquals(42, cpu.mmu.read32(Segment.DS, 0x400000));
    }

    @Test
    void contextsKeepTheirTranslations() {
        long64(P | RW);
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x400000));
        int guest = cpu.mmu.newContext();
        cpu.mmu.switchContext(guest);
        ram.q(PT, 0x300000L | P | RW);
        ram.d(0x300000, 42);
        assertEquals(42, cpu.mmu.read32(Segment.DS, 0x400000), "new context walks afresh");
        cpu.mmu.switchContext(0);
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x400000), "old context's entry is still cached");
    }

    @Test
    void writesToCodePagesReachTheCodeMap() {
        long64(P | RW);
        long[] seen = {-1};
        cpu.codeMap.onInvalidate(p -> seen[0] = p);
        cpu.mmu.write8(Segment.DS, 0x400000, 1); // write entry cached (page not code yet)
        cpu.codeMap.markCode(0x200);
        cpu.mmu.write8(Segment.DS, 0x400001, 2);
        assertEquals(0x200, seen[0]);
        assertFalse(cpu.codeMap.isCode(0x200));
    }

    @Test
    void mmioGoesThroughTheBoard() {
        // Paging off, protected mode flat.
        cpu.setCr0(Cr.CR0_PE);
        cpu.seg[Segment.DS].set(0x10, 0, 0xFFFFFFFF, 0xC093);
        cpu.seg[Segment.CS].set(0x08, 0, 0xFFFFFFFF, 0xC09B);
        cpu.stateChanged();
        cpu.mmu.write32(Segment.DS, TestRam.MMIO_BASE, 0x1234);
        assertEquals(0x1234L, ram.mmioWrites.get(TestRam.MMIO_BASE));
        cpu.mmu.read32(Segment.DS, TestRam.MMIO_BASE);
        cpu.mmu.read32(Segment.DS, TestRam.MMIO_BASE);
        assertEquals(2, ram.mmioReads, "MMIO reads are never cached");
    }

    @Test
    void alignmentCheckAtCpl3() {
        long64(P | RW | US);
        cpu.cpl = 3;
        cpu.setCr0(cpu.cr0 | Cr.CR0_AM);
        cpu.rflags |= Rflags.AC;
        assertEquals(17, fault(() -> cpu.mmu.read32(Segment.DS, 0x400001)).vector);
        cpu.mmu.read32(Segment.DS, 0x400004);
    }
}
