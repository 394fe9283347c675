package lhv.vmx.nonroot;

import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.exit.ExitReason;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.controls.PrimaryProcessorControl.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The RF flag a VM exit saves (SDM Vol. 3C 28.3.3) and IRET in VMX non-root operation with "NMI
 * exiting" / "virtual NMIs" (SDM 26.3): IRET ends virtual-NMI blocking, and a fault of such an IRET
 * that exits reports "NMI unblocking due to IRET" in bit 12 of the exit interruption information
 * (SDM 28.2.2). Hand-assembled x86-64 guest code run by the interpreter.
 */
class RflagsRfAndVirtualNmiTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();

    private StopReason run(int... code) {
        for (int k = 0; k < code.length; k++) t.mem.write(GUEST_RIP0 + k, 1, code[k]);
        t.launch();
        return t.cpu.run(code.length + 4);
    }

    // ---- RF (SDM 28.3.3) ----

    @Test
    void instructionExitSavesRfClear() {
        t.w(GUEST_RFLAGS, 2 | Rflags.RF);
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0xA2));          // cpuid
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(0, t.r(GUEST_RFLAGS) & Rflags.RF);
    }

    @Test
    void faultExitSavesRfAsTheExceptionFrameWouldHaveIt() {
        t.w(EXCEPTION_BITMAP, 1 << 6);
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x0B));          // ud2
        assertEquals(0x8000_0306L, t.r(VM_EXIT_INTR_INFO));
        assertEquals(Rflags.RF, t.r(GUEST_RFLAGS) & Rflags.RF, "RF = 1 for a fault");
    }

    @Test
    void trapExitKeepsRf() {
        t.w(EXCEPTION_BITMAP, 1 << 1);
        t.w(GUEST_RFLAGS, 2 | Rflags.TF);
        assertEquals(StopReason.VM_EXIT, run(0x90));                // nop, single-step trap
        assertEquals(0x8000_0301L, t.r(VM_EXIT_INTR_INFO));
        assertEquals(0, t.r(GUEST_RFLAGS) & Rflags.RF, "a #DB trap's frame has RF as it stands (0)");
    }

    // ---- IRET and virtual NMIs (SDM 26.3) ----

    private void virtualNmis(boolean blocked) {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.NMI_EXITING.mask()
                | PinBasedControl.VIRTUAL_NMIS.mask());
        t.w(GUEST_INTERRUPTIBILITY_INFO, blocked ? 1 << 3 : 0);
    }

    /** An IRETQ frame on the guest stack returning to {@code rip} with selector {@code cs}. */
    private void iretFrame(long rip, int cs) {
        long sp = GUEST_RSP0;
        t.mem.write(sp, 8, rip);
        t.mem.write(sp + 8, 8, cs);
        t.mem.write(sp + 16, 8, 2);
        t.mem.write(sp + 24, 8, GUEST_RSP0 + 40);
        t.mem.write(sp + 32, 8, 0x10);
    }

    @Test
    void iretEndsVirtualNmiBlockingAndOpensTheNmiWindow() {
        virtualNmis(true);
        t.primary(NMI_WINDOW_EXITING);
        iretFrame(GUEST_RIP0 + 2, 0x08);
        assertEquals(StopReason.VM_EXIT, run(0x48, 0xCF, 0x0F, 0xA2)); // iretq; cpuid
        assertEquals(ExitReason.NMI_WINDOW.number, t.r(VM_EXIT_REASON), "window opens right after the IRET");
        assertEquals(GUEST_RIP0 + 2, t.r(GUEST_RIP));
        assertEquals(0, t.r(GUEST_INTERRUPTIBILITY_INFO) & 1 << 3, "virtual-NMI blocking ended");
    }

    @Test
    void withoutIretVirtualNmiBlockingStays() {
        virtualNmis(true);
        t.primary(NMI_WINDOW_EXITING);
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0xA2));
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON), "no window while blocked");
        assertEquals(1 << 3, t.r(GUEST_INTERRUPTIBILITY_INFO) & 1 << 3);
    }

    @Test
    void iretWithNmiExitingLeavesTheRealNmiBlocking() {
        virtualNmis(false);
        iretFrame(GUEST_RIP0 + 2, 0x08);
        t.launch();
        t.cpu.nmiBlocked = true;                                     // the host's blocking of real NMIs
        for (int k = 0; k < 4; k++) t.mem.write(GUEST_RIP0 + k, 1, new int[] {0x48, 0xCF, 0x0F, 0xA2}[k]);
        assertEquals(StopReason.VM_EXIT, t.cpu.run(8));
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertTrue(t.cpu.nmiBlocked, "IRET does not affect NMI blocking when NMI exiting = 1");
    }

    @Test
    void faultingIretThatEndedVirtualNmiBlockingReportsBit12() {
        virtualNmis(true);
        t.w(EXCEPTION_BITMAP, 1 << 13);
        iretFrame(GUEST_RIP0 + 2, 0);                                // null CS: #GP(0)
        assertEquals(StopReason.VM_EXIT, run(0x48, 0xCF));
        assertEquals(0x8000_1B0DL, t.r(VM_EXIT_INTR_INFO), "#GP with NMI unblocking due to IRET");
        assertEquals(0, t.r(GUEST_INTERRUPTIBILITY_INFO) & 1 << 3, "blocking cleared before the exit");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
    }

    @Test
    void faultingIretWithoutVirtualNmiBlockingHasNoBit12() {
        virtualNmis(false);
        t.w(EXCEPTION_BITMAP, 1 << 13);
        iretFrame(GUEST_RIP0 + 2, 0);
        assertEquals(StopReason.VM_EXIT, run(0x48, 0xCF));
        assertEquals(0x8000_0B0DL, t.r(VM_EXIT_INTR_INFO));
    }
}
