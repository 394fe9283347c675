package lhv.cpu.model;

import lhv.cpu.Cr;

/**
 * The processor model: what CPUID reports (GenuineIntel, family 6) and which optional features
 * exist. The VMX feature flag (CPUID.1:ECX[5]) is a property of the model, so a model without VMX
 * exists too.
 *
 * <p>The model is an Intel Coffee Lake client part (family 6, model 0x9E, stepping 0xA: signature
 * 0x000906EA, the value {@link lhv.cpu.Cpu#reset} puts in EDX), a Skylake-microarchitecture
 * processor, reduced to the features this processor implements. Feature bits are listed once here
 * with the CPUID leaf, register and bit they come from (SDM Vol. 2A, CPUID, Tables 3-8 .. 3-10 and
 * Table 3-8 leaf 7); everything else reads as 0. The x87/MMX/SSE/SSE2 baseline is reported although
 * its instructions are not implemented yet (see docs/QUIRKS.md): every x86-64 operating system
 * requires it, and using one of those instructions stops the run with "not implemented" rather than
 * misbehaving silently.
 *
 * <p>Context: immutable configuration read by CPUID (with the dynamic bits patched in by the system
 * unit) and by feature checks (CR4 bits, EFER bits, paging features).
 */
public final class CpuModel {
    public final String name;
    public final boolean vmx;

    /** CPUID.1:EAX, family 6, model 0x9E, stepping 0xA (Coffee Lake S). */
    public static final int SIGNATURE = 0x000906EA;
    /** Highest basic and extended leaves. */
    public static final int MAX_BASIC_LEAF = 0xD, MAX_EXTENDED_LEAF = 0x80000008;

    // CPUID.1:EDX (SDM Vol. 2A Table 3-11).
    public static final int EDX1_FPU = 1, EDX1_VME = 1 << 1, EDX1_DE = 1 << 2, EDX1_PSE = 1 << 3, EDX1_TSC = 1 << 4,
            EDX1_MSR = 1 << 5, EDX1_PAE = 1 << 6, EDX1_MCE = 1 << 7, EDX1_CX8 = 1 << 8, EDX1_SEP = 1 << 11,
            EDX1_MTRR = 1 << 12, EDX1_PGE = 1 << 13, EDX1_CMOV = 1 << 15, EDX1_PAT = 1 << 16,
            EDX1_PSE36 = 1 << 17, EDX1_CLFSH = 1 << 19, EDX1_MMX = 1 << 23, EDX1_FXSR = 1 << 24,
            EDX1_SSE = 1 << 25, EDX1_SSE2 = 1 << 26;
    // CPUID.1:ECX (SDM Vol. 2A Table 3-10).
    public static final int ECX1_MONITOR = 1 << 3, ECX1_VMX = 1 << 5, ECX1_SMX = 1 << 6, ECX1_CX16 = 1 << 13,
            ECX1_MOVBE = 1 << 22, ECX1_POPCNT = 1 << 23, ECX1_XSAVE = 1 << 26, ECX1_OSXSAVE = 1 << 27, ECX1_RDRAND = 1 << 30,
            ECX1_HYPERVISOR = 1 << 31;
    // CPUID.(7,0):EBX.
    public static final int EBX7_FSGSBASE = 1, EBX7_BMI1 = 1 << 3, EBX7_SMEP = 1 << 7, EBX7_BMI2 = 1 << 8, EBX7_ERMS = 1 << 9,
            EBX7_RDSEED = 1 << 18, EBX7_ADX = 1 << 19, EBX7_SMAP = 1 << 20, EBX7_CLFLUSHOPT = 1 << 23;
    // CPUID.80000001:ECX / EDX.
    public static final int ECX81_LAHF = 1, ECX81_LZCNT = 1 << 5, ECX81_PREFETCHW = 1 << 8;
    public static final int EDX81_SYSCALL = 1 << 11, EDX81_NX = 1 << 20, EDX81_PAGE1GB = 1 << 26,
            EDX81_RDTSCP = 1 << 27, EDX81_LM = 1 << 29;

    private static final int EDX1 = EDX1_FPU | EDX1_VME | EDX1_DE | EDX1_PSE | EDX1_TSC | EDX1_MSR | EDX1_PAE | EDX1_MCE
            | EDX1_CX8 | EDX1_SEP | EDX1_MTRR | EDX1_PGE | EDX1_CMOV | EDX1_PAT | EDX1_PSE36 | EDX1_CLFSH
            | EDX1_MMX | EDX1_FXSR | EDX1_SSE | EDX1_SSE2;
    // Not SMX (bit 6): GETSEC is #UD and CR4.SMXE reserved (cr4ValidBits).
    private static final int ECX1 = ECX1_MONITOR | ECX1_CX16 | ECX1_MOVBE | ECX1_POPCNT | ECX1_XSAVE | ECX1_RDRAND;
    // Not HLE/RTM (bits 4, 11: no TSX), INVPCID (10) or AVX2 (5): not implemented.
    private static final int EBX7 = EBX7_FSGSBASE | EBX7_BMI1 | EBX7_SMEP | EBX7_BMI2 | EBX7_ERMS | EBX7_RDSEED | EBX7_ADX | EBX7_SMAP
            | EBX7_CLFLUSHOPT;
    private static final int ECX81 = ECX81_LAHF | ECX81_LZCNT | ECX81_PREFETCHW;
    private static final int EDX81 = EDX81_SYSCALL | EDX81_NX | EDX81_PAGE1GB | EDX81_RDTSCP | EDX81_LM;

    /** XCR0 bits the processor supports (x87 and SSE state), CPUID.(0xD,0):EAX. */
    public static final long XCR0_SUPPORTED = 0x3;

    private static final String BRAND = "LHV software x86-64 (Intel family 6 model 158)";

    private CpuModel(String name, boolean vmx) {
        this.name = name;
        this.vmx = vmx;
    }

    /** The default model, with VMX. */
    public static CpuModel withVmx() {
        return new CpuModel("lhv-skylake", true);
    }

    /** The same processor with CPUID.1:ECX.VMX clear and no VMX MSRs. */
    public static CpuModel withoutVmx() {
        return new CpuModel("lhv-skylake-novmx", false);
    }

    /** MAXPHYADDR, CPUID.80000008:EAX[7:0] (SDM 4.1.4). The VMX layer uses it for address checks. */
    public int physicalAddressBits() {
        return 39;
    }

    /** Linear-address width, CPUID.80000008:EAX[15:8]. */
    public int linearAddressBits() {
        return 48;
    }

    /**
     * CR4 bits this model lets software set (SDM 2.5: setting a bit of an unsupported feature is
     * #GP(0)); also the basis for IA32_VMX_CR4_FIXED1. UMIP, LA57, PCIDE and PKE are not
     * implemented and not reported; SMXE is reserved because CPUID.1:ECX.SMX = 0. PCE has no CPUID flag
     * (every P6-family and later processor has it): it only lets CPL > 0 run RDPMC, which then finds
     * no valid counter (leaf 0AH reports no performance monitoring).
     */
    public long cr4ValidBits() {
        long bits = Cr.CR4_VME | Cr.CR4_PVI | Cr.CR4_TSD | Cr.CR4_DE | Cr.CR4_PSE | Cr.CR4_PAE | Cr.CR4_MCE | Cr.CR4_PGE
                | Cr.CR4_PCE | Cr.CR4_FSGSBASE
                | Cr.CR4_OSFXSR | Cr.CR4_OSXMMEXCPT | Cr.CR4_OSXSAVE | Cr.CR4_SMEP | Cr.CR4_SMAP;
        return vmx ? bits | Cr.CR4_VMXE : bits;
    }

    /** EFER bits software may set: SCE, LME, NXE (LMA is written by the processor), SDM 2.2.1. */
    public long eferValidBits() {
        return Cr.EFER_SCE | Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_NXE;
    }

    /**
     * The static part of CPUID for leaf {@code eax}, sub-leaf {@code ecx}: returns {eax, ebx, ecx, edx}.
     * Per-processor values (OSXSAVE, the XSAVE area size for the current XCR0, APIC ID) are filled in
     * by {@link lhv.cpu.sys.SystemUnit#cpuid()}.
     */
    public int[] cpuid(int eax, int ecx) {
        // SDM Vol. 2A CPUID: a leaf above the highest basic or extended leaf returns the data of the
        // highest basic leaf.
        if (Integer.compareUnsigned(eax, MAX_BASIC_LEAF) > 0
                && (Integer.compareUnsigned(eax, 0x80000000) < 0 || Integer.compareUnsigned(eax, MAX_EXTENDED_LEAF) > 0)) {
            eax = MAX_BASIC_LEAF;
        }
        return switch (eax) {
            // "GenuineIntel" in EBX, EDX, ECX.
            case 0 -> new int[] {MAX_BASIC_LEAF, 0x756E6547, 0x6C65746E, 0x49656E69};
            // EBX: CLFLUSH line size 8 * 8 = 64 bytes (bits 15:8), one logical processor (23:16).
            case 1 -> new int[] {SIGNATURE, 0x00010800, ECX1 | (vmx ? ECX1_VMX : 0), EDX1};
            case 7 -> ecx == 0 ? new int[] {0, EBX7, 0, 0} : new int[4];
            // Architectural performance monitoring, version 0: no general-purpose or fixed-function
            // counters, so every RDPMC counter index is invalid (#GP(0), SDM Vol. 2 RDPMC; 21.2).
            case 0xA -> new int[4];
            case 0xD -> switch (ecx) {
                // Sub-leaf 0: supported XCR0 bits; legacy area (512) + XSAVE header (64) bytes.
                case 0 -> new int[] {(int) XCR0_SUPPORTED, 576, 576, 0};
                default -> new int[4];
            };
            case 0x80000000 -> new int[] {MAX_EXTENDED_LEAF, 0, 0, 0};
            case 0x80000001 -> new int[] {0, 0, ECX81, EDX81};
            case 0x80000002, 0x80000003, 0x80000004 -> brand(eax - 0x80000002);
            // L2: 256 KiB, 8-way (encoding 6), 64-byte lines.
            case 0x80000006 -> new int[] {0, 0, (256 << 16) | (6 << 12) | 64, 0};
            // Invariant TSC: the virtual TSC runs at a constant rate in every state.
            case 0x80000007 -> new int[] {0, 0, 0, 1 << 8};
            case 0x80000008 -> new int[] {(linearAddressBits() << 8) | physicalAddressBits(), 0, 0, 0};
            default -> new int[4];
        };
    }

    private static int[] brand(int part) {
        byte[] b = new byte[48];
        byte[] s = BRAND.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        System.arraycopy(s, 0, b, 0, Math.min(s.length, 47));
        int[] r = new int[4];
        for (int k = 0; k < 4; k++) {
            int o = part * 16 + k * 4;
            r[k] = (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | (b[o + 3] & 0xFF) << 24;
        }
        return r;
    }

    /** True when CPUID reports {@code bit} in CPUID.1:ECX for this model. */
    public boolean hasEcx1(int bit) {
        return ((ECX1 | (vmx ? ECX1_VMX : 0)) & bit) != 0;
    }
}
