package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Msr;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.vmx.VmxResult;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.Vmcs;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * VM entry (SDM Vol. 3C 27.3.2 guest-state loading, 27.4 MSR loading, 27.6 event injection, 27.8
 * entry failures) and VM exit (SDM 28.3 saving guest state, 28.4/28.6 MSR areas, 28.5 host state,
 * 28.7 VMX abort), driven through the Java API with real guest code.
 */
class TransitionsTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();

    private void code(long at, int... bytes) {
        for (int k = 0; k < bytes.length; k++) t.mem.write(at + k, 1, bytes[k]);
    }

    /** Entry {@code index} of an MSR area: bits 31:0 the MSR (as unsigned), 127:64 the data. */
    private void msrEntry(long area, int index, int msr, long value) {
        msrEntryRaw(area, index, msr & 0xFFFF_FFFFL, value);
    }

    private void msrEntryRaw(long area, int index, long indexWord, long value) {
        t.mem.write(area + 16L * index, 8, indexWord);
        t.mem.write(area + 16L * index + 8, 8, value);
    }

    // ---- loading guest state ----

    @Test
    void entryLoadsGuestState() {
        t.w(GUEST_RSP, 0x1_7FF0);
        t.w(GUEST_FS_BASE, 0x5000_0000L);
        t.w(GUEST_SYSENTER_ESP, 0xABCD);
        t.w(GUEST_RFLAGS, 0x2 | 1 << 10); // DF
        t.launch();
        Cpu c = t.cpu;
        assertTrue(c.nonRoot);
        assertEquals(GUEST_RIP0, c.rip);
        assertEquals(0x1_7FF0, c.gpr[Cpu.RSP]);
        assertEquals(0x5000_0000L, c.seg[Segment.FS].base);
        assertEquals(0xABCD, c.sysenterEsp);
        assertEquals(0x402, c.getRflags());
        assertEquals(CODE64_AR, c.seg[Segment.CS].attributes);
        assertTrue(c.ldtr.unusable());
        assertEquals(0, c.cpl, "CPL = SS.DPL");
        assertEquals(Cr.EFER_LMA | Cr.EFER_LME, c.efer & (Cr.EFER_LMA | Cr.EFER_LME), "IA-32e mode guest");
        assertEquals(lhv.cpu.Mode.LONG64, c.mode);
        assertTrue(t.vmx.vmcs.isLaunched(), "VMLAUNCH makes the launch state launched");
    }

    @Test
    void entryLoadsPatAndEferPerEntryControls() {
        t.w(VM_ENTRY_CONTROLS, t.r(VM_ENTRY_CONTROLS) | EntryControl.LOAD_IA32_PAT.mask() | EntryControl.LOAD_IA32_EFER.mask());
        t.w(GUEST_IA32_PAT, 0x0606_0606_0606_0606L);
        t.w(GUEST_IA32_EFER, Cr.EFER_LMA | Cr.EFER_LME | Cr.EFER_NXE);
        t.launch();
        assertEquals(0x0606_0606_0606_0606L, t.cpu.pat);
        assertEquals(Cr.EFER_LMA | Cr.EFER_LME | Cr.EFER_NXE, t.cpu.efer);
    }

    @Test
    void entryIntoHltActivityStateExecutesNothing() {
        t.w(GUEST_ACTIVITY_STATE, 1);
        code(GUEST_RIP0, 0x0F, 0xA2);
        t.launch();
        assertEquals(StopReason.HALTED, t.cpu.run(10));
        assertEquals(GUEST_RIP0, t.cpu.rip);
        assertTrue(t.cpu.nonRoot);
    }

    // ---- VM-entry failures (SDM 27.8) ----

    @Test
    void invalidGuestStateIsExit33WithHostStateLoaded() {
        t.w(GUEST_RFLAGS, 0); // bit 1 must be 1 (SDM 27.3.1.4)
        VmxResult.EntryFailed f = assertInstanceOf(VmxResult.EntryFailed.class, t.vmx.vmlaunch());
        assertEquals(0x8000_0021, f.exitReason());
        assertNotNull(f.check());
        assertTrue(f.diagnosis().startsWith("VM-entry check failed [SDM 27.3.1.4]"), f.diagnosis());
        assertEquals(0x8000_0021L, t.r(VM_EXIT_REASON));
        assertFalse(t.cpu.nonRoot);
        assertEquals(HOST_RIP0, t.cpu.rip);
        assertFalse(t.vmx.vmcs.isLaunched(), "a failed VMLAUNCH leaves the VMCS clear");
    }

    @Test
    void invalidControlsAndHostStateAreVmfailValid7And8() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, 0); // must-be-one bits missing
        assertEquals(new VmxResult.FailValid(lhv.vmx.exit.VmInstructionError.ENTRY_INVALID_CONTROL_FIELD), t.vmx.vmlaunch());
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED));
        t.w(HOST_CR0, 0); // PE/NE/PG fixed to 1
        assertEquals(new VmxResult.FailValid(lhv.vmx.exit.VmInstructionError.ENTRY_INVALID_HOST_STATE_FIELD), t.vmx.vmlaunch());
        assertEquals(8, t.r(VM_INSTRUCTION_ERROR));
        assertFalse(t.cpu.nonRoot);
    }

    @Test
    void msrLoadFailureIsExit34WithTheEntryNumber() {
        t.w(VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
        t.w(VM_ENTRY_MSR_LOAD_COUNT, 3);
        msrEntry(MSR_AREA, 0, Msr.IA32_STAR, 0x10);
        msrEntry(MSR_AREA, 1, Msr.IA32_FS_BASE, 0x1000); // FS base may not be loaded this way (SDM 27.4)
        msrEntry(MSR_AREA, 2, Msr.IA32_SYSENTER_EIP, 0x77);
        VmxResult.EntryFailed f = assertInstanceOf(VmxResult.EntryFailed.class, t.vmx.vmlaunch());
        assertEquals(0x8000_0022, f.exitReason());
        assertEquals(2, f.qualification());
        assertEquals(2, t.r(EXIT_QUALIFICATION));
        assertNull(f.check());
        assertEquals(0x10, t.cpu.star, "entries before the failing one stay loaded");
        assertNotEquals(0x77, t.cpu.sysenterEip);
        assertEquals(HOST_RIP0, t.cpu.rip);
    }

    @Test
    void msrLoadEntryRulesReservedBitsX2apicAndGp() {
        t.w(VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
        t.w(VM_ENTRY_MSR_LOAD_COUNT, 1);
        msrEntryRaw(MSR_AREA, 0, 1L << 32 | Msr.IA32_SYSENTER_CS, 0);
        assertEquals(1, assertInstanceOf(VmxResult.EntryFailed.class, t.vmx.vmlaunch()).qualification(), "bits 63:32 reserved");
        msrEntry(MSR_AREA, 0, 0x808, 0);
        assertEquals(1, assertInstanceOf(VmxResult.EntryFailed.class, t.vmx.vmlaunch()).qualification(), "x2APIC MSR");
        msrEntry(MSR_AREA, 0, 0x4000_0000, 0);
        assertEquals(1, assertInstanceOf(VmxResult.EntryFailed.class, t.vmx.vmlaunch()).qualification(), "WRMSR would #GP");
        msrEntry(MSR_AREA, 0, Msr.IA32_SYSENTER_ESP, 0x4242);
        t.launch();
        assertEquals(0x4242, t.cpu.sysenterEsp);
    }

    // ---- VM exit: saving guest state, MSR store, host state ----

    @Test
    void exitSavesGuestStateAndLoadsHostStateWithFixedAttributes() {
        t.w(HOST_IA32_SYSENTER_EIP, 0xFFFF_8000_0000_1234L);
        t.w(HOST_GS_BASE, 0x7000_0000L);
        code(GUEST_RIP0, 0x48, 0x83, 0xEC, 0x10, 0x0F, 0xA2); // sub rsp, 16; cpuid
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        // guest state saved (SDM 28.3)
        assertEquals(GUEST_RIP0 + 4, t.r(GUEST_RIP));
        assertEquals(GUEST_RSP0 - 16, t.r(GUEST_RSP));
        assertEquals(CODE64_AR, t.r(GUEST_CS_AR_BYTES));
        assertEquals(0x10000, t.r(GUEST_LDTR_AR_BYTES), "unusable LDTR saved as unusable");
        assertEquals(CR0, t.r(GUEST_CR0));
        assertEquals(0, t.r(GUEST_ACTIVITY_STATE));
        // host state loaded (SDM 28.5)
        Cpu c = t.cpu;
        assertEquals(HOST_RIP0, c.rip);
        assertEquals(HOST_RSP0, c.gpr[Cpu.RSP]);
        assertEquals(2, c.getRflags());
        assertEquals(0xA09B, c.seg[Segment.CS].attributes, "CS: type 11, S, P, L, G");
        assertEquals(0xC093, c.seg[Segment.SS].attributes, "SS: type 3, S, P, D/B, G");
        assertEquals(-1, c.seg[Segment.SS].limit);
        assertTrue(c.seg[Segment.FS].unusable(), "null host FS selector: unusable");
        assertEquals(0x7000_0000L, c.seg[Segment.GS].base);
        assertEquals(0x18, c.tr.selector);
        assertEquals(0x8B, c.tr.attributes, "TR: busy TSS, P");
        assertEquals(0x67, c.tr.limit);
        assertTrue(c.ldtr.unusable());
        assertEquals(0xFFFF, c.gdtrLimit);
        assertEquals(0xFFFF, c.idtrLimit);
        assertEquals(0x400, c.dr[7]);
        assertEquals(0xFFFF_8000_0000_1234L, c.sysenterEip);
        assertEquals(Cr.EFER_LMA | Cr.EFER_LME, c.efer & (Cr.EFER_LMA | Cr.EFER_LME), "host address-space size");
        assertEquals(0, c.cpl);
        assertFalse(c.nonRoot);
        assertEquals(0, t.r(VM_ENTRY_INTR_INFO_FIELD) >>> 31, "exits clear the injection valid bit");
    }

    @Test
    void exitSavesEferPatAndPreemptionTimerPerExitControls() {
        t.w(VM_EXIT_CONTROLS, t.r(VM_EXIT_CONTROLS) | ExitControl.SAVE_IA32_EFER.mask() | ExitControl.SAVE_IA32_PAT.mask()
                | ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask());
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.mask());
        t.w(VMX_PREEMPTION_TIMER_VALUE, 1000);
        code(GUEST_RIP0, 0x0F, 0xA2);
        t.launch();
        t.cpu.run(10);
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(t.cpu.efer & ~0L, t.r(GUEST_IA32_EFER) | 0, "guest EFER saved");
        assertEquals(t.cpu.pat, t.r(GUEST_IA32_PAT));
        assertEquals(1000, t.r(VMX_PREEMPTION_TIMER_VALUE), "no tick elapsed in one instruction at rate " + t.caps.preemptionTimerRate());
    }

    @Test
    void exitMsrStoreAndLoadAreas() {
        t.w(GUEST_SYSENTER_CS, 0x33);
        t.w(VM_EXIT_MSR_STORE_ADDR, MSR_AREA);
        t.w(VM_EXIT_MSR_STORE_COUNT, 1);
        msrEntry(MSR_AREA, 0, Msr.IA32_SYSENTER_CS, 0);
        t.w(VM_EXIT_MSR_LOAD_ADDR, MSR_AREA + 0x100);
        t.w(VM_EXIT_MSR_LOAD_COUNT, 1);
        msrEntry(MSR_AREA + 0x100, 0, Msr.IA32_KERNEL_GS_BASE, 0x1234_5678L);
        code(GUEST_RIP0, 0x0F, 0xA2);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10), "abort " + t.vmx.exit.abortIndicator + " " + t.cpu.notImplementedMessage);
        assertEquals(0x33, t.mem.read(MSR_AREA + 8, 8), "guest value stored (SDM 28.4)");
        assertEquals(0x1234_5678L, t.cpu.kernelGsBase, "host value loaded after host state (SDM 28.6)");
    }

    @Test
    void exitMsrLoadFailureIsVmxAbort() {
        t.w(VM_EXIT_MSR_LOAD_ADDR, MSR_AREA);
        t.w(VM_EXIT_MSR_LOAD_COUNT, 1);
        msrEntry(MSR_AREA, 0, Msr.IA32_GS_BASE, 0);
        code(GUEST_RIP0, 0x0F, 0xA2);
        t.launch();
        assertEquals(StopReason.SHUTDOWN, t.cpu.run(10));
        assertEquals(VmExit.ABORT_LOADING_HOST_MSRS, Vmcs.abortIndicatorAt(t.mem, VMCS), "abort indicator in the VMCS region (SDM 28.7)");
        assertEquals(2, t.cpu.activityState, "shutdown");
    }

    @Test
    void exitMsrStoreFailureIsVmxAbort1() {
        t.w(VM_EXIT_MSR_STORE_ADDR, MSR_AREA);
        t.w(VM_EXIT_MSR_STORE_COUNT, 1);
        msrEntry(MSR_AREA, 0, 0x4000_0000, 0); // RDMSR would #GP
        code(GUEST_RIP0, 0x0F, 0xA2);
        t.launch();
        assertEquals(StopReason.SHUTDOWN, t.cpu.run(10));
        assertEquals(VmExit.ABORT_SAVING_GUEST_MSRS, Vmcs.abortIndicatorAt(t.mem, VMCS));
    }

    @Test
    void resumeAfterExitContinuesTheGuest() {
        code(GUEST_RIP0, 0x0F, 0xA2, 0x0F, 0xA2);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        t.w(GUEST_RIP, t.r(GUEST_RIP) + t.r(VM_EXIT_INSTRUCTION_LEN));
        t.ok(t.vmx.vmresume());
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(GUEST_RIP0 + 2, t.r(GUEST_RIP));
    }

    // ---- event injection (SDM 27.6) ----

    private static final long IDT = 0x30000, HANDLER = 0x11000;

    private void guestIdtWithHandler(int vector) {
        long gate = IDT + 16L * vector;
        t.mem.write(gate, 8, (HANDLER & 0xFFFF) | 0x08L << 16 | 0x8EL << 40 | (HANDLER >>> 16 & 0xFFFF) << 48);
        t.mem.write(gate + 8, 8, HANDLER >>> 32);
        t.w(GUEST_IDTR_BASE, IDT);
        t.w(GUEST_IDTR_LIMIT, 0xFFF);
        code(HANDLER, 0x0F, 0xA2); // the handler executes CPUID, which exits
    }

    @Test
    void injectedHardwareExceptionIsDeliveredThroughTheGuestIdtWithoutExiting() {
        guestIdtWithHandler(13);
        t.w(EXCEPTION_BITMAP, 1 << 13); // not consulted for the injected event itself
        t.w(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0B0DL); // #GP, error code
        t.w(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x18);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(HANDLER, t.r(GUEST_RIP));
        long rsp = t.r(GUEST_RSP);
        assertEquals(0x18, t.mem.read(rsp, 8), "error code pushed");
        assertEquals(GUEST_RIP0, t.mem.read(rsp + 8, 8), "return RIP: the guest RIP of the entry");
    }

    @Test
    void injectedSoftwareInterruptReturnsPastTheInstruction() {
        guestIdtWithHandler(0x80);
        t.w(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0480L); // INT 0x80, software interrupt
        t.w(VM_ENTRY_INSTRUCTION_LEN, 2);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(HANDLER, t.r(GUEST_RIP));
        assertEquals(GUEST_RIP0 + 2, t.mem.read(t.r(GUEST_RSP), 8));
    }

    @Test
    void injectionWakesAGuestEnteredInHltState() {
        guestIdtWithHandler(0x20);
        t.w(GUEST_ACTIVITY_STATE, 1);
        t.w(GUEST_RFLAGS, 0x202);
        t.w(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0020L); // external interrupt 0x20
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(10));
        assertEquals(HANDLER, t.r(GUEST_RIP));
    }
}
