package lhv.vmx.vmcs;

import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;

import static lhv.vmx.controls.EntryControl.*;
import static lhv.vmx.controls.PinBasedControl.*;
import static lhv.vmx.controls.PrimaryProcessorControl.*;
import static lhv.vmx.controls.SecondaryProcessorControl.*;

/**
 * Every field of the VMCS, SDM Vol. 3C Appendix B (Tables B-1 .. B-14), with its encoding. The
 * constant names follow Linux ({@code arch/x86/include/asm/vmx.h}, {@code enum vmcs_field}); fields
 * Linux does not name get a name in the same style. Width, type and index are not stated separately:
 * they are derived from the encoding (SDM 25.11.2): bit 0 access type (0 full, 1 high), bits 9:1
 * index, bits 11:10 type, bits 14:13 width. 64-bit fields also have a "high" encoding (the full
 * encoding + 1) that accesses bits 63:32; {@link #forEncoding} resolves both.
 *
 * <p>Some fields exist only on processors that support the 1-setting of a VMX control (the
 * footnotes of Appendix B); {@link #requiredControls()} lists those controls (the field exists when
 * any of them may be 1). VMREAD/VMWRITE of a field that does not exist fail with error 12. (The host
 * FRED fields really depend on "load FRED" in the secondary VM-exit controls, a 64-bit word this
 * processor does not offer; they are tied here to the primary control that enables that word.)
 *
 * <p>Context: static specification data, used by VMREAD/VMWRITE, the VMCS storage, the VM-entry
 * checks and the hosted hypervisor.
 */
public enum VmcsField {
    VIRTUAL_PROCESSOR_ID(0x0000, "virtual-processor identifier (VPID)", ENABLE_VPID),
    POSTED_INTR_NV(0x0002, "posted-interrupt notification vector", PROCESS_POSTED_INTERRUPTS),
    EPTP_INDEX(0x0004, "EPTP index", EPT_VIOLATION_VE),
    HLAT_PREFIX_SIZE(0x0006, "HLAT prefix size", ACTIVATE_TERTIARY_CONTROLS),
    LAST_PID_POINTER_INDEX(0x0008, "last PID-pointer index", ACTIVATE_TERTIARY_CONTROLS),
    GUEST_ES_SELECTOR(0x0800, "guest ES selector"),
    GUEST_CS_SELECTOR(0x0802, "guest CS selector"),
    GUEST_SS_SELECTOR(0x0804, "guest SS selector"),
    GUEST_DS_SELECTOR(0x0806, "guest DS selector"),
    GUEST_FS_SELECTOR(0x0808, "guest FS selector"),
    GUEST_GS_SELECTOR(0x080a, "guest GS selector"),
    GUEST_LDTR_SELECTOR(0x080c, "guest LDTR selector"),
    GUEST_TR_SELECTOR(0x080e, "guest TR selector"),
    GUEST_INTR_STATUS(0x0810, "guest interrupt status", VIRTUAL_INTERRUPT_DELIVERY),
    GUEST_PML_INDEX(0x0812, "PML index", ENABLE_PML),
    GUEST_UINV(0x0814, "guest UINV", LOAD_UINV, ExitControl.CLEAR_UINV),
    HOST_ES_SELECTOR(0x0c00, "host ES selector"),
    HOST_CS_SELECTOR(0x0c02, "host CS selector"),
    HOST_SS_SELECTOR(0x0c04, "host SS selector"),
    HOST_DS_SELECTOR(0x0c06, "host DS selector"),
    HOST_FS_SELECTOR(0x0c08, "host FS selector"),
    HOST_GS_SELECTOR(0x0c0a, "host GS selector"),
    HOST_TR_SELECTOR(0x0c0c, "host TR selector"),
    IO_BITMAP_A(0x2000, "address of I/O bitmap A"),
    IO_BITMAP_B(0x2002, "address of I/O bitmap B"),
    MSR_BITMAP(0x2004, "address of MSR bitmaps", USE_MSR_BITMAPS),
    VM_EXIT_MSR_STORE_ADDR(0x2006, "VM-exit MSR-store address"),
    VM_EXIT_MSR_LOAD_ADDR(0x2008, "VM-exit MSR-load address"),
    VM_ENTRY_MSR_LOAD_ADDR(0x200a, "VM-entry MSR-load address"),
    EXECUTIVE_VMCS_POINTER(0x200c, "executive-VMCS pointer"),
    PML_ADDRESS(0x200e, "PML address", ENABLE_PML),
    TSC_OFFSET(0x2010, "TSC offset"),
    VIRTUAL_APIC_PAGE_ADDR(0x2012, "virtual-APIC address", USE_TPR_SHADOW),
    APIC_ACCESS_ADDR(0x2014, "APIC-access address", VIRTUALIZE_APIC_ACCESSES),
    POSTED_INTR_DESC_ADDR(0x2016, "posted-interrupt descriptor address", PROCESS_POSTED_INTERRUPTS),
    VM_FUNCTION_CONTROL(0x2018, "VM-function controls", ENABLE_VM_FUNCTIONS),
    EPT_POINTER(0x201a, "EPT pointer (EPTP)", ENABLE_EPT),
    EOI_EXIT_BITMAP0(0x201c, "EOI-exit bitmap 0", VIRTUAL_INTERRUPT_DELIVERY),
    EOI_EXIT_BITMAP1(0x201e, "EOI-exit bitmap 1", VIRTUAL_INTERRUPT_DELIVERY),
    EOI_EXIT_BITMAP2(0x2020, "EOI-exit bitmap 2", VIRTUAL_INTERRUPT_DELIVERY),
    EOI_EXIT_BITMAP3(0x2022, "EOI-exit bitmap 3", VIRTUAL_INTERRUPT_DELIVERY),
    EPTP_LIST_ADDRESS(0x2024, "EPTP-list address", ENABLE_VM_FUNCTIONS),
    VMREAD_BITMAP(0x2026, "VMREAD-bitmap address", VMCS_SHADOWING),
    VMWRITE_BITMAP(0x2028, "VMWRITE-bitmap address", VMCS_SHADOWING),
    VE_INFORMATION_ADDRESS(0x202a, "virtualization-exception information address", EPT_VIOLATION_VE),
    XSS_EXIT_BITMAP(0x202c, "XSS-exiting bitmap", ENABLE_XSAVES_XRSTORS),
    ENCLS_EXITING_BITMAP(0x202e, "ENCLS-exiting bitmap", ENABLE_ENCLS_EXITING),
    SPPT_POINTER(0x2030, "sub-page-permission-table pointer", SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT),
    TSC_MULTIPLIER(0x2032, "TSC multiplier", USE_TSC_SCALING),
    TERTIARY_VM_EXEC_CONTROL(0x2034, "tertiary processor-based VM-execution controls", ACTIVATE_TERTIARY_CONTROLS),
    ENCLV_EXITING_BITMAP(0x2036, "ENCLV-exiting bitmap", ENABLE_ENCLV_EXITING),
    LOW_PASID_DIRECTORY(0x2038, "low PASID directory address", PASID_TRANSLATION),
    HIGH_PASID_DIRECTORY(0x203a, "high PASID directory address", PASID_TRANSLATION),
    SHARED_EPT_POINTER(0x203c, "shared EPT pointer", ENABLE_EPT),
    PCONFIG_EXITING_BITMAP(0x203e, "PCONFIG-exiting bitmap", ENABLE_PCONFIG),
    HLAT_POINTER(0x2040, "hypervisor-managed linear-address translation pointer (HLATP)", ACTIVATE_TERTIARY_CONTROLS),
    PID_POINTER_TABLE(0x2042, "PID-pointer table address", ACTIVATE_TERTIARY_CONTROLS),
    SECONDARY_VM_EXIT_CONTROLS(0x2044, "secondary VM-exit controls", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    IA32_SPEC_CTRL_MASK(0x204a, "IA32_SPEC_CTRL mask", ACTIVATE_TERTIARY_CONTROLS),
    IA32_SPEC_CTRL_SHADOW(0x204c, "IA32_SPEC_CTRL shadow", ACTIVATE_TERTIARY_CONTROLS),
    INJECTED_EVENT_DATA(0x2052, "injected-event data", LOAD_FRED),
    GUEST_PHYSICAL_ADDRESS(0x2400, "guest-physical address", ENABLE_EPT),
    ORIGINAL_EVENT_DATA(0x2404, "original-event data", LOAD_FRED),
    VMCS_LINK_POINTER(0x2800, "VMCS link pointer"),
    GUEST_IA32_DEBUGCTL(0x2802, "guest IA32_DEBUGCTL"),
    GUEST_IA32_PAT(0x2804, "guest IA32_PAT", LOAD_IA32_PAT, ExitControl.SAVE_IA32_PAT),
    GUEST_IA32_EFER(0x2806, "guest IA32_EFER", LOAD_IA32_EFER, ExitControl.SAVE_IA32_EFER),
    GUEST_IA32_PERF_GLOBAL_CTRL(0x2808, "guest IA32_PERF_GLOBAL_CTRL", EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL, ExitControl.SAVE_IA32_PERF_GLOBAL_CTRL),
    GUEST_PDPTR0(0x280a, "guest PDPTE0", ENABLE_EPT),
    GUEST_PDPTR1(0x280c, "guest PDPTE1", ENABLE_EPT),
    GUEST_PDPTR2(0x280e, "guest PDPTE2", ENABLE_EPT),
    GUEST_PDPTR3(0x2810, "guest PDPTE3", ENABLE_EPT),
    GUEST_BNDCFGS(0x2812, "guest IA32_BNDCFGS", LOAD_IA32_BNDCFGS, ExitControl.CLEAR_IA32_BNDCFGS),
    GUEST_IA32_RTIT_CTL(0x2814, "guest IA32_RTIT_CTL", LOAD_IA32_RTIT_CTL, ExitControl.CLEAR_IA32_RTIT_CTL),
    GUEST_IA32_LBR_CTL(0x2816, "guest IA32_LBR_CTL", LOAD_GUEST_IA32_LBR_CTL, ExitControl.CLEAR_IA32_LBR_CTL),
    GUEST_IA32_PKRS(0x2818, "guest IA32_PKRS", EntryControl.LOAD_PKRS),
    GUEST_IA32_FRED_CONFIG(0x281a, "guest IA32_FRED_CONFIG", LOAD_FRED),
    GUEST_IA32_FRED_RSP1(0x281c, "guest IA32_FRED_RSP1", LOAD_FRED),
    GUEST_IA32_FRED_RSP2(0x281e, "guest IA32_FRED_RSP2", LOAD_FRED),
    GUEST_IA32_FRED_RSP3(0x2820, "guest IA32_FRED_RSP3", LOAD_FRED),
    GUEST_IA32_FRED_STKLVLS(0x2822, "guest IA32_FRED_STKLVLS", LOAD_FRED),
    GUEST_IA32_FRED_SSP1(0x2824, "guest IA32_FRED_SSP1", LOAD_FRED),
    GUEST_IA32_FRED_SSP2(0x2826, "guest IA32_FRED_SSP2", LOAD_FRED),
    GUEST_IA32_FRED_SSP3(0x2828, "guest IA32_FRED_SSP3", LOAD_FRED),
    HOST_IA32_PAT(0x2c00, "host IA32_PAT", ExitControl.LOAD_IA32_PAT),
    HOST_IA32_EFER(0x2c02, "host IA32_EFER", ExitControl.LOAD_IA32_EFER),
    HOST_IA32_PERF_GLOBAL_CTRL(0x2c04, "host IA32_PERF_GLOBAL_CTRL", ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL),
    HOST_IA32_PKRS(0x2c06, "host IA32_PKRS", ExitControl.LOAD_PKRS),
    HOST_IA32_FRED_CONFIG(0x2c08, "host IA32_FRED_CONFIG", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_RSP1(0x2c0a, "host IA32_FRED_RSP1", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_RSP2(0x2c0c, "host IA32_FRED_RSP2", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_RSP3(0x2c0e, "host IA32_FRED_RSP3", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_STKLVLS(0x2c10, "host IA32_FRED_STKLVLS", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_SSP1(0x2c12, "host IA32_FRED_SSP1", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_SSP2(0x2c14, "host IA32_FRED_SSP2", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    HOST_IA32_FRED_SSP3(0x2c16, "host IA32_FRED_SSP3", ExitControl.ACTIVATE_SECONDARY_CONTROLS),
    PIN_BASED_VM_EXEC_CONTROL(0x4000, "pin-based VM-execution controls"),
    CPU_BASED_VM_EXEC_CONTROL(0x4002, "primary processor-based VM-execution controls"),
    EXCEPTION_BITMAP(0x4004, "exception bitmap"),
    PAGE_FAULT_ERROR_CODE_MASK(0x4006, "page-fault error-code mask"),
    PAGE_FAULT_ERROR_CODE_MATCH(0x4008, "page-fault error-code match"),
    CR3_TARGET_COUNT(0x400a, "CR3-target count"),
    VM_EXIT_CONTROLS(0x400c, "primary VM-exit controls"),
    VM_EXIT_MSR_STORE_COUNT(0x400e, "VM-exit MSR-store count"),
    VM_EXIT_MSR_LOAD_COUNT(0x4010, "VM-exit MSR-load count"),
    VM_ENTRY_CONTROLS(0x4012, "VM-entry controls"),
    VM_ENTRY_MSR_LOAD_COUNT(0x4014, "VM-entry MSR-load count"),
    VM_ENTRY_INTR_INFO_FIELD(0x4016, "VM-entry interruption-information field"),
    VM_ENTRY_EXCEPTION_ERROR_CODE(0x4018, "VM-entry exception error code"),
    VM_ENTRY_INSTRUCTION_LEN(0x401a, "VM-entry instruction length"),
    TPR_THRESHOLD(0x401c, "TPR threshold", USE_TPR_SHADOW),
    SECONDARY_VM_EXEC_CONTROL(0x401e, "secondary processor-based VM-execution controls", ACTIVATE_SECONDARY_CONTROLS),
    PLE_GAP(0x4020, "PLE_Gap", PAUSE_LOOP_EXITING),
    PLE_WINDOW(0x4022, "PLE_Window", PAUSE_LOOP_EXITING),
    NOTIFY_WINDOW(0x4024, "instruction-timeout control", INSTRUCTION_TIMEOUT),
    VM_INSTRUCTION_ERROR(0x4400, "VM-instruction error"),
    VM_EXIT_REASON(0x4402, "exit reason"),
    VM_EXIT_INTR_INFO(0x4404, "VM-exit interruption information"),
    VM_EXIT_INTR_ERROR_CODE(0x4406, "VM-exit interruption error code"),
    IDT_VECTORING_INFO_FIELD(0x4408, "IDT-vectoring information field"),
    IDT_VECTORING_ERROR_CODE(0x440a, "IDT-vectoring error code"),
    VM_EXIT_INSTRUCTION_LEN(0x440c, "VM-exit instruction length"),
    VMX_INSTRUCTION_INFO(0x440e, "VM-exit instruction information"),
    GUEST_ES_LIMIT(0x4800, "guest ES limit"),
    GUEST_CS_LIMIT(0x4802, "guest CS limit"),
    GUEST_SS_LIMIT(0x4804, "guest SS limit"),
    GUEST_DS_LIMIT(0x4806, "guest DS limit"),
    GUEST_FS_LIMIT(0x4808, "guest FS limit"),
    GUEST_GS_LIMIT(0x480a, "guest GS limit"),
    GUEST_LDTR_LIMIT(0x480c, "guest LDTR limit"),
    GUEST_TR_LIMIT(0x480e, "guest TR limit"),
    GUEST_GDTR_LIMIT(0x4810, "guest GDTR limit"),
    GUEST_IDTR_LIMIT(0x4812, "guest IDTR limit"),
    GUEST_ES_AR_BYTES(0x4814, "guest ES access rights"),
    GUEST_CS_AR_BYTES(0x4816, "guest CS access rights"),
    GUEST_SS_AR_BYTES(0x4818, "guest SS access rights"),
    GUEST_DS_AR_BYTES(0x481a, "guest DS access rights"),
    GUEST_FS_AR_BYTES(0x481c, "guest FS access rights"),
    GUEST_GS_AR_BYTES(0x481e, "guest GS access rights"),
    GUEST_LDTR_AR_BYTES(0x4820, "guest LDTR access rights"),
    GUEST_TR_AR_BYTES(0x4822, "guest TR access rights"),
    GUEST_INTERRUPTIBILITY_INFO(0x4824, "guest interruptibility state"),
    GUEST_ACTIVITY_STATE(0x4826, "guest activity state"),
    GUEST_SMBASE(0x4828, "guest SMBASE"),
    GUEST_SYSENTER_CS(0x482a, "guest IA32_SYSENTER_CS"),
    VMX_PREEMPTION_TIMER_VALUE(0x482e, "VMX-preemption timer value", ACTIVATE_VMX_PREEMPTION_TIMER),
    HOST_IA32_SYSENTER_CS(0x4c00, "host IA32_SYSENTER_CS"),
    CR0_GUEST_HOST_MASK(0x6000, "CR0 guest/host mask"),
    CR4_GUEST_HOST_MASK(0x6002, "CR4 guest/host mask"),
    CR0_READ_SHADOW(0x6004, "CR0 read shadow"),
    CR4_READ_SHADOW(0x6006, "CR4 read shadow"),
    CR3_TARGET_VALUE0(0x6008, "CR3-target value 0"),
    CR3_TARGET_VALUE1(0x600a, "CR3-target value 1"),
    CR3_TARGET_VALUE2(0x600c, "CR3-target value 2"),
    CR3_TARGET_VALUE3(0x600e, "CR3-target value 3"),
    EXIT_QUALIFICATION(0x6400, "exit qualification"),
    IO_RCX(0x6402, "I/O RCX"),
    IO_RSI(0x6404, "I/O RSI"),
    IO_RDI(0x6406, "I/O RDI"),
    IO_RIP(0x6408, "I/O RIP"),
    GUEST_LINEAR_ADDRESS(0x640a, "guest-linear address"),
    GUEST_CR0(0x6800, "guest CR0"),
    GUEST_CR3(0x6802, "guest CR3"),
    GUEST_CR4(0x6804, "guest CR4"),
    GUEST_ES_BASE(0x6806, "guest ES base"),
    GUEST_CS_BASE(0x6808, "guest CS base"),
    GUEST_SS_BASE(0x680a, "guest SS base"),
    GUEST_DS_BASE(0x680c, "guest DS base"),
    GUEST_FS_BASE(0x680e, "guest FS base"),
    GUEST_GS_BASE(0x6810, "guest GS base"),
    GUEST_LDTR_BASE(0x6812, "guest LDTR base"),
    GUEST_TR_BASE(0x6814, "guest TR base"),
    GUEST_GDTR_BASE(0x6816, "guest GDTR base"),
    GUEST_IDTR_BASE(0x6818, "guest IDTR base"),
    GUEST_DR7(0x681a, "guest DR7"),
    GUEST_RSP(0x681c, "guest RSP"),
    GUEST_RIP(0x681e, "guest RIP"),
    GUEST_RFLAGS(0x6820, "guest RFLAGS"),
    GUEST_PENDING_DBG_EXCEPTIONS(0x6822, "guest pending debug exceptions"),
    GUEST_SYSENTER_ESP(0x6824, "guest IA32_SYSENTER_ESP"),
    GUEST_SYSENTER_EIP(0x6826, "guest IA32_SYSENTER_EIP"),
    GUEST_S_CET(0x6828, "guest IA32_S_CET", EntryControl.LOAD_CET_STATE),
    GUEST_SSP(0x682a, "guest SSP", EntryControl.LOAD_CET_STATE),
    GUEST_INTR_SSP_TABLE(0x682c, "guest IA32_INTERRUPT_SSP_TABLE_ADDR", EntryControl.LOAD_CET_STATE),
    HOST_CR0(0x6c00, "host CR0"),
    HOST_CR3(0x6c02, "host CR3"),
    HOST_CR4(0x6c04, "host CR4"),
    HOST_FS_BASE(0x6c06, "host FS base"),
    HOST_GS_BASE(0x6c08, "host GS base"),
    HOST_TR_BASE(0x6c0a, "host TR base"),
    HOST_GDTR_BASE(0x6c0c, "host GDTR base"),
    HOST_IDTR_BASE(0x6c0e, "host IDTR base"),
    HOST_IA32_SYSENTER_ESP(0x6c10, "host IA32_SYSENTER_ESP"),
    HOST_IA32_SYSENTER_EIP(0x6c12, "host IA32_SYSENTER_EIP"),
    HOST_RSP(0x6c14, "host RSP"),
    HOST_RIP(0x6c16, "host RIP"),
    HOST_S_CET(0x6c18, "host IA32_S_CET", ExitControl.LOAD_CET_STATE),
    HOST_SSP(0x6c1a, "host SSP", ExitControl.LOAD_CET_STATE),
    HOST_INTR_SSP_TABLE(0x6c1c, "host IA32_INTERRUPT_SSP_TABLE_ADDR", ExitControl.LOAD_CET_STATE),
    ;

    /** Number of fields (one storage slot each). */
    public static final int COUNT = values().length;

    /** Fields by encoding bits 14:1 (bit 0 is the access type); VMREAD/VMWRITE look up here without boxing. */
    private static final VmcsField[] BY_ENCODING = new VmcsField[0x4000];
    static {
        for (VmcsField f : values()) {
            if (BY_ENCODING[f.encoding >>> 1] != null) throw new ExceptionInInitializerError("duplicate " + f);
            BY_ENCODING[f.encoding >>> 1] = f;
        }
    }

    private static final VmcsField[] ALL = values();

    /** The field in declaration order (its storage slot) {@code ordinal}, without copying values(). */
    public static VmcsField ofOrdinal(int ordinal) {
        return ALL[ordinal];
    }

    /** The full-access encoding (bit 0 clear). */
    public final int encoding;
    /** The SDM's name of the field (Appendix B). */
    public final String description;
    public final FieldWidth width;
    public final FieldType type;
    private final java.util.List<ControlBit> requiredControls;
    /** {@link FieldWidth#mask()} of this field, kept here because every VMCS write applies it. */
    private final long mask;

    VmcsField(int encoding, String description, ControlBit... requiredControls) {
        this.encoding = encoding;
        this.description = description;
        this.width = FieldWidth.ofEncoding(encoding);
        this.type = FieldType.ofEncoding(encoding);
        this.requiredControls = java.util.List.of(requiredControls);
        this.mask = width.mask();
    }

    /** Index (bits 9:1 of the encoding), SDM 25.11.2; IA32_VMX_VMCS_ENUM reports the highest. */
    public int index() {
        return (encoding >>> 1) & 0x1FF;
    }

    /** The encoding of the "high" access (bits 63:32) of a 64-bit field, or -1 for other widths. */
    public int highEncoding() {
        return width == FieldWidth.BITS_64 ? encoding | 1 : -1;
    }

    /** True for the VM-exit information fields, which VMWRITE may not write (error 13) here. */
    public boolean isReadOnly() {
        return type == FieldType.READ_ONLY_DATA;
    }

    /**
     * The controls whose 1-setting must be supported for this field to exist (any one of them
     * suffices); empty when the field always exists (SDM Appendix B footnotes).
     */
    public java.util.List<ControlBit> requiredControls() {
        return requiredControls; // built once: VMREAD/VMWRITE ask on every access
    }

    /** Bits the field can hold on this processor. */
    public long mask() {
        return mask;
    }

    /**
     * The field named by a VMREAD/VMWRITE encoding: the full encoding of any field or the high
     * encoding of a 64-bit field. Null when no field has that encoding (bits 31:15 set, an odd
     * encoding of a non-64-bit field, or an unassigned index).
     */
    public static VmcsField forEncoding(long encoding) {
        if ((encoding & ~0x7FFFL) != 0) return null;
        int e = (int) encoding;
        VmcsField f = BY_ENCODING[e >>> 1];
        if (f == null) return null;
        if ((e & 1) != 0 && f.width != FieldWidth.BITS_64) return null;
        return f;
    }

    /** True when {@code encoding} names the high half of a 64-bit field (bit 0 set). */
    public static boolean isHighAccess(long encoding) {
        return (encoding & 1) != 0;
    }

    /** Access type, bit 0 of an encoding (SDM 25.11.2, Table 25-21). */
    public enum Access {
        /** All bits of the field. */
        FULL,
        /** Bits 63:32 of a 64-bit field. */
        HIGH;

        public static Access ofEncoding(long encoding) {
            return (encoding & 1) != 0 ? HIGH : FULL;
        }
    }
}
