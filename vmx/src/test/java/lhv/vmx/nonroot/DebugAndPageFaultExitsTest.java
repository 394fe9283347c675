package lhv.vmx.nonroot;

import lhv.cpu.Cpu;
import lhv.cpu.StopReason;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.exit.ExitReason;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.controls.PrimaryProcessorControl.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Exceptions that carry state (CR2 for #PF, DR6 for #DB) in VMX non-root operation, and the debug
 * exceptions pending at an exit or an entry: an exception that exits directly leaves CR2/DR6/DR7.GD
 * unchanged and reports the payload in the exit qualification (SDM Vol. 3C 28.1, 28.2.1); MTF exits
 * save pending debug traps in the pending-debug-exceptions field (28.3.4) and VM entry delivers what
 * that field holds (27.7.3). Guest code is hand-assembled x86-64 run by the interpreter.
 */
class DebugAndPageFaultExitsTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
    private static final long IDT = 0x30000, HANDLER = 0x11000, UNMAPPED = 0x600000;
    private static final long DR6_INIT = 0xFFFF0FF0L, BS = 1L << 14;

    /** 64-bit interrupt gates for {@code vectors} to HANDLER, which holds HLT. */
    private void idt(int... vectors) {
        for (int v : vectors) {
            t.mem.write(IDT + 16L * v, 8, (HANDLER & 0xFFFF) | 0x08L << 16 | 0x8EL << 40 | (HANDLER >>> 16 & 0xFFFF) << 48);
            t.mem.write(IDT + 16L * v + 8, 8, HANDLER >>> 32);
        }
        t.mem.write(HANDLER, 1, 0xF4);
        t.w(GUEST_IDTR_BASE, IDT);
    }

    private StopReason run(int... code) {
        for (int k = 0; k < code.length; k++) t.mem.write(GUEST_RIP0 + k, 1, code[k]);
        t.launch();
        return t.cpu.run(code.length + 4);
    }

    /** The RIP an exception handler's frame holds (64-bit frame at the guest stack top). */
    private long pushedRip() {
        return t.mem.read(t.cpu.gpr[Cpu.RSP], 8);
    }

    /** mov eax, [0x600000]: a read of an address the guest's page tables do not map. */
    private static final int[] READ_UNMAPPED = {0x8B, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00};

    // ---- #PF and CR2 (SDM 28.1) ----

    @Test
    void pageFaultThatExitsLeavesCr2AndReportsTheAddress() {
        t.w(EXCEPTION_BITMAP, 1 << 14);
        t.cpu.cr2 = 0x1234;
        assertEquals(StopReason.VM_EXIT, run(READ_UNMAPPED));
        assertEquals(ExitReason.EXCEPTION_NMI.number, t.r(VM_EXIT_REASON));
        assertEquals(0x8000_0B0EL, t.r(VM_EXIT_INTR_INFO));
        assertEquals(UNMAPPED, t.r(EXIT_QUALIFICATION), "the linear address is in the qualification");
        assertEquals(0x1234, t.cpu.cr2, "CR2 unchanged by a #PF that causes a VM exit");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
    }

    @Test
    void pageFaultDeliveredToTheGuestWritesCr2() {
        idt(14);
        t.cpu.cr2 = 0x1234;
        assertEquals(StopReason.HALTED, run(READ_UNMAPPED));
        assertTrue(t.cpu.nonRoot);
        assertEquals(UNMAPPED, t.cpu.cr2);
        assertEquals(HANDLER + 1, t.cpu.rip);
    }

    // ---- #DB: qualification instead of DR6 (SDM 28.1, 28.2.1) ----

    @Test
    void singleStepTrapThatExitsLeavesDr6AndReportsBs() {
        t.w(EXCEPTION_BITMAP, 1 << 1);
        t.w(GUEST_RFLAGS, 0x102);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.EXCEPTION_NMI.number, t.r(VM_EXIT_REASON));
        assertEquals(0x8000_0301L, t.r(VM_EXIT_INTR_INFO), "#DB, hardware exception");
        assertEquals(BS, t.r(EXIT_QUALIFICATION), "BS in the qualification");
        assertEquals(DR6_INIT, t.cpu.dr[6], "DR6 not modified");
        assertEquals(GUEST_RIP0 + 1, t.r(GUEST_RIP), "trap: after the NOP");
        assertEquals(0, t.r(GUEST_PENDING_DBG_EXCEPTIONS), "an exit caused by the #DB itself saves no pending #DB");
    }

    @Test
    void singleStepTrapDeliveredToTheGuestSetsDr6Bs() {
        idt(1);
        t.w(GUEST_RFLAGS, 0x102);
        assertEquals(StopReason.HALTED, run(0x90));
        assertEquals(DR6_INIT | BS, t.cpu.dr[6]);
        assertEquals(GUEST_RIP0 + 1, pushedRip());
    }

    @Test
    void generalDetectThatExitsLeavesDr6AndDr7Gd() {
        t.w(EXCEPTION_BITMAP, 1 << 1);
        t.w(GUEST_DR7, 0x400 | 1L << 13);
        t.w(VM_ENTRY_CONTROLS, t.r(VM_ENTRY_CONTROLS) | EntryControl.LOAD_DEBUG_CONTROLS.mask());
        t.w(VM_EXIT_CONTROLS, t.r(VM_EXIT_CONTROLS) | ExitControl.SAVE_DEBUG_CONTROLS.mask());
        // mov rax, dr0 = 0F 21 C0
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x21, 0xC0));
        assertEquals(1L << 13, t.r(EXIT_QUALIFICATION), "BD");
        assertEquals(DR6_INIT, t.cpu.dr[6], "DR6.BD not set");
        assertEquals(0x400 | 1L << 13, t.r(GUEST_DR7), "DR7.GD not cleared (saved with the debug controls)");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP), "fault: the MOV itself");
    }

    // ---- pending debug exceptions across exits and entries (SDM 28.3.4, 27.7.3) ----

    @Test
    void monitorTrapFlagExitSavesThePendingSingleStepTrap() {
        t.primary(MONITOR_TRAP_FLAG);
        t.w(GUEST_RFLAGS, 0x102);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(BS, t.r(GUEST_PENDING_DBG_EXCEPTIONS), "the single-step trap is pending, not delivered");
        assertEquals(DR6_INIT, t.cpu.dr[6]);
        assertEquals(0, t.cpu.pendingDebugExceptions, "nothing pending in the host");
        // VMRESUME without MTF: the pending #DB is delivered before the next guest instruction
        idt(1);
        t.primary();
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.HALTED, t.cpu.run(4));
        assertEquals(DR6_INIT | BS, t.cpu.dr[6]);
        assertEquals(GUEST_RIP0 + 1, pushedRip(), "delivered before the instruction after the NOP ran");
    }

    @Test
    void monitorTrapFlagExitSavesAMatchedDataBreakpointAsEnabled() {
        // mov [rbx], eax with DR1 a 4-byte write breakpoint on that address (G1)
        t.w(GUEST_DR7, 0x400 | 1L << 3 | (1L | 3L << 2) << 20);
        t.w(VM_ENTRY_CONTROLS, t.r(VM_ENTRY_CONTROLS) | EntryControl.LOAD_DEBUG_CONTROLS.mask());
        t.cpu.dr[1] = 0x20000;
        t.cpu.gpr[Cpu.RBX] = 0x20000;
        t.primary(MONITOR_TRAP_FLAG);
        assertEquals(StopReason.VM_EXIT, run(0x89, 0x03));
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(0x2 | 1L << 12, t.r(GUEST_PENDING_DBG_EXCEPTIONS), "B1 and \"enabled breakpoint\" (SDM 28.3.4)");
        assertEquals(DR6_INIT, t.cpu.dr[6]);
    }

    @Test
    void monitorTrapFlagExitWithoutSingleStepSavesNothing() {
        t.primary(MONITOR_TRAP_FLAG);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(0, t.r(GUEST_PENDING_DBG_EXCEPTIONS));
    }

    @Test
    void entryWithPendingBsDeliversADebugTrapFirst() {
        idt(1);
        t.w(GUEST_PENDING_DBG_EXCEPTIONS, BS);
        assertEquals(StopReason.HALTED, run(0x90));
        assertEquals(GUEST_RIP0, pushedRip(), "#DB before the guest's first instruction");
        assertEquals(DR6_INIT | BS, t.cpu.dr[6]);
    }

    @Test
    void entryWithoutValidPendingDebugExceptionsDeliversNothing() {
        idt(1);
        t.w(GUEST_PENDING_DBG_EXCEPTIONS, 0x1); // B0 alone: neither BS nor "enabled breakpoint" (SDM 27.7.3)
        t.primary(HLT_EXITING);
        assertEquals(StopReason.VM_EXIT, run(0xF4));
        assertEquals(ExitReason.HLT.number, t.r(VM_EXIT_REASON), "the guest's HLT ran, no #DB came first");
        assertEquals(DR6_INIT, t.cpu.dr[6]);
    }

    @Test
    void entryWithMovSsBlockingHoldsThePendingTrapForOneInstruction() {
        idt(1);
        t.w(GUEST_RFLAGS, 0x102);
        t.w(GUEST_INTERRUPTIBILITY_INFO, 2);       // blocking by MOV SS
        t.w(GUEST_PENDING_DBG_EXCEPTIONS, BS);     // required with TF=1 under MOV SS blocking (SDM 27.3.1.5)
        assertEquals(StopReason.HALTED, run(0x90));
        assertEquals(GUEST_RIP0 + 1, pushedRip(), "held past the first instruction, then delivered");
    }

    @Test
    void exitDuringMovSsBlockingSavesThePendingTrap() {
        // pushfq ; or qword [rsp], 0x100 ; popfq ; mov ss, eax ; cpuid — TF comes on with POPF, the
        // MOV SS single-steps but MOV SS blocking holds its trap, and CPUID exits within that blocking
        t.cpu.gpr[Cpu.RAX] = 0x10;
        assertEquals(StopReason.VM_EXIT, run(0x9C, 0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9D, 0x8E, 0xD0, 0x0F, 0xA2));
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON), t.cpu.notImplementedMessage);
        assertEquals(2, t.r(GUEST_INTERRUPTIBILITY_INFO) & 2, "blocking by MOV SS");
        assertEquals(BS, t.r(GUEST_PENDING_DBG_EXCEPTIONS));
        assertEquals(GUEST_RIP0 + 12, t.r(GUEST_RIP));
    }

    @Test
    void heldMovSsTrapIsDeliveredAfterTheNextInstruction() {
        // a NOP after the MOV SS: the held trap is delivered after it, before CPUID could exit
        idt(1);
        t.cpu.gpr[Cpu.RAX] = 0x10;
        assertEquals(StopReason.HALTED, run(0x9C, 0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9D, 0x8E, 0xD0, 0x90, 0x0F, 0xA2));
        assertEquals(GUEST_RIP0 + 13, pushedRip(), "the held MOV SS trap is delivered after the NOP");
    }
}
