package lhv.vmx.controls;

/**
 * The secondary processor-based VM-execution controls (SDM Vol. 3C 25.6.2, Table 25-7), in effect only when the primary control "activate secondary controls" is 1.
 *
 * <p>Context: static specification data; each constant is one bit of the word (SDM Vol. 3C 25.6.2).
 */
public enum SecondaryProcessorControl implements ControlBit {
    VIRTUALIZE_APIC_ACCESSES(0, "virtualize APIC accesses"),
    ENABLE_EPT(1, "enable EPT"),
    DESCRIPTOR_TABLE_EXITING(2, "descriptor-table exiting"),
    ENABLE_RDTSCP(3, "enable RDTSCP"),
    VIRTUALIZE_X2APIC_MODE(4, "virtualize x2APIC mode"),
    ENABLE_VPID(5, "enable VPID"),
    WBINVD_EXITING(6, "WBINVD exiting"),
    UNRESTRICTED_GUEST(7, "unrestricted guest"),
    APIC_REGISTER_VIRTUALIZATION(8, "APIC-register virtualization"),
    VIRTUAL_INTERRUPT_DELIVERY(9, "virtual-interrupt delivery"),
    PAUSE_LOOP_EXITING(10, "PAUSE-loop exiting"),
    RDRAND_EXITING(11, "RDRAND exiting"),
    ENABLE_INVPCID(12, "enable INVPCID"),
    ENABLE_VM_FUNCTIONS(13, "enable VM functions"),
    VMCS_SHADOWING(14, "VMCS shadowing"),
    ENABLE_ENCLS_EXITING(15, "enable ENCLS exiting"),
    RDSEED_EXITING(16, "RDSEED exiting"),
    ENABLE_PML(17, "enable PML"),
    EPT_VIOLATION_VE(18, "EPT-violation #VE"),
    CONCEAL_VMX_FROM_PT(19, "conceal VMX from PT"),
    ENABLE_XSAVES_XRSTORS(20, "enable XSAVES/XRSTORS"),
    PASID_TRANSLATION(21, "PASID translation"),
    MODE_BASED_EXECUTE_CONTROL_FOR_EPT(22, "mode-based execute control for EPT"),
    SUB_PAGE_WRITE_PERMISSIONS_FOR_EPT(23, "sub-page write permissions for EPT"),
    INTEL_PT_USES_GUEST_PHYSICAL_ADDRESSES(24, "Intel PT uses guest physical addresses"),
    USE_TSC_SCALING(25, "use TSC scaling"),
    ENABLE_USER_WAIT_AND_PAUSE(26, "enable user wait and pause"),
    ENABLE_PCONFIG(27, "enable PCONFIG"),
    ENABLE_ENCLV_EXITING(28, "enable ENCLV exiting"),
    VMM_BUS_LOCK_DETECTION(30, "VMM bus-lock detection"),
    INSTRUCTION_TIMEOUT(31, "instruction timeout");

    private final int bit;
    private final String sdmName;

    SecondaryProcessorControl(int bit, String sdmName) {
        this.bit = bit;
        this.sdmName = sdmName;
    }

    @Override public int bit() { return bit; }
    @Override public String sdmName() { return sdmName; }
    @Override public String section() { return "25.6.2"; }
    @Override public ControlWord word() { return ControlWord.SECONDARY_PROCESSOR_BASED; }
}
