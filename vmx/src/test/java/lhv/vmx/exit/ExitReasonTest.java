package lhv.vmx.exit;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExitReasonTest {

    /** Numbers from Linux arch/x86/include/uapi/asm/vmx.h (EXIT_REASON_*), SDM Appendix C. */
    @ParameterizedTest
    @CsvSource({"EXCEPTION_NMI,0", "EXTERNAL_INTERRUPT,1", "TRIPLE_FAULT,2", "INIT_SIGNAL,3", "SIPI_SIGNAL,4",
            "OTHER_SMI,6", "INTERRUPT_WINDOW,7", "NMI_WINDOW,8", "TASK_SWITCH,9", "CPUID,10", "HLT,12", "INVD,13",
            "INVLPG,14", "RDPMC,15", "RDTSC,16", "VMCALL,18", "VMCLEAR,19", "VMLAUNCH,20", "VMPTRLD,21", "VMPTRST,22",
            "VMREAD,23", "VMRESUME,24", "VMWRITE,25", "VMOFF,26", "VMON,27", "CR_ACCESS,28", "DR_ACCESS,29",
            "IO_INSTRUCTION,30", "MSR_READ,31", "MSR_WRITE,32", "INVALID_STATE,33", "MSR_LOAD_FAIL,34",
            "MWAIT_INSTRUCTION,36", "MONITOR_TRAP_FLAG,37", "MONITOR_INSTRUCTION,39", "PAUSE_INSTRUCTION,40",
            "MCE_DURING_VMENTRY,41", "TPR_BELOW_THRESHOLD,43", "APIC_ACCESS,44", "EOI_INDUCED,45", "GDTR_IDTR,46",
            "LDTR_TR,47", "EPT_VIOLATION,48", "EPT_MISCONFIG,49", "INVEPT,50", "RDTSCP,51", "PREEMPTION_TIMER,52",
            "INVVPID,53", "WBINVD,54", "XSETBV,55", "APIC_WRITE,56", "RDRAND,57", "INVPCID,58", "VMFUNC,59",
            "ENCLS,60", "RDSEED,61", "PML_FULL,62", "XSAVES,63", "XRSTORS,64", "UMWAIT,67", "TPAUSE,68", "ENCLV,70",
            "SGX_CONFLICT,71", "BUS_LOCK,74", "NOTIFY,75", "TDCALL,77"})
    void numbersMatchLinux(String name, int number) {
        ExitReason r = ExitReason.valueOf(name);
        assertEquals(number, r.number);
        assertSame(r, ExitReason.of(number));
    }

    @Test
    void numbersAreUniqueAndReservedOnesUndefined() {
        Set<Integer> seen = new HashSet<>();
        for (ExitReason r : ExitReason.values()) assertTrue(seen.add(r.number), r.name());
        assertNull(ExitReason.of(35));
        assertNull(ExitReason.of(38));
        assertNull(ExitReason.of(42));
    }

    @Test
    void entryFailureField() {
        assertEquals(0x8000_0021, ExitReason.INVALID_STATE.exitReasonField(true));
        assertEquals(0x8000_0022, ExitReason.MSR_LOAD_FAIL.exitReasonField(true));
        assertSame(ExitReason.INVALID_STATE, ExitReason.of(0x8000_0021), "basic reason is bits 15:0");
        assertTrue(ExitReason.INVALID_STATE.isEntryFailure());
        assertFalse(ExitReason.CPUID.isEntryFailure());
    }

    @Test
    void vmInstructionErrorNumbers() {
        assertEquals(25, VmInstructionError.values().length);
        for (int n = 1; n <= 28; n++) {
            VmInstructionError e = VmInstructionError.of(n);
            if (n == 14 || n == 21 || n == 27) assertNull(e, "" + n);
            else assertEquals(n, e.number);
        }
        assertEquals(7, VmInstructionError.ENTRY_INVALID_CONTROL_FIELD.number);
        assertEquals(8, VmInstructionError.ENTRY_INVALID_HOST_STATE_FIELD.number);
        assertEquals(12, VmInstructionError.UNSUPPORTED_VMCS_COMPONENT.number);
        assertEquals(26, VmInstructionError.ENTRY_EVENTS_BLOCKED_BY_MOV_SS.number);
    }
}
