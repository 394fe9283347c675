package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Instructions whose behaviour follows from what the processor model reports through CPUID: what
 * the model reports runs, what it does not report is #UD (SDM Vol. 2, the "#UD If CPUID..." line of
 * each instruction), and RDPMC/GETSEC behave as the model's performance-monitoring and SMX leaves
 * say. Machine code comes from nasm; the source is in each comment.
 */
class ModelConsistencyTest {

    private static int[] cpuid(Guest g, int leaf, int sub) {
        return g.cpu.model.cpuid(leaf, sub);
    }

    private static CpuFault fault(Guest g, String hex) {
        g.code(hex + "f4");
        CpuFault f = g.runToFault();
        assertEquals(Guest.CODE, g.cpu.rip, "RIP left at the faulting instruction");
        return f;
    }

    // ---- RDPMC: leaf 0AH reports no counters ----

    @Test
    void modelReportsNoPerformanceCounters() {
        assertArrayEquals(new int[4], cpuid(Guest.long64(), 0xA, 0), "version 0, no counters");
    }

    @Test
    void rdpmcFindsNoValidCounterAtCplZero() {
        for (long ecx : new long[] {0, 1, 0x4000_0000L, 0x4000_0001L}) {   // general-purpose and fixed-function
            Guest g = Guest.long64();
            g.cpu.gpr[Cpu.RCX] = ecx;
            CpuFault f = fault(g, "0f33");
            assertEquals(13, f.vector, "ECX = " + Long.toHexString(ecx));
            assertEquals(0, f.errorCode);
        }
        Guest r = Guest.real16();
        r.code("0f33f4");
        assertEquals(13, r.runToFault().vector, "real mode: CPL 0, still no counter");
    }

    @Test
    void rdpmcAtCplThreeIsGpWithAndWithoutPce() {
        Guest g = Guest.long64();
        g.cpu.cpl = 3;
        assertEquals(13, fault(g, "0f33").vector, "CPL 3, CR4.PCE = 0");
        Guest h = Guest.long64();
        h.cpu.sys.writeCr(4, h.cpu.cr4 | Cr.CR4_PCE);
        h.cpu.cpl = 3;
        assertEquals(13, fault(h, "0f33").vector, "CPL 3, CR4.PCE = 1: the counter index is invalid");
    }

    // ---- SMX ----

    @Test
    void getsecIsUdBecauseTheModelHasNoSmx() {
        Guest g = Guest.long64();
        assertEquals(0, cpuid(g, 1, 0)[2] & (1 << 6), "CPUID.1:ECX.SMX");
        assertEquals(13, assertThrows(CpuFault.class, () -> g.cpu.sys.writeCr(4, g.cpu.cr4 | Cr.CR4_SMXE)).vector,
                "CR4.SMXE is reserved");
        assertEquals(6, fault(g, "0f37").vector);
    }

    // ---- features the model does not report: #UD ----

    @Test
    void tsxIsNotReportedAndItsInstructionsAreUd() {
        Guest g = Guest.long64();
        int ebx = cpuid(g, 7, 0)[1];
        assertEquals(0, ebx & (1 << 4 | 1 << 11), "HLE and RTM");
        assertEquals(6, fault(Guest.long64(), "c7f800000000").vector, "XBEGIN");
        assertEquals(6, fault(Guest.long64(), "0f01d6").vector, "XTEST");
        assertEquals(6, fault(Guest.long64(), "0f01d5").vector, "XEND");
    }

    @Test
    void unreportedGeneralPurposeAndSystemInstructionsAreUd() {
        Guest g = Guest.long64();
        assertEquals(0, cpuid(g, 7, 0)[2] & (1 << 22), "RDPID");
        assertEquals(0, cpuid(g, 7, 0)[1] & (1 << 10), "INVPCID");
        assertEquals(0, cpuid(g, 7, 0)[1] & (1 << 24), "CLWB");
        assertEquals(6, fault(Guest.long64(), "f30fc7f8").vector, "RDPID");
        assertEquals(6, fault(Guest.long64(), "66480f388203").vector, "INVPCID");
        assertEquals(6, fault(Guest.long64(), "660fae33").vector, "CLWB");
        assertEquals(6, fault(Guest.long64(), "0f38f603").vector, "WRSS (CET)");
        assertEquals(6, fault(Guest.long64(), "0f38f903").vector, "MOVDIRI");
    }

    // ---- reported features run ----

    @Test
    void movbeIsReportedAndRuns() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 1, 0)[2] & (1 << 22), "CPUID.1:ECX.MOVBE");
        // movbe eax, [rbx]; movbe [rbx+8], rcx  (rbx = DATA)
        g.ram.d(Guest.DATA, 0x11223344);
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.cpu.gpr[Cpu.RCX] = 0x0102030405060708L;
        g.code("0f38f003 480f38f14b08 f4").runToHalt();
        assertEquals(0x44332211L, g.reg(Cpu.RAX));
        assertEquals(0x0807060504030201L, g.ram.q(Guest.DATA + 8));
    }

    @Test
    void clflushoptPrefetchwAndEndbrRun() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 7, 0)[1] & (1 << 23), "CLFLUSHOPT");
        assertNotEquals(0, cpuid(g, 0x80000001, 0)[2] & (1 << 8), "PREFETCHW");
        // clflushopt [rbx]; prefetchw [rbx]; endbr64; mov eax, 1
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.code("660fae3b 0f0d0b f30f1efa b801000000 f4").runToHalt();
        assertEquals(1, g.reg(Cpu.RAX));
    }

    @Test
    void movntiIsAPlainStore() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 1, 0)[3] & (1 << 26), "SSE2 (MOVNTI's flag)");
        // movnti [rbx], rcx; movnti [rbx+8], ecx
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.cpu.gpr[Cpu.RCX] = 0x1122_3344_5566_7788L;
        g.ram.q(Guest.DATA + 8, -1L);
        g.code("480fc30b 0fc34b08 f4").runToHalt();
        assertEquals(0x1122_3344_5566_7788L, g.ram.q(Guest.DATA));
        assertEquals(0xFFFF_FFFF_5566_7788L, g.ram.q(Guest.DATA + 8), "a 32-bit store");
        assertEquals(6, fault(Guest.long64(), "0fc3c8").vector, "register destination");
        assertEquals(6, fault(Guest.long64(), "660fc30b").vector, "66H");
    }

    @Test
    void lahfAndSahfRunInSixtyFourBitMode() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 0x80000001, 0)[2] & 1, "CPUID.80000001H:ECX.LAHF-SAHF");
        // mov ah, 0xD5; sahf; lahf -> AH keeps the five status bits plus bit 1
        g.cpu.gpr[Cpu.RAX] = 0;
        g.code("b4d5 9e 9f f4").runToHalt();
        assertEquals(0xD7, (g.reg(Cpu.RAX) >>> 8) & 0xFF);
        assertEquals(Rflags.CF | Rflags.PF | Rflags.AF | Rflags.ZF | Rflags.SF,
                g.cpu.getRflags() & (Rflags.CF | Rflags.PF | Rflags.AF | Rflags.ZF | Rflags.SF));
    }

    @Test
    void fsgsbaseReadsAndWritesTheSegmentBases() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 7, 0)[1] & 1, "CPUID.7:EBX.FSGSBASE");
        g.cpu.sys.writeCr(4, g.cpu.cr4 | Cr.CR4_FSGSBASE);
        // wrfsbase rbx; wrgsbase ecx; mov rax, [fs:0x10]; rdgsbase edx... (rdgsbase eax last)
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.cpu.gpr[Cpu.RCX] = 0xFFFF_FFFF_8765_4320L;
        g.ram.q(Guest.DATA + 0x10, 0x0123_4567_89AB_CDEFL);
        g.code("f3480faed3 f30faed9 64488b042510000000 f3480faec6 f30faecf f4");
        g.runToHalt();
        assertEquals(0x0123_4567_89AB_CDEFL, g.reg(Cpu.RAX), "the load went through the new FS base");
        assertEquals(0x8765_4320L, g.cpu.seg[lhv.cpu.Segment.GS].base, "WRGSBASE r32 zero-extends");
        assertEquals(Guest.DATA, g.reg(Cpu.RSI), "RDFSBASE r64");
        assertEquals(0x8765_4320L, g.reg(Cpu.RDI), "RDGSBASE r32");
    }

    @Test
    void fsgsbaseFaults() {
        assertEquals(6, fault(Guest.long64(), "f3480faec0").vector, "CR4.FSGSBASE = 0");
        Guest g = Guest.long64();
        g.cpu.sys.writeCr(4, g.cpu.cr4 | Cr.CR4_FSGSBASE);
        g.cpu.gpr[Cpu.RBX] = 0x0000_8000_0000_0000L;
        CpuFault f = fault(g, "f3480faed3");
        assertEquals(13, f.vector, "WRFSBASE of a non-canonical address");
        assertEquals(0, g.cpu.seg[lhv.cpu.Segment.FS].base, "FS base unchanged");
        Guest h = Guest.long64();
        h.cpu.sys.writeCr(4, h.cpu.cr4 | Cr.CR4_FSGSBASE);
        assertEquals(6, fault(h, "66f30faec0").vector, "66H is not a form");
        Guest p = Guest.flat32();
        p.cpu.setCr4(p.cpu.cr4 | Cr.CR4_FSGSBASE);
        p.code("f30faec0f4");
        assertEquals(6, p.runToFault().vector, "64-bit mode only");
    }

    @Test
    void cmpxchg16bNeedsA16ByteAlignedOperand() {
        Guest g = Guest.long64();
        assertNotEquals(0, cpuid(g, 1, 0)[2] & (1 << 13), "CX16");
        g.cpu.gpr[Cpu.RBX] = Guest.DATA + 8;
        CpuFault f = fault(g, "480fc70b");
        assertEquals(13, f.vector);
        assertEquals(0, f.errorCode);
    }
}
