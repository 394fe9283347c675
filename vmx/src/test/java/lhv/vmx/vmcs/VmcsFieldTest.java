package lhv.vmx.vmcs;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class VmcsFieldTest {

    /** Encodings as published in Linux arch/x86/include/asm/vmx.h (enum vmcs_field) and SDM Appendix B. */
    @ParameterizedTest
    @CsvSource({
            "VIRTUAL_PROCESSOR_ID, 0x0000", "POSTED_INTR_NV, 0x0002", "LAST_PID_POINTER_INDEX, 0x0008",
            "GUEST_ES_SELECTOR, 0x0800", "GUEST_TR_SELECTOR, 0x080e", "GUEST_INTR_STATUS, 0x0810",
            "GUEST_PML_INDEX, 0x0812", "HOST_ES_SELECTOR, 0x0c00", "HOST_TR_SELECTOR, 0x0c0c",
            "IO_BITMAP_A, 0x2000", "IO_BITMAP_B, 0x2002", "MSR_BITMAP, 0x2004", "VM_EXIT_MSR_STORE_ADDR, 0x2006",
            "VM_EXIT_MSR_LOAD_ADDR, 0x2008", "VM_ENTRY_MSR_LOAD_ADDR, 0x200a", "PML_ADDRESS, 0x200e",
            "TSC_OFFSET, 0x2010", "VIRTUAL_APIC_PAGE_ADDR, 0x2012", "APIC_ACCESS_ADDR, 0x2014",
            "POSTED_INTR_DESC_ADDR, 0x2016", "VM_FUNCTION_CONTROL, 0x2018", "EPT_POINTER, 0x201a",
            "EOI_EXIT_BITMAP3, 0x2022", "EPTP_LIST_ADDRESS, 0x2024", "VMREAD_BITMAP, 0x2026", "VMWRITE_BITMAP, 0x2028",
            "VE_INFORMATION_ADDRESS, 0x202a", "XSS_EXIT_BITMAP, 0x202c", "ENCLS_EXITING_BITMAP, 0x202e",
            "TSC_MULTIPLIER, 0x2032", "TERTIARY_VM_EXEC_CONTROL, 0x2034", "ENCLV_EXITING_BITMAP, 0x2036",
            "PID_POINTER_TABLE, 0x2042", "SECONDARY_VM_EXIT_CONTROLS, 0x2044", "INJECTED_EVENT_DATA, 0x2052", "IA32_SPEC_CTRL_MASK, 0x204a", "IA32_SPEC_CTRL_SHADOW, 0x204c",
            "ORIGINAL_EVENT_DATA, 0x2404", "GUEST_IA32_FRED_CONFIG, 0x281a", "GUEST_IA32_FRED_SSP3, 0x2828",
            "HOST_IA32_FRED_CONFIG, 0x2c08", "HOST_IA32_FRED_SSP3, 0x2c16", "GUEST_PHYSICAL_ADDRESS, 0x2400", "VMCS_LINK_POINTER, 0x2800",
            "GUEST_IA32_DEBUGCTL, 0x2802", "GUEST_IA32_PAT, 0x2804", "GUEST_IA32_EFER, 0x2806",
            "GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808", "GUEST_PDPTR0, 0x280a", "GUEST_PDPTR3, 0x2810",
            "GUEST_BNDCFGS, 0x2812", "GUEST_IA32_RTIT_CTL, 0x2814", "HOST_IA32_PAT, 0x2c00", "HOST_IA32_EFER, 0x2c02",
            "HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04", "PIN_BASED_VM_EXEC_CONTROL, 0x4000", "CPU_BASED_VM_EXEC_CONTROL, 0x4002",
            "EXCEPTION_BITMAP, 0x4004", "PAGE_FAULT_ERROR_CODE_MASK, 0x4006", "PAGE_FAULT_ERROR_CODE_MATCH, 0x4008",
            "CR3_TARGET_COUNT, 0x400a", "VM_EXIT_CONTROLS, 0x400c", "VM_EXIT_MSR_STORE_COUNT, 0x400e",
            "VM_EXIT_MSR_LOAD_COUNT, 0x4010", "VM_ENTRY_CONTROLS, 0x4012", "VM_ENTRY_MSR_LOAD_COUNT, 0x4014",
            "VM_ENTRY_INTR_INFO_FIELD, 0x4016", "VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018", "VM_ENTRY_INSTRUCTION_LEN, 0x401a",
            "TPR_THRESHOLD, 0x401c", "SECONDARY_VM_EXEC_CONTROL, 0x401e", "PLE_GAP, 0x4020", "PLE_WINDOW, 0x4022",
            "NOTIFY_WINDOW, 0x4024", "VM_INSTRUCTION_ERROR, 0x4400", "VM_EXIT_REASON, 0x4402", "VM_EXIT_INTR_INFO, 0x4404",
            "VM_EXIT_INTR_ERROR_CODE, 0x4406", "IDT_VECTORING_INFO_FIELD, 0x4408", "IDT_VECTORING_ERROR_CODE, 0x440a",
            "VM_EXIT_INSTRUCTION_LEN, 0x440c", "VMX_INSTRUCTION_INFO, 0x440e", "GUEST_ES_LIMIT, 0x4800",
            "GUEST_IDTR_LIMIT, 0x4812", "GUEST_ES_AR_BYTES, 0x4814", "GUEST_CS_AR_BYTES, 0x4816", "GUEST_TR_AR_BYTES, 0x4822",
            "GUEST_INTERRUPTIBILITY_INFO, 0x4824", "GUEST_ACTIVITY_STATE, 0x4826", "GUEST_SYSENTER_CS, 0x482a",
            "VMX_PREEMPTION_TIMER_VALUE, 0x482e", "HOST_IA32_SYSENTER_CS, 0x4c00", "CR0_GUEST_HOST_MASK, 0x6000",
            "CR4_GUEST_HOST_MASK, 0x6002", "CR0_READ_SHADOW, 0x6004", "CR4_READ_SHADOW, 0x6006",
            "CR3_TARGET_VALUE0, 0x6008", "CR3_TARGET_VALUE3, 0x600e", "EXIT_QUALIFICATION, 0x6400",
            "GUEST_LINEAR_ADDRESS, 0x640a", "GUEST_CR0, 0x6800", "GUEST_CR3, 0x6802", "GUEST_CR4, 0x6804",
            "GUEST_ES_BASE, 0x6806", "GUEST_IDTR_BASE, 0x6818", "GUEST_DR7, 0x681a", "GUEST_RSP, 0x681c",
            "GUEST_RIP, 0x681e", "GUEST_RFLAGS, 0x6820", "GUEST_PENDING_DBG_EXCEPTIONS, 0x6822",
            "GUEST_SYSENTER_ESP, 0x6824", "GUEST_SYSENTER_EIP, 0x6826", "HOST_CR0, 0x6c00", "HOST_CR3, 0x6c02",
            "HOST_CR4, 0x6c04", "HOST_FS_BASE, 0x6c06", "HOST_GS_BASE, 0x6c08", "HOST_TR_BASE, 0x6c0a",
            "HOST_GDTR_BASE, 0x6c0c", "HOST_IDTR_BASE, 0x6c0e", "HOST_IA32_SYSENTER_ESP, 0x6c10",
            "HOST_IA32_SYSENTER_EIP, 0x6c12", "HOST_RSP, 0x6c14", "HOST_RIP, 0x6c16"})
    void encodingMatchesPublishedValue(String name, String hex) {
        assertEquals(Integer.decode(hex), VmcsField.valueOf(name).encoding);
    }

    @Test
    void encodingsAreUniqueAndWellFormed() {
        Set<Integer> seen = new HashSet<>();
        for (VmcsField f : VmcsField.values()) {
            assertTrue(seen.add(f.encoding), "duplicate " + f);
            assertEquals(0, f.encoding & 1, f + ": full access is even (SDM 25.11.2)");
            assertEquals(0, f.encoding & 0x1000, f + ": bit 12 is reserved");
            assertEquals(0, f.encoding & ~0x7FFF, f + ": bits 31:15 are reserved");
        }
    }

    @ParameterizedTest
    @EnumSource(VmcsField.class)
    void widthAndTypeFollowNamingConvention(VmcsField f) {
        String n = f.name();
        if (n.endsWith("_SELECTOR") || n.equals("VIRTUAL_PROCESSOR_ID")) assertEquals(FieldWidth.BITS_16, f.width, n);
        if (n.endsWith("_LIMIT") || n.endsWith("_AR_BYTES")) assertEquals(FieldWidth.BITS_32, f.width, n);
        if (n.endsWith("_BASE") && !n.contains("PASID")) assertEquals(FieldWidth.NATURAL, f.width, n);
        if (n.startsWith("HOST_")) assertEquals(FieldType.HOST_STATE, f.type, n);
        if (n.startsWith("GUEST_") && !n.equals("GUEST_PHYSICAL_ADDRESS") && !n.equals("GUEST_LINEAR_ADDRESS")) {
            assertEquals(FieldType.GUEST_STATE, f.type, n);
        }
        assertEquals(f.encoding >>> 13 & 3, f.width.ordinal());
        assertEquals(f.encoding >>> 10 & 3, f.type.ordinal());
    }

    @Test
    void readOnlyFieldsAreTheExitInformationFields() {
        Set<VmcsField> ro = new HashSet<>();
        for (VmcsField f : VmcsField.values()) if (f.isReadOnly()) ro.add(f);
        assertEquals(Set.of(VmcsField.GUEST_PHYSICAL_ADDRESS, VmcsField.VM_INSTRUCTION_ERROR, VmcsField.VM_EXIT_REASON,
                VmcsField.VM_EXIT_INTR_INFO, VmcsField.VM_EXIT_INTR_ERROR_CODE, VmcsField.IDT_VECTORING_INFO_FIELD,
                VmcsField.IDT_VECTORING_ERROR_CODE, VmcsField.VM_EXIT_INSTRUCTION_LEN, VmcsField.VMX_INSTRUCTION_INFO,
                VmcsField.EXIT_QUALIFICATION, VmcsField.IO_RCX, VmcsField.IO_RSI, VmcsField.IO_RDI, VmcsField.IO_RIP,
                VmcsField.GUEST_LINEAR_ADDRESS, VmcsField.ORIGINAL_EVENT_DATA), ro);
    }

    @Test
    void highAccessResolvesOnlyFor64BitFields() {
        assertEquals(VmcsField.IO_BITMAP_A, VmcsField.forEncoding(0x2001));
        assertTrue(VmcsField.isHighAccess(0x2001));
        assertEquals(0x2001, VmcsField.IO_BITMAP_A.highEncoding());
        assertEquals(VmcsField.VMCS_LINK_POINTER, VmcsField.forEncoding(0x2801));
        assertNull(VmcsField.forEncoding(0x4003), "32-bit field has no high access");
        assertNull(VmcsField.forEncoding(0x6801), "natural-width field has no high access");
        assertNull(VmcsField.forEncoding(0x0801), "16-bit field has no high access");
        assertEquals(-1, VmcsField.GUEST_RIP.highEncoding());
        assertNull(VmcsField.forEncoding(0x1_4002L), "bits 63:15 must be 0");
        assertNull(VmcsField.forEncoding(0x4030), "unassigned index");
        assertEquals(VmcsField.GUEST_RIP, VmcsField.forEncoding(0x681e));
        assertEquals(VmcsField.Access.HIGH, VmcsField.Access.ofEncoding(0x2001));
        assertEquals(VmcsField.Access.FULL, VmcsField.Access.ofEncoding(0x2000));
    }

    @Test
    void widthMasks() {
        assertEquals(0xFFFFL, VmcsField.GUEST_CS_SELECTOR.mask());
        assertEquals(0xFFFF_FFFFL, VmcsField.GUEST_CS_LIMIT.mask());
        assertEquals(-1L, VmcsField.GUEST_RIP.mask());
        assertEquals(-1L, VmcsField.TSC_OFFSET.mask());
        assertEquals(23, VmcsField.VMX_PREEMPTION_TIMER_VALUE.index());
    }
}
