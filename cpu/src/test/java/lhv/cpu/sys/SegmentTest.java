package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;
import org.junit.jupiter.api.Test;

import static lhv.cpu.sys.SysFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/** Segment-register loads, limit/type checks, LLDT/LTR, LAR/LSL/VERR/VERW (SDM 3.4, 5.3-5.10). */
class SegmentTest {
    final SysFixture f = new SysFixture();
    final Cpu cpu = f.cpu;

    CpuFault fault(Runnable r) {
        return assertThrows(CpuFault.class, r::run);
    }

    void assertFault(int vector, int error, Runnable r) {
        CpuFault e = fault(r);
        assertEquals(vector, e.vector, "vector");
        assertEquals(error, e.errorCode, "error code");
    }

    @Test
    void dataSegmentPrivilegeAndPresence() {
        f.protected32(3);
        assertFault(13, DATA32, () -> cpu.sys.loadSegment(Segment.DS, DATA32));       // DPL 0 from CPL 3
        assertFault(13, 0x3F8, () -> cpu.sys.loadSegment(Segment.DS, 0x3FB));        // beyond GDT limit
        f.protected32(0);
        assertFault(11, DATA_NP, () -> cpu.sys.loadSegment(Segment.DS, DATA_NP));
        assertFault(13, CODE_XO, () -> cpu.sys.loadSegment(Segment.DS, CODE_XO));    // execute-only code
        cpu.sys.loadSegment(Segment.ES, CODE32);                                      // readable code is fine
        assertEquals(0xC09B, cpu.seg[Segment.ES].attributes);
        cpu.sys.loadSegment(Segment.DS, DATA32);
        assertEquals(0x93, f.ram.b(GDT + DATA32 + 5), "accessed bit set in the descriptor");
    }

    @Test
    void stackSegmentRules() {
        f.protected32(0);
        assertFault(13, 0, () -> cpu.sys.loadSegment(Segment.SS, 0));
        assertFault(13, DATA_RO, () -> cpu.sys.loadSegment(Segment.SS, DATA_RO));
        assertFault(13, DATA32, () -> cpu.sys.loadSegment(Segment.SS, DATA32 | 3));  // RPL != CPL
        assertFault(12, DATA_NP, () -> cpu.sys.loadSegment(Segment.SS, DATA_NP - 0x68 + 0x68));
        f.long64(0);
        cpu.sys.loadSegment(Segment.SS, 0);                                           // null SS at CPL 0 in 64-bit mode
        assertTrue(cpu.seg[Segment.SS].unusable());
    }

    @Test
    void nullDataSegmentFaultsOnUse() {
        f.protected32(0);
        cpu.sys.loadSegment(Segment.DS, 0);
        assertFault(13, 0, () -> cpu.mmu.read8(Segment.DS, 0));
    }

    @Test
    void typeChecksOnAccess() {
        f.protected32(0);
        cpu.sys.loadSegment(Segment.DS, DATA_RO);
        assertEquals(0, cpu.mmu.read8(Segment.DS, 0x100));
        assertFault(13, 0, () -> cpu.mmu.write8(Segment.DS, 0x100, 1));
        cpu.sys.loadSegment(Segment.ES, CODE32);
        assertFault(13, 0, () -> cpu.mmu.write8(Segment.ES, 0x100, 1));              // write to code
        cpu.seg[Segment.FS].set(CODE_XO, 0, 0xFFFFFFFF, 0xC099);
        assertFault(13, 0, () -> cpu.mmu.read8(Segment.FS, 0x100));                  // read execute-only
    }

    @Test
    void expandDownLimits() {
        f.protected32(0);
        cpu.sys.loadSegment(Segment.DS, DATA_ED);                                     // limit 0xFFF, B=1
        assertFault(13, 0, () -> cpu.mmu.read8(Segment.DS, 0xFFF));
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0x1000));
        assertEquals(0, cpu.mmu.read32(Segment.DS, 0xFFFFFFFCL));
        assertFault(13, 0, () -> cpu.mmu.read32(Segment.DS, 0xFFFFFFFDL));            // crosses the top
        cpu.seg[Segment.SS].copyFrom(cpu.seg[Segment.DS]);
        assertFault(12, 0, () -> cpu.mmu.read8(Segment.SS, 0x10));
    }

    @Test
    void nonCanonicalIn64BitMode() {
        f.long64(0);
        assertFault(13, 0, () -> cpu.mmu.read8(Segment.DS, 0x0000_8000_0000_0000L));
        assertFault(12, 0, () -> cpu.mmu.read8(Segment.SS, 0x0000_8000_0000_0000L));
        assertFault(13, 0, () -> cpu.mmu.read64(Segment.DS, 0x0000_7FFF_FFFF_FFFCL)); // last byte non-canonical
        cpu.seg[Segment.GS].setBase(0x1000);
        cpu.mmu.write32(Segment.GS, 0x10, 0x77);
        assertEquals(0x77, f.ram.d(0x1010), "GS base applies in 64-bit mode");
        cpu.seg[Segment.DS].setBase(0x5000);
        assertEquals(0x77, cpu.mmu.read32(Segment.DS, 0x1010), "DS base is ignored in 64-bit mode");
        assertTrue(Mmu.canonical(0xFFFF_8000_0000_0000L));
    }

    @Test
    void ltrMarksBusyAndLldtLoadsLdt() {
        f.protected32(0);
        cpu.tr.set(0, 0, 0, 0x8B);
        cpu.sys.ltr(TSS_SEL);
        assertEquals(0x8B, f.ram.b(GDT + TSS_SEL + 5), "busy bit set");
        assertEquals(TSS, cpu.tr.base);
        assertFault(13, TSS_SEL, () -> cpu.sys.ltr(TSS_SEL));                         // already busy
        assertFault(13, DATA32, () -> cpu.sys.ltr(DATA32));
        cpu.sys.lldt(LDT_SEL);
        assertEquals(LDT, cpu.ldtr.base);
        assertEquals(0xFF, cpu.ldtr.limit);
        // A selector with TI=1 now reads the LDT.
        f.ram.q(LDT + 8, SysFixture.seg(0x7000, 0xFFFF, 0x93, 0));
        cpu.sys.loadSegment(Segment.ES, 0x0C);
        assertEquals(0x7000, cpu.seg[Segment.ES].base);
        f.protected32(3);
        assertFault(13, 0, () -> cpu.sys.lldt(0));
    }

    @Test
    void larLslVerrVerw() {
        f.protected32(3);
        assertEquals(-1, cpu.sys.lar(DATA32), "DPL 0 not visible at CPL 3");
        assertEquals(0x00C0F300L, cpu.sys.lar(DATA32_U), "dword 1 masked with 0x00F0FF00");
        assertEquals(0xFFFFFFFFL, cpu.sys.lsl(DATA32_U));
        assertTrue(cpu.sys.verw(DATA32_U));
        assertTrue(cpu.sys.verr(CODE32_U));
        assertFalse(cpu.sys.verw(CODE32_U));
        assertTrue(cpu.sys.verr(CONF_CODE), "conforming code is visible at any CPL");
        f.protected32(0);
        assertEquals(0x67, cpu.sys.lsl(TSS_SEL));
        assertEquals(-1, cpu.sys.lsl(0));
        assertFalse(cpu.sys.verr(CODE_XO));
    }

    @Test
    void realAndVm86Loads() {
        cpu.sys.loadSegment(Segment.DS, 0x1234);
        assertEquals(0x12340, cpu.seg[Segment.DS].base);
        assertEquals(0xFFFF, cpu.seg[Segment.DS].limit);
    }
}
