package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** MOV to/from CR and DR, LMSW, CLTS and the IA-32e activation rules (SDM 2.5, 10.8.5, 17.2). */
class ControlRegisterTest {
    final SysFixture f = new SysFixture();
    final Cpu cpu = f.cpu;

    int gpVector(Runnable r) {
        return assertThrows(CpuFault.class, r::run).vector;
    }

    @Test
    void invalidCr0CombinationsAreGp() {
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, Cr.CR0_PG | Cr.CR0_ET)), "PG without PE");
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, Cr.CR0_PE | Cr.CR0_NW)), "NW without CD");
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, 1L << 32 | Cr.CR0_PE)), "bits 63:32");
    }

    @Test
    void crAccessNeedsCpl0() {
        f.protected32(3);
        assertEquals(13, gpVector(() -> cpu.sys.readCr(0)));
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(3, 0)));
        assertEquals(0, cpu.sys.rdmsr(0xC0000103), "the MSR file itself has no CPL check (RDTSCP, VMX MSR areas)");
    }

    @Test
    void enteringProtectedModeKeepsCpl0AndEtReadsAsOne() {
        cpu.sys.writeCr(0, Cr.CR0_PE);
        assertEquals(Mode.PROTECTED, cpu.mode);
        assertEquals(Cr.CR0_PE | Cr.CR0_ET, cpu.cr0);
        cpu.sys.writeCr(0, Cr.CR0_ET);
        assertEquals(Mode.REAL, cpu.mode);
    }

    @Test
    void pagingWithLmeActivatesIa32eOnlyWithPae() {
        f.protected32(0);
        cpu.setCr3(0x20000);
        cpu.sys.wrmsr(0xC0000080, Cr.EFER_LME);
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, Cr.CR0_PE | Cr.CR0_PG)), "PAE required");
        cpu.sys.writeCr(4, Cr.CR4_PAE);
        cpu.sys.writeCr(0, Cr.CR0_PE | Cr.CR0_PG);
        assertEquals(Cr.EFER_LMA, cpu.efer & Cr.EFER_LMA);
        assertEquals(Mode.COMPATIBILITY, cpu.mode);
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(4, 0)), "PAE cannot be cleared in IA-32e mode");
        assertEquals(13, gpVector(() -> cpu.sys.wrmsr(0xC0000080, 0)), "LME cannot change while paging");
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(3, 1L << 45)), "CR3 bits above MAXPHYADDR");
        // Leaving IA-32e mode from compatibility mode clears LMA.
        cpu.sys.writeCr(0, Cr.CR0_PE);
        assertEquals(0, cpu.efer & Cr.EFER_LMA);
        assertEquals(Mode.PROTECTED, cpu.mode);
    }

    @Test
    void clearingPagingIn64BitModeIsGp() {
        f.long64(0);
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, Cr.CR0_PE)));
    }

    @Test
    void eferLmaIsReadOnly() {
        cpu.sys.wrmsr(0xC0000080, Cr.EFER_LMA | Cr.EFER_SCE);
        assertEquals(Cr.EFER_SCE, cpu.efer);
        assertEquals(13, gpVector(() -> cpu.sys.wrmsr(0xC0000080, 1L << 9)), "reserved EFER bit");
    }

    @Test
    void unsupportedCr4BitsAreGp() {
        // SMXE: the model does not report SMX (CPUID.1:ECX[6] = 0), so the bit is reserved.
        for (long bit : new long[] {Cr.CR4_SMXE, Cr.CR4_UMIP, Cr.CR4_LA57, Cr.CR4_PCIDE, Cr.CR4_PKE, 1L << 32}) {
            assertEquals(13, gpVector(() -> cpu.sys.writeCr(4, bit)), Long.toHexString(bit));
        }
        // PCE has no CPUID flag: always settable; FSGSBASE is reported (CPUID.7:EBX[0]).
        cpu.sys.writeCr(4, Cr.CR4_VMXE | Cr.CR4_PSE | Cr.CR4_SMEP | Cr.CR4_PCE | Cr.CR4_FSGSBASE);
        assertEquals(Cr.CR4_VMXE | Cr.CR4_PSE | Cr.CR4_SMEP | Cr.CR4_PCE | Cr.CR4_FSGSBASE, cpu.cr4);
    }

    @Test
    void paePdptesAreLoadedAndCheckedOnCr3Write() {
        f.protected32(0);
        f.ram.q(0x30000, 0x31000 | 1);
        f.ram.q(0x30008, 0);
        cpu.setCr3(0x30000);
        cpu.sys.writeCr(4, Cr.CR4_PAE);
        cpu.sys.writeCr(0, Cr.CR0_PE | Cr.CR0_PG);
        assertEquals(0x31001, cpu.mmu.pdpte[0]);
        f.ram.q(0x40000, 0x41000 | 1 | 1L << 5); // bit 5 reserved in a PAE PDPTE
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(3, 0x40000)));
        assertEquals(0x30000, cpu.cr3, "CR3 unchanged by the faulting write");
        f.ram.q(0x40000, 0x41000 | 1 | 1L << 45);
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(3, 0x40000)), "bit above MAXPHYADDR");
    }

    @Test
    void cr8OnlyIn64BitModeWithReservedBits() {
        assertEquals(6, gpVector(() -> cpu.sys.writeCr(8, 1)));
        f.long64(0);
        cpu.sys.writeCr(8, 0xF);
        assertEquals(0xF, cpu.sys.readCr(8));
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(8, 0x10)));
        assertEquals(6, gpVector(() -> cpu.sys.readCr(5)));
    }

    @Test
    void debugRegisterAliasingAndGeneralDetect() {
        cpu.sys.writeDr(5, 0x1FF);          // DR7 via DR5 alias
        assertEquals(0x1FF | 0x400, cpu.dr[7]);
        assertEquals(cpu.dr[7], cpu.sys.readDr(5));
        cpu.sys.writeDr(6, 0);
        assertEquals(0xFFFF0FF0L, cpu.dr[6], "DR6 fixed bits");
        cpu.setCr4(Cr.CR4_DE);
        assertEquals(6, gpVector(() -> cpu.sys.readDr(4)));
        cpu.sys.writeDr(7, 1L << 13);       // GD
        CpuFault db = assertThrows(CpuFault.class, () -> cpu.sys.readDr(0));
        assertEquals(1, db.vector);
        assertEquals(1L << 13, db.faultAddress, "the #DB carries BD");
        // DR6.BD and the cleared GD belong to the delivery, not to the fault (a #DB that exits to
        // VMX leaves DR6 and DR7.GD unchanged, SDM Vol. 3C 28.1)
        assertEquals(0, cpu.dr[6] & (1L << 13), "DR6 not yet written");
        assertEquals(1L << 13, cpu.dr[7] & (1L << 13), "GD still set");
        cpu.sys.deliverFault(db);
        assertEquals(1L << 13, cpu.dr[6] & (1L << 13), "DR6.BD");
        assertEquals(0, cpu.dr[7] & (1L << 13), "GD cleared for the handler");
    }

    @Test
    void lmswCannotClearPe() {
        cpu.sys.lmsw(0x1);
        assertEquals(Mode.PROTECTED, cpu.mode);
        cpu.sys.lmsw(0xE);
        assertEquals(Cr.CR0_PE | Cr.CR0_MP | Cr.CR0_EM | Cr.CR0_TS, cpu.cr0 & 0xF);
        cpu.sys.clts();
        assertEquals(0, cpu.cr0 & Cr.CR0_TS);
    }

    @Test
    void vmxRootKeepsFixedBits() {
        cpu.setCr4(Cr.CR4_VMXE);
        cpu.vmxOperation = true;
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(4, 0)));
        assertEquals(13, gpVector(() -> cpu.sys.writeCr(0, Cr.CR0_PE)));
    }

    @Test
    void cr3WriteFlushesNonGlobalTranslations() {
        f.long64(0);
        cpu.mmu.read32(Segment.DS, 0x1000);
        long tag = cpu.mmu.contextTag();
        cpu.sys.writeCr(3, cpu.cr3);
        assertNotEquals(tag, cpu.mmu.contextTag(), "without PGE a CR3 write flushes everything");
    }

    @Test
    void cr3WriteWithPgeKeepsGlobalPages() {
        f.long64(0);
        cpu.sys.writeCr(4, cpu.cr4 | Cr.CR4_PGE);
        f.ram.q(0x22000, 0x83 | 0x100);              // 0..2 MiB: global 2 MiB page
        f.ram.q(0x22008, 0x200000 | 0x83);           // 2..4 MiB: not global
        cpu.sys.writeCr(3, cpu.cr3);
        cpu.mmu.read8(Segment.DS, 0x1000);
        cpu.mmu.read8(Segment.DS, 0x201000);
        f.ram.q(0x22000, 0x200000 | 0x83 | 0x100);   // swap the mappings in memory
        f.ram.q(0x22008, 0x83);
        f.ram.b(0x201000, 7);
        cpu.sys.writeCr(3, cpu.cr3);
        assertEquals(0, cpu.mmu.read8(Segment.DS, 0x1000), "global translation survives MOV to CR3");
        assertNotEquals(7, cpu.mmu.read8(Segment.DS, 0x201000), "non-global translation was dropped and re-walked");
        cpu.sys.writeCr(4, cpu.cr4 & ~Cr.CR4_PGE);     // toggling PGE flushes global entries too
        assertEquals(7, cpu.mmu.read8(Segment.DS, 0x1000));
    }
}
