package lhv.vmx.transition;

import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The VMCS slots (field ordinals) VM entry and exit read and write on every transition, as
 * {@code static final int}s: the JIT compiles {@code vmcs.slot(Slots.GUEST_RIP)} to one array load,
 * where {@code vmcs.read(VmcsField.GUEST_RIP)} first loads the enum constant's ordinal. The segment
 * groups are the ES slot of a run of eight (ES, CS, SS, DS, FS, GS, LDTR, TR; their encodings step by
 * 2, SDM Appendix B, and the fields are declared in that order — checked when this class loads).
 *
 * <p>Context: constants for {@link VmEntry} and {@link VmExit}.
 */
final class Slots {
    private Slots() { }

    static final int GUEST_CR0 = VmcsField.GUEST_CR0.ordinal(), GUEST_CR3 = VmcsField.GUEST_CR3.ordinal(),
            GUEST_CR4 = VmcsField.GUEST_CR4.ordinal(), GUEST_DR7 = VmcsField.GUEST_DR7.ordinal(),
            GUEST_DEBUGCTL = GUEST_IA32_DEBUGCTL.ordinal(), GUEST_SYSENTER_CS = VmcsField.GUEST_SYSENTER_CS.ordinal(),
            GUEST_SYSENTER_ESP = VmcsField.GUEST_SYSENTER_ESP.ordinal(), GUEST_SYSENTER_EIP = VmcsField.GUEST_SYSENTER_EIP.ordinal(),
            GUEST_PAT = GUEST_IA32_PAT.ordinal(), GUEST_EFER = GUEST_IA32_EFER.ordinal(),
            GUEST_SELECTOR = GUEST_ES_SELECTOR.ordinal(), GUEST_BASE = GUEST_ES_BASE.ordinal(),
            GUEST_LIMIT = GUEST_ES_LIMIT.ordinal(), GUEST_AR = GUEST_ES_AR_BYTES.ordinal(),
            GUEST_GDTR_BASE = VmcsField.GUEST_GDTR_BASE.ordinal(), GUEST_GDTR_LIMIT = VmcsField.GUEST_GDTR_LIMIT.ordinal(),
            GUEST_IDTR_BASE = VmcsField.GUEST_IDTR_BASE.ordinal(), GUEST_IDTR_LIMIT = VmcsField.GUEST_IDTR_LIMIT.ordinal(),
            GUEST_RIP = VmcsField.GUEST_RIP.ordinal(), GUEST_RSP = VmcsField.GUEST_RSP.ordinal(),
            GUEST_RFLAGS = VmcsField.GUEST_RFLAGS.ordinal(), GUEST_INTERRUPTIBILITY = GUEST_INTERRUPTIBILITY_INFO.ordinal(),
            GUEST_ACTIVITY = GUEST_ACTIVITY_STATE.ordinal(), GUEST_PENDING_DBG = GUEST_PENDING_DBG_EXCEPTIONS.ordinal();

    static final int HOST_CR0 = VmcsField.HOST_CR0.ordinal(), HOST_CR3 = VmcsField.HOST_CR3.ordinal(),
            HOST_CR4 = VmcsField.HOST_CR4.ordinal(), HOST_SYSENTER_CS = HOST_IA32_SYSENTER_CS.ordinal(),
            HOST_SYSENTER_ESP = HOST_IA32_SYSENTER_ESP.ordinal(), HOST_SYSENTER_EIP = HOST_IA32_SYSENTER_EIP.ordinal(),
            HOST_CS = HOST_CS_SELECTOR.ordinal(), HOST_SS = HOST_SS_SELECTOR.ordinal(), HOST_DS = HOST_DS_SELECTOR.ordinal(),
            HOST_ES = HOST_ES_SELECTOR.ordinal(), HOST_FS = HOST_FS_SELECTOR.ordinal(), HOST_GS = HOST_GS_SELECTOR.ordinal(),
            HOST_TR = HOST_TR_SELECTOR.ordinal(), HOST_FS_BASE = VmcsField.HOST_FS_BASE.ordinal(),
            HOST_GS_BASE = VmcsField.HOST_GS_BASE.ordinal(), HOST_TR_BASE = VmcsField.HOST_TR_BASE.ordinal(),
            HOST_GDTR_BASE = VmcsField.HOST_GDTR_BASE.ordinal(), HOST_IDTR_BASE = VmcsField.HOST_IDTR_BASE.ordinal(),
            HOST_RIP = VmcsField.HOST_RIP.ordinal(), HOST_RSP = VmcsField.HOST_RSP.ordinal();

    static final int EXIT_CONTROLS = VM_EXIT_CONTROLS.ordinal(), ENTRY_CONTROLS = VM_ENTRY_CONTROLS.ordinal();

    /** The exit-information fields a VM exit records (SDM 28.2). */
    static final int EXIT_REASON = VM_EXIT_REASON.ordinal(), EXIT_QUALIFICATION = VmcsField.EXIT_QUALIFICATION.ordinal(),
            EXIT_INTR_INFO = VM_EXIT_INTR_INFO.ordinal(), EXIT_INTR_ERROR_CODE = VM_EXIT_INTR_ERROR_CODE.ordinal(),
            IDT_VECTORING_INFO = IDT_VECTORING_INFO_FIELD.ordinal(), IDT_VECTORING_ERROR_CODE = VmcsField.IDT_VECTORING_ERROR_CODE.ordinal(),
            EXIT_INSTRUCTION_LEN = VM_EXIT_INSTRUCTION_LEN.ordinal(), EXIT_INSTRUCTION_INFO = VMX_INSTRUCTION_INFO.ordinal(),
            EXIT_GUEST_LINEAR = GUEST_LINEAR_ADDRESS.ordinal();

    static {
        VmcsField[][] runs = {VmExit.GUEST_SELECTOR, VmExit.GUEST_BASE, VmExit.GUEST_LIMIT, VmExit.GUEST_AR};
        for (VmcsField[] run : runs) {
            for (int s = 0; s < 8; s++) {
                if (run[s].ordinal() != run[0].ordinal() + s) throw new ExceptionInInitializerError("segment fields out of order: " + run[s]);
            }
        }
    }
}
