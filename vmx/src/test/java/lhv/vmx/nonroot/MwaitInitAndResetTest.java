package lhv.vmx.nonroot;

import lhv.cpu.StopReason;
import lhv.cpu.intercept.VmExitSignal;
import lhv.vmx.VmxTestbed;
import lhv.vmx.exit.ExitReason;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.controls.PrimaryProcessorControl.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * MWAIT exits report whether MONITOR armed address-range monitoring (SDM Vol. 3C 28.2.1); an INIT
 * signal exits in VMX non-root operation (26.2) and is blocked in VMX root operation (24.8); RESET
 * leaves VMX operation (SDM Vol. 3A 10.1); a REP string instruction right after a VM entry with the
 * monitor trap flag exits after one iteration (SDM Vol. 3C 26.5.2).
 */
class MwaitInitAndResetTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();

    private StopReason run(int... code) {
        for (int k = 0; k < code.length; k++) t.mem.write(GUEST_RIP0 + k, 1, code[k]);
        t.launch();
        return t.cpu.run(code.length + 4);
    }

    @Test
    void mwaitAfterMonitorReportsArmedMonitoring() {
        t.primary(MWAIT_EXITING);
        t.cpu.gpr[lhv.cpu.Cpu.RAX] = 0x20000;
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x01, 0xC8, 0x0F, 0x01, 0xC9)); // monitor; mwait
        assertEquals(ExitReason.MWAIT_INSTRUCTION.number, t.r(VM_EXIT_REASON));
        assertEquals(1, t.r(EXIT_QUALIFICATION), "bit 0: monitoring armed");
        assertEquals(GUEST_RIP0 + 3, t.r(GUEST_RIP));
    }

    @Test
    void mwaitWithoutMonitorReportsNotArmed() {
        t.primary(MWAIT_EXITING);
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x01, 0xC9));               // mwait
        assertEquals(ExitReason.MWAIT_INSTRUCTION.number, t.r(VM_EXIT_REASON));
        assertEquals(0, t.r(EXIT_QUALIFICATION));
    }

    @Test
    void initSignalInNonRootOperationExits() {
        t.launch();
        assertThrows(VmExitSignal.class, () -> t.cpu.sys.initSignal());
        assertEquals(ExitReason.INIT_SIGNAL.number, t.r(VM_EXIT_REASON));
        assertFalse(t.cpu.nonRoot);
    }

    @Test
    void initSignalInVmxRootOperationIsBlocked() {
        long rip = t.cpu.rip;
        assertFalse(t.cpu.sys.initSignal());
        assertTrue(t.cpu.vmxOperation, "still in VMX root operation");
        assertEquals(rip, t.cpu.rip, "nothing was reset");
    }

    @Test
    void resetLeavesVmxOperationFromAGuest() {
        t.launch();
        t.cpu.reset();
        assertFalse(t.cpu.nonRoot);
        assertFalse(t.cpu.vmxOperation);
        assertFalse(t.vmx.inVmxOperation);
        assertFalse(t.vmx.hasCurrentVmcs());
        assertEquals(0xFFF0, t.cpu.rip, "power-on state");
    }

    // ---- MTF and REP string instructions (SDM 26.5.2) ----

    @Test
    void monitorTrapFlagExitsAfterTheFirstIterationOfARepStringAfterEntry() {
        t.primary(MONITOR_TRAP_FLAG);
        t.cpu.gpr[lhv.cpu.Cpu.RCX] = 5;
        t.cpu.gpr[lhv.cpu.Cpu.RDI] = 0x20000;
        assertEquals(StopReason.VM_EXIT, run(0xF3, 0xAA, 0xF4));                   // rep stosb; hlt
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP), "still at the REP instruction");
        assertEquals(4, t.cpu.gpr[lhv.cpu.Cpu.RCX], "one iteration done");
        assertEquals(0, t.cpu.repIterationLimit, "the limit belongs to the guest");
    }

    @Test
    void withoutMonitorTrapFlagTheRepStringRunsToCompletion() {
        t.cpu.gpr[lhv.cpu.Cpu.RCX] = 5;
        t.cpu.gpr[lhv.cpu.Cpu.RDI] = 0x20000;
        assertEquals(StopReason.HALTED, run(0xF3, 0xAA, 0xF4));
        assertEquals(0, t.cpu.gpr[lhv.cpu.Cpu.RCX]);
    }
}
