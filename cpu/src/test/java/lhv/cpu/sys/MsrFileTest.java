package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Msr;
import lhv.cpu.Segment;
import lhv.cpu.model.MsrProvider;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** RDMSR/WRMSR rules (SDM Vol. 4 Table 2-2). */
class MsrFileTest {
    final SysFixture f = new SysFixture();
    final Cpu cpu = f.cpu;

    void gp(Runnable r) {
        assertEquals(13, assertThrows(CpuFault.class, r::run).vector);
    }

    @Test
    void canonicalChecks() {
        for (int msr : new int[] {Msr.IA32_LSTAR, Msr.IA32_CSTAR, Msr.IA32_FS_BASE, Msr.IA32_GS_BASE,
                Msr.IA32_KERNEL_GS_BASE, Msr.IA32_SYSENTER_EIP, Msr.IA32_SYSENTER_ESP}) {
            gp(() -> cpu.sys.wrmsr(msr, 0x0000_8000_0000_0000L));
            cpu.sys.wrmsr(msr, 0xFFFF_8000_0000_1000L);
            assertEquals(0xFFFF_8000_0000_1000L, cpu.sys.rdmsr(msr));
        }
        assertEquals(0xFFFF_8000_0000_1000L, cpu.seg[Segment.FS].base);
    }

    @Test
    void patEntriesMustBeValidTypes() {
        assertEquals(0x0007040600070406L, cpu.sys.rdmsr(Msr.IA32_PAT));
        gp(() -> cpu.sys.wrmsr(Msr.IA32_PAT, 0x02));
        gp(() -> cpu.sys.wrmsr(Msr.IA32_PAT, 0x08L << 56));
        cpu.sys.wrmsr(Msr.IA32_PAT, 0x0706050401000706L);
        assertEquals(0x0706050401000706L, cpu.sys.rdmsr(Msr.IA32_PAT));
    }

    @Test
    void tscWriteMovesTheVirtualCounter() {
        cpu.instructionsRetired = 1000;
        cpu.sys.wrmsr(Msr.IA32_TIME_STAMP_COUNTER, 5);
        assertEquals(5, cpu.sys.rdmsr(Msr.IA32_TIME_STAMP_COUNTER));
        cpu.instructionsRetired += 10;
        assertEquals(15, cpu.tsc());
    }

    @Test
    void reservedAndReadOnly() {
        gp(() -> cpu.sys.wrmsr(Msr.IA32_TSC_AUX, 1L << 32));
        gp(() -> cpu.sys.wrmsr(0xFE, 0));                     // MTRRCAP
        gp(() -> cpu.sys.wrmsr(0x2FF, 2));                    // MTRR default type 2 is reserved
        cpu.sys.wrmsr(0x2FF, 0xC06);
        gp(() -> cpu.sys.wrmsr(Msr.IA32_APIC_BASE, 1L << 10)); // x2APIC enable
        gp(() -> cpu.sys.wrmsr(Msr.IA32_DEBUGCTL, 1L << 6));
        gp(() -> cpu.sys.rdmsr(0x12345));
        gp(() -> cpu.sys.rdmsr(Msr.IA32_FEATURE_CONTROL));
        assertEquals(0xFEE00900L, cpu.sys.rdmsr(Msr.IA32_APIC_BASE));
    }

    @Test
    void providersComeFirst() {
        cpu.addMsrProvider(new MsrProvider() {
            @Override public boolean handles(int index) { return index == Msr.IA32_FEATURE_CONTROL || index == Msr.IA32_PAT; }
            @Override public long read(Cpu c, int index) { return 0x5; }
            @Override public void write(Cpu c, int index, long value) { throw CpuFault.gp0(); }
        }, false);
        assertEquals(5, cpu.sys.rdmsr(Msr.IA32_FEATURE_CONTROL));
        assertEquals(5, cpu.sys.rdmsr(Msr.IA32_PAT));
        gp(() -> cpu.sys.wrmsr(Msr.IA32_FEATURE_CONTROL, 1));
    }
}
