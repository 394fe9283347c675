package lhv.vmx.entry;

import static lhv.vmx.vmcs.VmcsField.*;

import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsSnapshot;

/**
 * Reading the VMCS snapshot in the terms the SDM's VM-entry rules use ("the guest will be IA-32e
 * mode", "the register is usable", ...), and formatting values for failure messages.
 *
 * <p>Context: static functions used by the VM-entry checks.
 */
final class Fields {
    private Fields() { }

    static int pin(VmcsSnapshot s) { return s.getInt(PIN_BASED_VM_EXEC_CONTROL); }
    static int proc(VmcsSnapshot s) { return s.getInt(CPU_BASED_VM_EXEC_CONTROL); }

    /** Secondary controls in effect: 0 when "activate secondary controls" is 0 (SDM 25.6.2). */
    static int proc2(VmcsSnapshot s) {
        return PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.isSet(proc(s)) ? s.getInt(SECONDARY_VM_EXEC_CONTROL) : 0;
    }

    static int exitControls(VmcsSnapshot s) { return s.getInt(VM_EXIT_CONTROLS); }
    static int entryControls(VmcsSnapshot s) { return s.getInt(VM_ENTRY_CONTROLS); }

    static boolean on(VmcsSnapshot s, ControlBit b) {
        int word = switch (b.word()) {
            case PIN_BASED -> pin(s);
            case PRIMARY_PROCESSOR_BASED -> proc(s);
            case SECONDARY_PROCESSOR_BASED -> proc2(s);
            case EXIT -> exitControls(s);
            case ENTRY -> entryControls(s);
        };
        return b.isSet(word);
    }

    /** "The guest will be IA-32e mode": the "IA-32e mode guest" VM-entry control is 1. */
    static boolean ia32eGuest(VmcsSnapshot s) { return on(s, EntryControl.IA32E_MODE_GUEST); }

    /** "The guest will be virtual-8086": RFLAGS.VM (bit 17) is 1 in the guest-state area. */
    static boolean v8086(VmcsSnapshot s) { return (s.get(GUEST_RFLAGS) & (1L << 17)) != 0; }

    static boolean canonical(long a) {
        return ((a << 16) >> 16) == a;
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** VM-entry interruption-information field decoded (SDM 25.8.3, Table 25-17). */
    static int intrInfo(VmcsSnapshot s) { return s.getInt(VM_ENTRY_INTR_INFO_FIELD); }
    static boolean injecting(VmcsSnapshot s) { return intrInfo(s) < 0; }
    static int injectType(VmcsSnapshot s) { return (intrInfo(s) >>> 8) & 7; }
    static int injectVector(VmcsSnapshot s) { return intrInfo(s) & 0xFF; }
    static boolean injectDeliversErrorCode(VmcsSnapshot s) { return (intrInfo(s) & (1 << 11)) != 0; }

    static final int TYPE_EXTERNAL_INTERRUPT = 0, TYPE_NMI = 2, TYPE_HARDWARE_EXCEPTION = 3,
            TYPE_SOFTWARE_INTERRUPT = 4, TYPE_PRIVILEGED_SOFTWARE_EXCEPTION = 5, TYPE_SOFTWARE_EXCEPTION = 6,
            TYPE_OTHER_EVENT = 7;

    static boolean injectingType(VmcsSnapshot s, int type) {
        return injecting(s) && injectType(s) == type;
    }

    static int interruptibility(VmcsSnapshot s) { return s.getInt(GUEST_INTERRUPTIBILITY_INFO); }

    static final int BLOCKING_BY_STI = 1, BLOCKING_BY_MOV_SS = 2, BLOCKING_BY_SMI = 4, BLOCKING_BY_NMI = 8;

    static final int ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_FOR_SIPI = 3;

    /** True when each of the eight bytes of a PAT value is a valid memory type (0, 1, 4, 5, 6, 7; SDM 27.2.2). */
    static boolean validPat(long pat) {
        for (int i = 0; i < 8; i++) {
            int t = (int) (pat >>> (8 * i)) & 0xFF;
            if (t == 2 || t == 3 || t > 7) return false;
        }
        return true;
    }

    /** The index of the first invalid PAT entry (for messages). */
    static int firstInvalidPatEntry(long pat) {
        for (int i = 0; i < 8; i++) {
            int t = (int) (pat >>> (8 * i)) & 0xFF;
            if (t == 2 || t == 3 || t > 7) return i;
        }
        return -1;
    }

    /** IA32_EFER bits defined on this processor: SCE, LME, LMA, NXE (SDM Vol. 3A 2.2.1). */
    static final long EFER_DEFINED = 1L | (1L << 8) | (1L << 10) | (1L << 11);
    static final long EFER_LME = 1L << 8, EFER_LMA = 1L << 10;

    /** IA32_DEBUGCTL bits defined (0, 1, 6-15); bits 5:2 and 63:16 are reserved (SDM Vol. 3B 18.4.1, 17.4.1). */
    static final long DEBUGCTL_DEFINED = 0xFFC3L;
}
