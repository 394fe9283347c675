package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Msr;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;
import lhv.cpu.model.MsrProvider;

/**
 * The architectural MSRs the system instructions need (SDM Vol. 4 Table 2-2), with their write
 * rules; MSRs owned by other layers ({@link Cpu#msrProviders}, e.g. the VMX capability MSRs) are
 * consulted first. Any other index is #GP(0), as on hardware for an unimplemented MSR.
 *
 * <p>Context: RDMSR/WRMSR in guest execution (after the VMX layer's MSR-bitmap decision in non-root
 * operation) and Java host code.
 */
final class MsrFile {
    static final int IA32_MTRRCAP = 0xFE, IA32_MTRR_DEF_TYPE = 0x2FF;

    private final Cpu cpu;

    MsrFile(Cpu cpu) {
        this.cpu = cpu;
    }

    private MsrProvider provider(int index) {
        // an indexed loop: every RDMSR/WRMSR (and each MSR-area entry of a VM transition) asks, and
        // the iterator's allocation and modification checks cost more than the usual single provider
        java.util.List<MsrProvider> providers = cpu.msrProviders();
        for (int i = 0, n = providers.size(); i < n; i++) {
            MsrProvider p = providers.get(i);
            if (p.handles(index)) return p;
        }
        return null;
    }

    /** True when a provider ({@code Cpu.msrProviders()}) implements MSR {@code index}. */
    boolean provided(int index) {
        return provider(index) != null;
    }

    long read(int index) {
        MsrProvider p = provider(index);
        if (p != null) return p.read(cpu, index);
        return switch (index) {
            case Msr.IA32_TIME_STAMP_COUNTER -> cpu.tsc();
            case Msr.IA32_APIC_BASE -> cpu.apicBase;
            case Msr.IA32_SYSENTER_CS -> cpu.sysenterCs;
            case Msr.IA32_SYSENTER_ESP -> cpu.sysenterEsp;
            case Msr.IA32_SYSENTER_EIP -> cpu.sysenterEip;
            case Msr.IA32_DEBUGCTL -> cpu.debugCtl;
            case Msr.IA32_PAT -> cpu.pat;
            case Msr.IA32_MISC_ENABLE -> cpu.miscEnable;
            // No variable or fixed ranges; write-combining supported (SDM 12.11.2.1).
            case IA32_MTRRCAP -> 1L << 10;
            case IA32_MTRR_DEF_TYPE -> cpu.mtrrDefType;
            case Msr.IA32_EFER -> cpu.efer;
            case Msr.IA32_STAR -> cpu.star;
            case Msr.IA32_LSTAR -> cpu.lstar;
            case Msr.IA32_CSTAR -> cpu.cstar;
            case Msr.IA32_FMASK -> cpu.fmask;
            case Msr.IA32_FS_BASE -> cpu.seg[Segment.FS].base;
            case Msr.IA32_GS_BASE -> cpu.seg[Segment.GS].base;
            case Msr.IA32_KERNEL_GS_BASE -> cpu.kernelGsBase;
            case Msr.IA32_TSC_AUX -> cpu.tscAux;
            default -> throw CpuFault.gp0();
        };
    }

    void write(int index, long value) {
        MsrProvider p = provider(index);
        if (p != null) {
            p.write(cpu, index, value);
            return;
        }
        switch (index) {
            case Msr.IA32_TIME_STAMP_COUNTER -> cpu.tscBase = value - cpu.instructionsRetired * cpu.tscPerInstruction;
            case Msr.IA32_APIC_BASE -> {
                // Bit 8 (BSP) is read-only; bit 11 global enable; bits M-1:12 the base. x2APIC
                // (bit 10) is not supported, so it is reserved like the rest.
                long writable = (1L << 11) | (((1L << cpu.model.physicalAddressBits()) - 1) & ~0xFFFL);
                if ((value & ~(writable | 1L << 8)) != 0) throw CpuFault.gp0();
                cpu.apicBase = (value & writable) | (cpu.apicBase & (1L << 8));
            }
            case Msr.IA32_SYSENTER_CS -> cpu.setSysenterCs(value & 0xFFFFFFFFL);
            case Msr.IA32_SYSENTER_ESP -> cpu.setSysenterEsp(canonical(value));
            case Msr.IA32_SYSENTER_EIP -> cpu.setSysenterEip(canonical(value));
            case Msr.IA32_DEBUGCTL -> {
                // LBR (bit 0) and BTF (bit 1) are accepted and stored; other bits are reserved here.
                if ((value & ~3L) != 0) throw CpuFault.gp0();
                cpu.setDebugCtl(value);
            }
            case Msr.IA32_PAT -> {
                if (!validPat(value)) throw CpuFault.gp0();
                cpu.setPat(value);
            }
            case Msr.IA32_MISC_ENABLE -> cpu.miscEnable = value;
            case IA32_MTRRCAP -> throw CpuFault.gp0();
            case IA32_MTRR_DEF_TYPE -> {
                // Bits 7:0 type, 10 FE, 11 E; type must be UC, WC, WT, WP or WB (SDM 12.11.2.1).
                if ((value & ~0xCFFL) != 0 || !validMemoryType((int) (value & 0xFF))) throw CpuFault.gp0();
                cpu.mtrrDefType = value;
            }
            case Msr.IA32_EFER -> writeEfer(value);
            case Msr.IA32_STAR -> cpu.star = value;
            case Msr.IA32_LSTAR -> cpu.lstar = canonical(value);
            case Msr.IA32_CSTAR -> cpu.cstar = canonical(value);
            case Msr.IA32_FMASK -> cpu.fmask = value & 0xFFFFFFFFL;
            case Msr.IA32_FS_BASE -> cpu.seg[Segment.FS].setBase(canonical(value));
            case Msr.IA32_GS_BASE -> cpu.seg[Segment.GS].setBase(canonical(value));
            case Msr.IA32_KERNEL_GS_BASE -> cpu.kernelGsBase = canonical(value);
            case Msr.IA32_TSC_AUX -> {
                if ((value >>> 32) != 0) throw CpuFault.gp0();
                cpu.tscAux = value;
            }
            default -> throw CpuFault.gp0();
        }
    }

    private static long canonical(long value) {
        if (!Mmu.canonical(value)) throw CpuFault.gp0();
        return value;
    }

    /** SDM 2.2.1 and 10.8.5: reserved bits #GP; LME cannot change while paging is on; LMA is read-only. */
    private void writeEfer(long value) {
        long valid = cpu.model.eferValidBits();
        if ((value & ~valid) != 0) throw CpuFault.gp0();
        long old = cpu.efer;
        if (((old ^ value) & Cr.EFER_LME) != 0 && (cpu.cr0 & Cr.CR0_PG) != 0) throw CpuFault.gp0();
        cpu.setEfer((value & ~Cr.EFER_LMA) | (old & Cr.EFER_LMA));
        // NXE changes the meaning of bit 63 in paging entries: cached translations go.
        if (((old ^ value) & Cr.EFER_NXE) != 0) cpu.mmu.flush(true);
    }

    /** Memory types valid in PAT entries and MTRRs: UC 0, WC 1, WT 4, WP 5, WB 6 (PAT adds UC- 7). */
    static boolean validMemoryType(int t) {
        return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
    }

    /** SDM 13.12.2: each PAT entry must hold a valid type and its reserved bits 7:3 must be 0. */
    static boolean validPat(long value) {
        for (int i = 0; i < 8; i++) {
            int e = (int) (value >>> (8 * i)) & 0xFF;
            if (!validMemoryType(e) && e != 7) return false;
        }
        return true;
    }
}
