package lhv.vmx.vmcs;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The guest-state and host-state fields that VM entry and exit move as groups, each group matching
 * one change counter of the processor (lhv.cpu.Cpu and lhv.cpu.Segment): the control registers
 * and EFER, the MSRs PAT, DEBUGCTL and SYSENTER_CS/ESP/EIP, the descriptor-table registers, and one
 * group per segment register ES, CS, SS, DS, FS, GS, LDTR, TR. {@link Vmcs} counts the value changes
 * of each group's fields per watcher as change masks ({@link Vmcs#changedGroups}), so that VM
 * entry and exit can tell that neither side of a group moved since they last synchronized it
 * (lhv.vmx.transition).
 *
 * <p>Group numbers: {@link #guest}(g) and {@link #host}(g) for g in 0..{@link #COUNT}-1; 0 is "no
 * group". Context: constants for the VMCS cache and VM entry/exit.
 */
public final class StateGroups {
    private StateGroups() { }

    /** Processor-side groups: CR0/CR3/CR4/EFER, PAT/DEBUGCTL/SYSENTER MSRs, GDTR/IDTR, then segment s at SEGMENTS + s. */
    public static final int CONTROL = lhv.cpu.Cpu.STATE_CONTROL, MSR = lhv.cpu.Cpu.STATE_MSR, TABLES = lhv.cpu.Cpu.STATE_TABLES,
            SEGMENTS = lhv.cpu.Cpu.STATE_SEGMENTS, COUNT = lhv.cpu.Cpu.STATE_GROUPS;
    /** Number of VMCS-side group numbers including 0 (none): bits of the 64-bit change masks. */
    private static final int VMCS_GROUPS = 1 + 2 * COUNT;

    public static int guest(int group) {
        return 1 + group;
    }

    public static int host(int group) {
        return 1 + COUNT + group;
    }

    /** Per field ordinal: its VMCS-side group number, or 0. */
    static final byte[] OF_FIELD = new byte[VmcsField.COUNT];

    static {
        if (VMCS_GROUPS > 64) throw new ExceptionInInitializerError("VMCS-side groups do not fit a 64-bit mask");
        put(guest(CONTROL), GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_IA32_EFER);
        put(guest(MSR), GUEST_IA32_PAT, GUEST_IA32_DEBUGCTL, GUEST_SYSENTER_CS, GUEST_SYSENTER_ESP, GUEST_SYSENTER_EIP);
        put(guest(TABLES), GUEST_GDTR_BASE, GUEST_GDTR_LIMIT, GUEST_IDTR_BASE, GUEST_IDTR_LIMIT);
        put(host(CONTROL), HOST_CR0, HOST_CR3, HOST_CR4, HOST_IA32_EFER);
        put(host(MSR), HOST_IA32_PAT, HOST_IA32_SYSENTER_CS, HOST_IA32_SYSENTER_ESP, HOST_IA32_SYSENTER_EIP);
        put(host(TABLES), HOST_GDTR_BASE, HOST_IDTR_BASE);
        // guest segments ES..TR: selector, base, limit, access rights; encodings step by 2 (SDM Appendix B)
        for (int s = 0; s < 8; s++) {
            put(guest(SEGMENTS + s), forEncoding(GUEST_ES_SELECTOR.encoding + 2 * s), forEncoding(GUEST_ES_BASE.encoding + 2 * s),
                    forEncoding(GUEST_ES_LIMIT.encoding + 2 * s), forEncoding(GUEST_ES_AR_BYTES.encoding + 2 * s));
        }
        // host segments: selectors of ES..GS and TR, bases of FS, GS and TR (LDTR has no host fields)
        for (int s = 0; s < 6; s++) put(host(SEGMENTS + s), forEncoding(HOST_ES_SELECTOR.encoding + 2 * s));
        put(host(SEGMENTS + 4), HOST_FS_BASE);
        put(host(SEGMENTS + 5), HOST_GS_BASE);
        put(host(SEGMENTS + 7), HOST_TR_SELECTOR, HOST_TR_BASE);
    }

    private static void put(int group, VmcsField... fields) {
        for (VmcsField f : fields) {
            if (OF_FIELD[f.ordinal()] != 0) throw new ExceptionInInitializerError(f + " in two groups");
            OF_FIELD[f.ordinal()] = (byte) group;
        }
    }
}
