package lhv.vmx.caps;

import lhv.cpu.Msr;
import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;

/**
 * The VMX capability MSRs of one processor model (SDM Vol. 3C Appendix A): what VMX software may put
 * into the controls, which CR0/CR4 bits are fixed in VMX operation, the VMCS revision identifier and
 * the miscellaneous limits.
 *
 * <p>{@link #skylakeClient()} models an Intel Core i7-6700K (Skylake-S, CPUID family 6 model 94).
 * Its values are those published in VirtualBox's CPU database, file
 * {@code src/VBox/VMM/VMMR3/cpus/Intel_Core_i7_6700K.h}, which was dumped from that part; we then
 * cleared the allowed-1 settings of every feature this processor does not implement (EPT, VPID,
 * unrestricted guest, APIC virtualization, VMCS shadowing, SGX, PT, MPX, SMM dual-monitor, ...) and
 * enlarged the VMCS region to 4 KiB. Each change is listed in docs/QUIRKS.md and docs/VMX-CAPS.md.
 *
 * <p>Context: immutable model data, read by the VMX instructions, the VM-entry checks, RDMSR (through
 * {@link VmxMsrs}) and {@code hv caps}.
 */
public final class VmxCapabilities {
    /** IA32_VMX_BASIC bits, SDM A.1. */
    public static final long BASIC_32BIT_ADDRESSES = 1L << 48, BASIC_DUAL_MONITOR = 1L << 49,
            BASIC_INS_OUTS_INFO = 1L << 54, BASIC_TRUE_CONTROLS = 1L << 55,
            BASIC_EXCEPTION_WITHOUT_ERROR_CODE = 1L << 56;
    /** Memory type WB (6) in IA32_VMX_BASIC[53:50]. */
    public static final int MEMORY_TYPE_WB = 6;
    /** IA32_VMX_MISC bits, SDM A.6. */
    public static final long MISC_STORES_LMA = 1L << 5, MISC_ACTIVITY_HLT = 1L << 6,
            MISC_ACTIVITY_SHUTDOWN = 1L << 7, MISC_ACTIVITY_WAIT_FOR_SIPI = 1L << 8,
            MISC_PT_IN_VMX = 1L << 14, MISC_SMBASE_RDMSR = 1L << 15, MISC_VMXOFF_BLOCKS_SMI = 1L << 28,
            MISC_VMWRITE_ANY_FIELD = 1L << 29, MISC_ZERO_LENGTH_INJECTION = 1L << 30;

    public final String processorName;
    public final long basic, pinBased, procBased, procBased2, exit, entry, misc;
    public final long truePinBased, trueProcBased, trueExit, trueEntry;
    public final long cr0Fixed0, cr0Fixed1, cr4Fixed0, cr4Fixed1, vmcsEnum, eptVpidCap, vmfunc;

    private VmxCapabilities(String processorName, long basic, long pinBased, long procBased, long procBased2,
                            long exit, long entry, long misc, long truePinBased, long trueProcBased,
                            long trueExit, long trueEntry, long cr0Fixed0, long cr0Fixed1, long cr4Fixed0,
                            long cr4Fixed1, long eptVpidCap, long vmfunc) {
        this.processorName = processorName;
        this.basic = basic;
        this.pinBased = pinBased;
        this.procBased = procBased;
        this.procBased2 = procBased2;
        this.exit = exit;
        this.entry = entry;
        this.misc = misc;
        this.truePinBased = truePinBased;
        this.trueProcBased = trueProcBased;
        this.trueExit = trueExit;
        this.trueEntry = trueEntry;
        this.cr0Fixed0 = cr0Fixed0;
        this.cr0Fixed1 = cr0Fixed1;
        this.cr4Fixed0 = cr4Fixed0;
        this.cr4Fixed1 = cr4Fixed1;
        this.eptVpidCap = eptVpidCap;
        this.vmfunc = vmfunc;
        this.supportedFields = computeSupportedFields();
        this.vmcsEnum = computeVmcsEnum();
    }

    /**
     * Intel Core i7-6700K (Skylake) as published, minus the features we do not implement. Original
     * values (VirtualBox CPU database) in comments; see docs/QUIRKS.md for every change.
     */
    public static VmxCapabilities skylakeClient() {
        return new VmxCapabilities("Intel Core i7-6700K (Skylake-S, family 6 model 94)",
                // 0x00da0400_00000004: revision 4, 1 KiB region, dual-monitor (bit 49), WB, INS/OUTS, TRUE.
                // Ours: 4 KiB region (our layout needs it), no dual-monitor treatment of SMM.
                4L | (0x1000L << 32) | ((long) MEMORY_TYPE_WB << 50) | BASIC_INS_OUTS_INFO | BASIC_TRUE_CONTROLS,
                0x0000007f_00000016L,          // pin-based: unchanged (posted interrupts never offered)
                0xfff9fffe_0401e172L,          // primary processor-based: unchanged
                // 0x001ffcff_00000000: we keep descriptor-table exiting, RDTSCP, WBINVD, RDRAND, RDSEED exiting.
                ((long) (SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING.mask()
                        | SecondaryProcessorControl.ENABLE_RDTSCP.mask()
                        | SecondaryProcessorControl.WBINVD_EXITING.mask()
                        | SecondaryProcessorControl.RDRAND_EXITING.mask()
                        | SecondaryProcessorControl.RDSEED_EXITING.mask()) << 32),
                0x007fffff_00036dffL,          // exit: 0x01ffffff allowed-1 minus clear BNDCFGS (23), conceal PT (24)
                0x0000f3ff_000011ffL,          // entry: 0x3ffff allowed-1 minus SMM (10, 11), BNDCFGS (16), PT (17)
                // 0x7004c1e7 minus shutdown/wait-for-SIPI states (7, 8), PT (14), SMM (15, 28), VMWRITE-any (29).
                0x40040067L,
                0x0000007f_00000016L,
                0xfff9fffe_04006172L,
                0x007fffff_00036dfbL,
                0x0000f3ff_000011fbL,
                0x80000021L, 0xffffffffL,      // CR0: PE, NE, PG fixed to 1 (no unrestricted guest)
                0x00002000L, 0x003727ffL,      // CR4: VMXE fixed to 1; FIXED1 as published
                0, 0);                         // EPT/VPID and VM functions absent (MSRs do not exist)
    }

    /**
     * The capabilities of a processor model: {@link #skylakeClient()} when the model has VMX
     * (CPUID.1:ECX.VMX = 1), null for the model without VMX, which has no VMX MSRs at all.
     */
    public static VmxCapabilities forModel(lhv.cpu.model.CpuModel model) {
        return model.vmx ? skylakeClient() : null;
    }

    /**
     * Physical-address width (MAXPHYADDR) of the modelled i7-6700K, as its CPUID.80000008H:EAX[7:0]
     * reports: 39 bits. VMXON/VMCS pointers, bitmap addresses and MSR areas are checked against it.
     */
    public static final int SKYLAKE_PHYSICAL_ADDRESS_WIDTH = 39;

    /** True when IA32_VMX_BASIC[55] says the TRUE_ capability MSRs exist (SDM A.1). */
    public boolean hasTrueControls() {
        return (basic & BASIC_TRUE_CONTROLS) != 0;
    }

    /** VMCS revision identifier, IA32_VMX_BASIC[30:0]. */
    public int revisionId() {
        return (int) (basic & 0x7FFF_FFFF);
    }

    /** Bytes to allocate for the VMXON region and each VMCS region, IA32_VMX_BASIC[44:32]. */
    public int regionSize() {
        return (int) ((basic >>> 32) & 0x1FFF);
    }

    /** IA32_VMX_BASIC[48]: region addresses limited to 32 bits (always 0 on Intel 64 processors). */
    public boolean limitsAddressesTo32Bits() {
        return (basic & BASIC_32BIT_ADDRESSES) != 0;
    }

    public int vmcsMemoryType() {
        return (int) ((basic >>> 50) & 0xF);
    }

    /** IA32_VMX_BASIC[54]: VM exits due to INS/OUTS report instruction information. */
    public boolean reportsInsOutsInfo() {
        return (basic & BASIC_INS_OUTS_INFO) != 0;
    }

    /** IA32_VMX_BASIC[56]: hardware exceptions may be injected with or without error code (SDM 27.2.1.3). */
    public boolean injectsExceptionsWithoutErrorCode() {
        return (basic & BASIC_EXCEPTION_WITHOUT_ERROR_CODE) != 0;
    }

    /** The capability MSR value governing {@code word} for VM entry: the TRUE MSR when it exists (SDM A.2). */
    public long controlCapability(ControlWord word) {
        boolean t = hasTrueControls();
        return switch (word) {
            case PIN_BASED -> t ? truePinBased : pinBased;
            case PRIMARY_PROCESSOR_BASED -> t ? trueProcBased : procBased;
            case SECONDARY_PROCESSOR_BASED -> procBased2;
            case EXIT -> t ? trueExit : exit;
            case ENTRY -> t ? trueEntry : entry;
        };
    }

    /** Bits of {@code word} that must be 1 (allowed-0 settings, bits 31:0 of the capability MSR). */
    public int mustBeOne(ControlWord word) {
        return (int) controlCapability(word);
    }

    /** Bits of {@code word} that may be 1 (allowed-1 settings, bits 63:32 of the capability MSR). */
    public int mayBeOne(ControlWord word) {
        return (int) (controlCapability(word) >>> 32);
    }

    /** True when the 1-setting of {@code control} is supported (secondary controls also need "activate secondary controls"). */
    public boolean allows(ControlBit control) {
        if (control.word() == ControlWord.SECONDARY_PROCESSOR_BASED
                && !allows(PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS)) {
            return false;
        }
        return (mayBeOne(control.word()) & control.mask()) != 0;
    }

    /** True when {@code value} is a valid setting of {@code word}: all must-be-1 bits set, no may-not-be-1 bit set. */
    public boolean isValidSetting(ControlWord word, int value) {
        return (value & mustBeOne(word)) == mustBeOne(word) && (value & ~mayBeOne(word)) == 0;
    }

    /** True when {@code field} exists on this processor (SDM Appendix B footnotes). */
    public boolean supports(VmcsField field) {
        return supportedFields[field.ordinal()];
    }

    /**
     * Per field ordinal: {@link #supports}, computed when the capabilities are made (they are
     * immutable, so is this table). VMREAD/VMWRITE ask on every access, the hosted hypervisor's
     * exit loop several times per VM exit: a final table keeps that one load, with no first-use branch.
     */
    private final boolean[] supportedFields;

    private boolean[] computeSupportedFields() {
        boolean[] known = new boolean[VmcsField.COUNT];
        for (VmcsField f : VmcsField.values()) known[f.ordinal()] = computeSupports(f);
        return known;
    }

    private boolean computeSupports(VmcsField field) {
        if (field.requiredControls().isEmpty()) return true;
        for (ControlBit c : field.requiredControls()) {
            if (allows(c)) return true;
        }
        return false;
    }

    /** The VMX-preemption timer counts down by 1 every time TSC bit X changes, X = IA32_VMX_MISC[4:0]. */
    public int preemptionTimerRate() {
        return (int) (misc & 0x1F);
    }

    /** IA32_VMX_MISC[5]: VM exits store EFER.LMA into the "IA-32e mode guest" VM-entry control. */
    public boolean storesLmaOnExit() {
        return (misc & MISC_STORES_LMA) != 0;
    }

    /** True when activity state {@code state} (0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI) is supported (SDM A.6). */
    public boolean supportsActivityState(int state) {
        return switch (state) {
            case 0 -> true;
            case 1 -> (misc & MISC_ACTIVITY_HLT) != 0;
            case 2 -> (misc & MISC_ACTIVITY_SHUTDOWN) != 0;
            case 3 -> (misc & MISC_ACTIVITY_WAIT_FOR_SIPI) != 0;
            default -> false;
        };
    }

    /** Number of CR3-target values supported, IA32_VMX_MISC[24:16]. */
    public int cr3TargetCount() {
        return (int) ((misc >>> 16) & 0x1FF);
    }

    /** Recommended maximum number of MSRs in each MSR list: 512 * (N + 1), N = IA32_VMX_MISC[27:25]. */
    public int maxMsrListSize() {
        return 512 * ((int) ((misc >>> 25) & 7) + 1);
    }

    /** IA32_VMX_MISC[29]: VMWRITE may write any supported field, including VM-exit information fields. */
    public boolean vmwriteAnyField() {
        return (misc & MISC_VMWRITE_ANY_FIELD) != 0;
    }

    /** IA32_VMX_MISC[30]: software interrupts/exceptions may be injected with instruction length 0. */
    public boolean allowsZeroLengthInjection() {
        return (misc & MISC_ZERO_LENGTH_INJECTION) != 0;
    }

    /** MSEG revision identifier, IA32_VMX_MISC[63:32]. */
    public int msegRevisionId() {
        return (int) (misc >>> 32);
    }

    /** True when {@code cr0} satisfies IA32_VMX_CR0_FIXED0/FIXED1 (SDM A.7). */
    public boolean cr0Valid(long cr0) {
        return (cr0 & cr0Fixed0) == cr0Fixed0 && (cr0 & ~cr0Fixed1) == 0;
    }

    /** True when {@code cr4} satisfies IA32_VMX_CR4_FIXED0/FIXED1 (SDM A.8). */
    public boolean cr4Valid(long cr4) {
        return (cr4 & cr4Fixed0) == cr4Fixed0 && (cr4 & ~cr4Fixed1) == 0;
    }

    /** Highest field index among the supported fields, times 2, as IA32_VMX_VMCS_ENUM[9:1] reports (SDM A.9). */
    private long computeVmcsEnum() {
        int highest = 0;
        for (VmcsField f : VmcsField.values()) {
            if (supports(f)) highest = Math.max(highest, f.index());
        }
        return (long) highest << 1;
    }

    /**
     * The value RDMSR returns for capability MSR {@code index}, or null when the MSR does not exist on
     * this model (SDM A.3.3: PROCBASED_CTLS2 needs "activate secondary controls"; A.10: EPT_VPID_CAP
     * needs EPT or VPID; A.11: VMFUNC needs "enable VM functions"; A.1: TRUE MSRs need BASIC[55]).
     */
    public Long msr(int index) {
        return switch (index) {
            case Msr.IA32_VMX_BASIC -> basic;
            case Msr.IA32_VMX_PINBASED_CTLS -> pinBased;
            case Msr.IA32_VMX_PROCBASED_CTLS -> procBased;
            case Msr.IA32_VMX_EXIT_CTLS -> exit;
            case Msr.IA32_VMX_ENTRY_CTLS -> entry;
            case Msr.IA32_VMX_MISC -> misc;
            case Msr.IA32_VMX_CR0_FIXED0 -> cr0Fixed0;
            case Msr.IA32_VMX_CR0_FIXED1 -> cr0Fixed1;
            case Msr.IA32_VMX_CR4_FIXED0 -> cr4Fixed0;
            case Msr.IA32_VMX_CR4_FIXED1 -> cr4Fixed1;
            case Msr.IA32_VMX_VMCS_ENUM -> vmcsEnum;
            case Msr.IA32_VMX_PROCBASED_CTLS2 ->
                    allows(PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS) ? procBased2 : null;
            case Msr.IA32_VMX_EPT_VPID_CAP ->
                    allows(SecondaryProcessorControl.ENABLE_EPT) || allows(SecondaryProcessorControl.ENABLE_VPID)
                            ? eptVpidCap : null;
            case Msr.IA32_VMX_TRUE_PINBASED_CTLS -> hasTrueControls() ? truePinBased : null;
            case Msr.IA32_VMX_TRUE_PROCBASED_CTLS -> hasTrueControls() ? trueProcBased : null;
            case Msr.IA32_VMX_TRUE_EXIT_CTLS -> hasTrueControls() ? trueExit : null;
            case Msr.IA32_VMX_TRUE_ENTRY_CTLS -> hasTrueControls() ? trueEntry : null;
            case Msr.IA32_VMX_VMFUNC -> allows(SecondaryProcessorControl.ENABLE_VM_FUNCTIONS) ? vmfunc : null;
            default -> null;
        };
    }

    /** Indices of every capability MSR, in index order. */
    public static final int[] MSR_INDICES = {
            Msr.IA32_VMX_BASIC, Msr.IA32_VMX_PINBASED_CTLS, Msr.IA32_VMX_PROCBASED_CTLS, Msr.IA32_VMX_EXIT_CTLS,
            Msr.IA32_VMX_ENTRY_CTLS, Msr.IA32_VMX_MISC, Msr.IA32_VMX_CR0_FIXED0, Msr.IA32_VMX_CR0_FIXED1,
            Msr.IA32_VMX_CR4_FIXED0, Msr.IA32_VMX_CR4_FIXED1, Msr.IA32_VMX_VMCS_ENUM, Msr.IA32_VMX_PROCBASED_CTLS2,
            Msr.IA32_VMX_EPT_VPID_CAP, Msr.IA32_VMX_TRUE_PINBASED_CTLS, Msr.IA32_VMX_TRUE_PROCBASED_CTLS,
            Msr.IA32_VMX_TRUE_EXIT_CTLS, Msr.IA32_VMX_TRUE_ENTRY_CTLS, Msr.IA32_VMX_VMFUNC};

    /** The SDM name of capability MSR {@code index}. */
    public static String msrName(int index) {
        return switch (index) {
            case Msr.IA32_VMX_BASIC -> "IA32_VMX_BASIC";
            case Msr.IA32_VMX_PINBASED_CTLS -> "IA32_VMX_PINBASED_CTLS";
            case Msr.IA32_VMX_PROCBASED_CTLS -> "IA32_VMX_PROCBASED_CTLS";
            case Msr.IA32_VMX_EXIT_CTLS -> "IA32_VMX_EXIT_CTLS";
            case Msr.IA32_VMX_ENTRY_CTLS -> "IA32_VMX_ENTRY_CTLS";
            case Msr.IA32_VMX_MISC -> "IA32_VMX_MISC";
            case Msr.IA32_VMX_CR0_FIXED0 -> "IA32_VMX_CR0_FIXED0";
            case Msr.IA32_VMX_CR0_FIXED1 -> "IA32_VMX_CR0_FIXED1";
            case Msr.IA32_VMX_CR4_FIXED0 -> "IA32_VMX_CR4_FIXED0";
            case Msr.IA32_VMX_CR4_FIXED1 -> "IA32_VMX_CR4_FIXED1";
            case Msr.IA32_VMX_VMCS_ENUM -> "IA32_VMX_VMCS_ENUM";
            case Msr.IA32_VMX_PROCBASED_CTLS2 -> "IA32_VMX_PROCBASED_CTLS2";
            case Msr.IA32_VMX_EPT_VPID_CAP -> "IA32_VMX_EPT_VPID_CAP";
            case Msr.IA32_VMX_TRUE_PINBASED_CTLS -> "IA32_VMX_TRUE_PINBASED_CTLS";
            case Msr.IA32_VMX_TRUE_PROCBASED_CTLS -> "IA32_VMX_TRUE_PROCBASED_CTLS";
            case Msr.IA32_VMX_TRUE_EXIT_CTLS -> "IA32_VMX_TRUE_EXIT_CTLS";
            case Msr.IA32_VMX_TRUE_ENTRY_CTLS -> "IA32_VMX_TRUE_ENTRY_CTLS";
            case Msr.IA32_VMX_VMFUNC -> "IA32_VMX_VMFUNC";
            default -> String.format("MSR %#x", index);
        };
    }
}
