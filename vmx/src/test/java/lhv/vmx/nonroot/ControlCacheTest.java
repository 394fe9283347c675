package lhv.vmx.nonroot;

import lhv.cpu.StopReason;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.PrimaryProcessorControl;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The non-root intercepts keep the execution controls they read at a VM entry for later entries
 * while no store changed a control field (Vmcs.controlStores): every way a control can change
 * between entries — VMWRITE, VMPTRLD of another VMCS, back again — must be seen at the next entry.
 */
class ControlCacheTest {
    final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();

    /** CPUID; HLT at GUEST_RIP0, HLT alone at GUEST_RIP0 + 0x100. */
    void code() {
        t.mem.write(GUEST_RIP0, 2, 0xA20F);
        t.mem.write(GUEST_RIP0 + 2, 1, 0xF4);
        t.mem.write(GUEST_RIP0 + 0x100, 1, 0xF4);
    }

    void skip() {
        t.w(GUEST_RIP, t.r(GUEST_RIP) + t.r(VM_EXIT_INSTRUCTION_LEN));
    }

    @Test
    void aControlWrittenBetweenExitsTakesEffect() {
        code();
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        skip();
        t.primary(PrimaryProcessorControl.HLT_EXITING);
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(12, t.r(VM_EXIT_REASON), "HLT exiting, set after the first exit, applies");
    }

    @Test
    void aControlClearedBetweenExitsTakesEffect() {
        code();
        t.primary(PrimaryProcessorControl.HLT_EXITING);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        skip();
        t.primary();
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.HALTED, t.cpu.run(10), "HLT exiting cleared: the guest halts");
    }

    @Test
    void rewritingTheSameValueKeepsTheSameBehaviour() {
        code();
        t.primary(PrimaryProcessorControl.HLT_EXITING);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        skip();
        t.primary(PrimaryProcessorControl.HLT_EXITING);
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(12, t.r(VM_EXIT_REASON));
    }

    @Test
    void anotherVmcsBringsItsOwnControlsAndTheFirstOneItsOwnAgain() {
        code();
        t.launch();   // VMCS: no HLT exiting
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        skip();
        t.ok(t.vmx.vmptrld(VMCS2));
        t.validVmcs().primary(PrimaryProcessorControl.HLT_EXITING);
        t.w(GUEST_RIP, GUEST_RIP0 + 0x100);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(12, t.r(VM_EXIT_REASON), "the second VMCS exits on HLT");
        t.ok(t.vmx.vmptrld(VMCS));
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.HALTED, t.cpu.run(10), "the first VMCS does not");
    }
}
