package lhv.vmx.nonroot;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.StopReason;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.VmExitSignal;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.exit.ExitReason;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.controls.PrimaryProcessorControl.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Exits of VMX non-root operation (SDM Vol. 3C 26.1-26.2) with hand-assembled x86-64 guest code run by
 * the interpreter under a VMCS the test (as a Java hypervisor) set up: for each condition one case
 * that exits, with the exit information checked, and one that does not.
 */
class GuestExitsTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();

    /** Places {@code code} at the guest RIP, launches and runs; returns the stop reason. */
    private StopReason run(int... code) {
        for (int k = 0; k < code.length; k++) t.mem.write(GUEST_RIP0 + k, 1, code[k]);
        t.launch();
        return t.cpu.run(code.length + 4);
    }

    private void assertExit(ExitReason reason, long qualification, int length, StopReason stop) {
        assertEquals(StopReason.VM_EXIT, stop, t.cpu.notImplementedMessage);
        assertEquals(reason.number, t.r(VM_EXIT_REASON), "basic exit reason");
        assertEquals(qualification, t.r(EXIT_QUALIFICATION), "exit qualification");
        assertEquals(length, t.r(VM_EXIT_INSTRUCTION_LEN), "instruction length");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP), "fault-like: guest RIP is the exiting instruction");
        assertEquals(HOST_RIP0, t.cpu.rip, "host RIP loaded");
        assertFalse(t.cpu.nonRoot);
    }

    private void secondary(SecondaryProcessorControl... controls) {
        int p = (int) t.r(CPU_BASED_VM_EXEC_CONTROL) | ACTIVATE_SECONDARY_CONTROLS.mask();
        t.w(CPU_BASED_VM_EXEC_CONTROL, p & 0xFFFF_FFFFL);
        int s = 0;
        for (SecondaryProcessorControl c : controls) s |= c.mask();
        t.w(SECONDARY_VM_EXEC_CONTROL, s);
    }

    /** Calls the intercept of a non-root action directly; returns its value or throws the exit. */
    private long intercept(Sensitive what, long a, long b) {
        return t.vmx.intercept(t.cpu, what, new lhv.cpu.decode.Insn(), a, b);
    }

    private void launchOnly() {
        t.launch();
    }

    // ---- unconditional (SDM 26.1.2) ----

    @Test
    void cpuidAlwaysExits() {
        assertExit(ExitReason.CPUID, 0, 2, run(0x0F, 0xA2));
    }

    @Test
    void invdAlwaysExits() {
        assertExit(ExitReason.INVD, 0, 2, run(0x0F, 0x08));
    }

    @Test
    void xsetbvAlwaysExits() {
        t.w(GUEST_CR4, CR4 | 1L << 18); // CR4.OSXSAVE, else XSETBV is #UD before any exit
        assertExit(ExitReason.XSETBV, 0, 3, run(0x0F, 0x01, 0xD1));
    }

    @Test
    void vmcallExits() {
        assertExit(ExitReason.VMCALL, 0, 3, run(0x0F, 0x01, 0xC1));
    }

    @Test
    void vmptrstExitsWithDisplacementAndInstructionInformation() {
        t.cpu.gpr[Cpu.RAX] = 0x30000;
        // vmptrst [rax+0x10] = 0F C7 78 10
        assertExit(ExitReason.VMPTRST, 0x10, 4, run(0x0F, 0xC7, 0x78, 0x10));
        int info = (int) t.r(VMX_INSTRUCTION_INFO);
        assertEquals(2 << 7, info & 0x380, "64-bit address size");
        assertEquals(0, info & (1 << 10), "memory operand");
        assertEquals(3 << 15, info & (7 << 15), "DS");
        assertEquals(0, info >>> 23 & 0xF, "base RAX");
        assertNotEquals(0, info & (1 << 22), "no index");
    }

    @Test
    void vmreadExitsWithRegisterOperands() {
        // vmread rcx, rdx = 0F 78 D1 (reg = RDX holds the encoding, rm = RCX the destination)
        assertExit(ExitReason.VMREAD, 0, 3, run(0x0F, 0x78, 0xD1));
        int info = (int) t.r(VMX_INSTRUCTION_INFO);
        assertNotEquals(0, info & (1 << 10), "register operand");
        assertEquals(1, info >>> 3 & 0xF, "reg1 = RCX");
        assertEquals(2, info >>> 28 & 0xF, "reg2 = RDX");
    }

    // ---- HLT, RDTSC, RDPMC, INVLPG, MWAIT, MONITOR, PAUSE ----

    @Test
    void hltExitsOnlyWithHltExiting() {
        t.primary(HLT_EXITING);
        assertExit(ExitReason.HLT, 0, 1, run(0xF4));
    }

    @Test
    void hltWithoutExitingHalts() {
        assertEquals(StopReason.HALTED, run(0xF4));
        assertTrue(t.cpu.nonRoot, "still in the guest");
    }

    @Test
    void rdtscExitsWithRdtscExiting() {
        t.primary(RDTSC_EXITING);
        assertExit(ExitReason.RDTSC, 0, 2, run(0x0F, 0x31));
    }

    @Test
    void rdtscWithOffsettingAddsTheOffset() {
        t.primary(USE_TSC_OFFSETTING);
        t.w(TSC_OFFSET, 1_000_000);
        launchOnly();
        assertEquals(1_000_500, intercept(Sensitive.RDTSC, 500, 500));
    }

    @Test
    void rdpmcExitsWithRdpmcExiting() {
        t.primary(RDPMC_EXITING);
        assertExit(ExitReason.RDPMC, 0, 2, run(0x0F, 0x33));
    }

    @Test
    void pauseExits() {
        t.primary(PAUSE_EXITING);
        assertExit(ExitReason.PAUSE_INSTRUCTION, 0, 2, run(0xF3, 0x90));
    }

    @Test
    void monitorAndMwaitDecideByTheirControls() {
        t.primary(MONITOR_EXITING);
        launchOnly();
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.MONITOR, 0, 0));
        assertEquals(ExitReason.MONITOR_INSTRUCTION.number, t.r(VM_EXIT_REASON));
        t.primary(MWAIT_EXITING);
        t.ok(t.vmx.vmresume());
        assertDoesNotThrow(() -> intercept(Sensitive.MONITOR, 0, 0));
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.MWAIT, 0, 0));
        assertEquals(ExitReason.MWAIT_INSTRUCTION.number, t.r(VM_EXIT_REASON));
    }

    @Test
    void unconditionalControlsOffMeansNoExit() {
        launchOnly();
        for (Sensitive s : new Sensitive[]{Sensitive.HLT, Sensitive.PAUSE, Sensitive.RDPMC, Sensitive.MONITOR,
                Sensitive.MWAIT, Sensitive.WBINVD, Sensitive.RDRAND, Sensitive.RDSEED, Sensitive.INVLPG, Sensitive.MOV_DR,
                Sensitive.DESCRIPTOR_TABLE, Sensitive.LDTR_TR}) {
            assertDoesNotThrow(() -> intercept(s, 0, 0), s.name());
        }
        assertEquals(1234, intercept(Sensitive.RDTSC, 1234, 1234), "no offsetting");
    }

    @Test
    void invlpgExitsWithLinearAddress() {
        t.primary(INVLPG_EXITING);
        t.cpu.gpr[Cpu.RAX] = 0x123456;
        assertExit(ExitReason.INVLPG, 0x123456, 3, run(0x0F, 0x01, 0x38)); // invlpg [rax]
    }

    // ---- control registers (SDM 26.1.3, 26.3) ----

    @Test
    void movToCr3ExitsUnlessATargetMatches() {
        t.primary(CR3_LOAD_EXITING);
        t.cpu.gpr[Cpu.RBX] = 0x9000;
        // mov cr3, rbx = 0F 22 DB
        assertExit(ExitReason.CR_ACCESS, 3 | 3 << 8, 3, run(0x0F, 0x22, 0xDB));
    }

    @Test
    void movToCr3MatchingACr3TargetDoesNotExit() {
        t.primary(CR3_LOAD_EXITING);
        t.w(CR3_TARGET_COUNT, 2);
        t.w(CR3_TARGET_VALUE1, 0x9000);
        launchOnly();
        assertEquals(0x9000, intercept(Sensitive.CR_WRITE, 3, 0x9000));
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.CR_WRITE, 3, 0xA000));
    }

    @Test
    void movFromCr3AndCr8ExitPerStoreControls() {
        t.primary(CR3_STORE_EXITING);
        launchOnly();
        assertEquals(0x1234, intercept(Sensitive.CR_READ, 8, 0x1234), "CR8-store exiting off");
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.CR_READ, 3, 0x9000));
        assertEquals(3 | 1 << 4, t.r(EXIT_QUALIFICATION), "MOV from CR3 to RAX");
        t.primary(CR8_STORE_EXITING);
        t.ok(t.vmx.vmresume());
        assertEquals(0x9000, intercept(Sensitive.CR_READ, 3, 0x9000), "CR3-store exiting off");
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.CR_READ, 8, 0));
        assertEquals(8 | 1 << 4, t.r(EXIT_QUALIFICATION));
    }

    @Test
    void cr8LoadExiting() {
        t.primary(CR8_LOAD_EXITING);
        // mov cr8, rcx = 44 0F 22 C1
        assertExit(ExitReason.CR_ACCESS, 8 | 1 << 8, 4, run(0x44, 0x0F, 0x22, 0xC1));
    }

    @Test
    void movToCr0ExitsWhenAHostOwnedBitDiffersFromTheShadow() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 3 | 1L << 30);   // TS and CD owned by the host
        t.w(CR0_READ_SHADOW, 0);
        t.cpu.gpr[Cpu.RDX] = CR0 | 1L << 3;
        // mov cr0, rdx = 0F 22 C2
        assertExit(ExitReason.CR_ACCESS, 0 | 2 << 8, 3, run(0x0F, 0x22, 0xC2));
    }

    @Test
    void movToCr0MatchingTheShadowDoesNotExitAndKeepsHostBits() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 3);
        t.w(CR0_READ_SHADOW, 0);
        launchOnly();
        t.cpu.setCr0(t.cpu.cr0 | (1L << 3)); // real TS set by the host
        long written = intercept(Sensitive.CR_WRITE, 0, CR0);
        assertEquals(CR0 | 1L << 3, written, "host-owned TS keeps its real value");
        assertEquals(CR0, intercept(Sensitive.CR_READ, 0, t.cpu.cr0), "reads see the shadow's TS");
        assertEquals(CR0, intercept(Sensitive.SMSW, 0, t.cpu.cr0));
    }

    @Test
    void movToCr4ExitsOnlyForMaskedBits() {
        t.w(CR4_GUEST_HOST_MASK, 1L << 13);               // VMXE
        t.w(CR4_READ_SHADOW, 0);                           // the guest believes VMXE = 0
        launchOnly();
        long cr4WithoutVmxe = CR4 & ~(1L << 13);
        assertEquals(CR4 | 1L << 7, intercept(Sensitive.CR_WRITE, 4, cr4WithoutVmxe | 1L << 7), "PGE written, host-owned VMXE kept");
        assertEquals(cr4WithoutVmxe, intercept(Sensitive.CR_READ, 4, CR4), "the guest reads VMXE from the shadow");
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.CR_WRITE, 4, CR4));
        assertEquals(ExitReason.CR_ACCESS.number, t.r(VM_EXIT_REASON));
    }

    @Test
    void cltsExitsWhenTsOwnedAndShadowTsSet() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 3);
        t.w(CR0_READ_SHADOW, 1L << 3);
        assertExit(ExitReason.CR_ACCESS, 2 << 4, 2, run(0x0F, 0x06));
    }

    @Test
    void cltsWithShadowTsClearDoesNotExitNorClearRealTs() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 3);
        t.w(CR0_READ_SHADOW, 0);
        launchOnly();
        assertEquals(0, intercept(Sensitive.CLTS, 0, 0), "host-owned TS is not cleared");
    }

    @Test
    void lmswExitsWithSourceData() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 2); // EM owned
        t.w(CR0_READ_SHADOW, 0);
        t.cpu.gpr[Cpu.RAX] = 0x0005;      // sets PE and EM
        // lmsw ax = 0F 01 F0
        assertExit(ExitReason.CR_ACCESS, 3 << 4 | 0x0005L << 16, 3, run(0x0F, 0x01, 0xF0));
    }

    // ---- MOV DR, I/O, MSRs ----

    @Test
    void movDrExits() {
        t.primary(MOV_DR_EXITING);
        // mov dr7, rax = 0F 23 F8
        assertExit(ExitReason.DR_ACCESS, 7, 3, run(0x0F, 0x23, 0xF8));
    }

    @Test
    void ioBitmapASelectsPorts() {
        t.primary(USE_IO_BITMAPS);
        t.w(IO_BITMAP_A, IO_A);
        t.w(IO_BITMAP_B, IO_B);
        t.mem.write(IO_A + (0x3F8 >> 3), 1, 1 << (0x3F8 & 7));
        t.cpu.gpr[Cpu.RDX] = 0x3F8;
        // out dx, al = EE
        assertExit(ExitReason.IO_INSTRUCTION, 0x3F8L << 16, 1, run(0xEE));
    }

    @Test
    void ioImmediateInReportsDirectionAndEncoding() {
        t.primary(UNCONDITIONAL_IO_EXITING);
        // in eax, 0x60 = E5 60
        assertExit(ExitReason.IO_INSTRUCTION, 3 | 1 << 3 | 1 << 6 | 0x60L << 16, 2, run(0xE5, 0x60));
    }

    @Test
    void ioPortWithClearBitDoesNotExit() {
        t.primary(USE_IO_BITMAPS, UNCONDITIONAL_IO_EXITING);
        t.w(IO_BITMAP_A, IO_A);
        t.w(IO_BITMAP_B, IO_B);
        t.cpu.gpr[Cpu.RDX] = 0x80;
        // out dx, al; then cpuid to prove the guest went on
        StopReason stop = run(0xEE, 0x0F, 0xA2);
        assertEquals(StopReason.VM_EXIT, stop, t.cpu.notImplementedMessage);
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0 + 1, t.r(GUEST_RIP));
    }

    @Test
    void ioBitmapBAndWrapAround() {
        t.primary(USE_IO_BITMAPS);
        t.w(IO_BITMAP_A, IO_A);
        t.w(IO_BITMAP_B, IO_B);
        t.mem.write(IO_B, 1, 1); // port 0x8000
        launchOnly();
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.IO, 0x7FFF, 2), "2-byte access 7FFF..8000 touches B");
        t.ok(t.vmx.vmresume());
        assertDoesNotThrow(() -> intercept(Sensitive.IO, 0x7FFE, 2));
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.IO, 0xFFFF, 2), "wraps to 0000");
    }

    @Test
    void stringIoReportsLinearAddressAndInstructionInformation() {
        t.primary(UNCONDITIONAL_IO_EXITING);
        t.cpu.gpr[Cpu.RDX] = 0x3F8;
        t.cpu.gpr[Cpu.RSI] = 0x4444;
        t.cpu.gpr[Cpu.RCX] = 3;
        // rep outsb = F3 6E
        assertExit(ExitReason.IO_INSTRUCTION, 0 | 1 << 4 | 1 << 5 | 0x3F8L << 16, 2, run(0xF3, 0x6E));
        assertEquals(0x4444, t.r(GUEST_LINEAR_ADDRESS));
        assertEquals(2 << 7 | 3 << 15, t.r(VMX_INSTRUCTION_INFO), "64-bit addresses, DS");
    }

    @Test
    void msrBitmapsDecideRdmsrAndWrmsr() {
        t.primary(USE_MSR_BITMAPS);
        t.w(MSR_BITMAP, MSR_BITMAP_PAGE);
        t.mem.write(MSR_BITMAP_PAGE + 2048 + 1024 + (0x80 >> 3), 1, 1);  // write-high bitmap: C0000080 (EFER)
        t.cpu.gpr[Cpu.RCX] = 0xC0000080L;
        assertExit(ExitReason.MSR_WRITE, 0, 2, run(0x0F, 0x30));
        t.ok(t.vmx.vmresume());
        assertDoesNotThrow(() -> intercept(Sensitive.RDMSR, 0xC0000080L, 0), "read bit clear");
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.RDMSR, 0x4000_0000L, 0), "outside both ranges");
        assertEquals(ExitReason.MSR_READ.number, t.r(VM_EXIT_REASON));
    }

    @Test
    void withoutMsrBitmapsEveryRdmsrExits() {
        t.cpu.gpr[Cpu.RCX] = 0x10;
        assertExit(ExitReason.MSR_READ, 0, 2, run(0x0F, 0x32));
    }

    // ---- secondary controls ----

    @Test
    void descriptorTableExiting() {
        secondary(SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING);
        t.cpu.gpr[Cpu.RBX] = 0x30000;
        // sgdt [rbx+8] = 0F 01 43 08
        assertExit(ExitReason.GDTR_IDTR, 8, 4, run(0x0F, 0x01, 0x43, 0x08));
        int info = (int) t.r(VMX_INSTRUCTION_INFO);
        assertEquals(0, info >>> 28 & 3, "SGDT");
        assertEquals(3, info >>> 23 & 0xF, "base RBX");
    }

    @Test
    void ldtrTrExitingWithRegisterOperand() {
        secondary(SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING);
        // str ecx = 0F 00 C9
        assertExit(ExitReason.LDTR_TR, 0, 3, run(0x0F, 0x00, 0xC9));
        int info = (int) t.r(VMX_INSTRUCTION_INFO);
        assertEquals(1, info >>> 28 & 3, "STR");
        assertNotEquals(0, info & 1 << 10, "register");
        assertEquals(1, info >>> 3 & 0xF, "ECX");
    }

    @Test
    void wbinvdExiting() {
        secondary(SecondaryProcessorControl.WBINVD_EXITING);
        assertExit(ExitReason.WBINVD, 0, 2, run(0x0F, 0x09));
    }

    @Test
    void rdrandExitReportsDestination() {
        secondary(SecondaryProcessorControl.RDRAND_EXITING);
        // rdrand edx = 0F C7 F2
        assertExit(ExitReason.RDRAND, 0, 3, run(0x0F, 0xC7, 0xF2));
        assertEquals(2 << 3 | 1 << 11, t.r(VMX_INSTRUCTION_INFO), "EDX, 32-bit");
    }

    @Test
    void rdtscpIsUndefinedUnlessEnabled() {
        launchOnly();
        assertEquals(6, assertThrows(CpuFault.class, () -> intercept(Sensitive.RDTSCP, 1, 1)).vector);
    }

    @Test
    void rdtscpExitsAsRdtscpWhenEnabledAndRdtscExiting() {
        secondary(SecondaryProcessorControl.ENABLE_RDTSCP);
        t.w(CPU_BASED_VM_EXEC_CONTROL, t.r(CPU_BASED_VM_EXEC_CONTROL) | RDTSC_EXITING.mask());
        assertExit(ExitReason.RDTSCP, 0, 3, run(0x0F, 0x01, 0xF9));
    }

    // ---- events (SDM 26.2) ----

    @Test
    void exceptionBitmapSelectsExceptions() {
        t.w(EXCEPTION_BITMAP, 1 << 6);
        // ud2 = 0F 0B; a fault: the guest RIP is the faulting instruction (the length is undefined here)
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x0B));
        assertEquals(ExitReason.EXCEPTION_NMI.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
        assertEquals(0x8000_0306L, t.r(VM_EXIT_INTR_INFO), "vector 6, hardware exception, valid");
        assertEquals(0, t.r(IDT_VECTORING_INFO_FIELD) >>> 31, "not during event delivery");
    }

    @Test
    void exceptionDuringDeliveryReportsIdtVectoring() {
        t.w(EXCEPTION_BITMAP, 1 << 13);
        t.w(GUEST_IDTR_LIMIT, 0); // delivering the #UD faults on the IDT limit: #GP(IDT vector 6, EXT)
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x0B));
        assertEquals(ExitReason.EXCEPTION_NMI.number, t.r(VM_EXIT_REASON));
        assertEquals(0x8000_0B0DL, t.r(VM_EXIT_INTR_INFO), "#GP with error code");
        assertEquals(6 << 3 | 2 | 1, t.r(VM_EXIT_INTR_ERROR_CODE));
        assertEquals(0x8000_0306L, t.r(IDT_VECTORING_INFO_FIELD), "the #UD being delivered");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
    }

    @Test
    void exceptionNotInTheBitmapIsDeliveredToTheGuest() {
        t.w(EXCEPTION_BITMAP, 1 << 13);
        launchOnly();
        assertDoesNotThrow(() -> intercept(Sensitive.EVENT, 6 | 3 << 8, -1));
    }

    @Test
    void pageFaultErrorCodeMaskAndMatch() {
        t.w(EXCEPTION_BITMAP, 1 << 14);
        t.w(PAGE_FAULT_ERROR_CODE_MASK, 1 << 1);  // W bit
        t.w(PAGE_FAULT_ERROR_CODE_MATCH, 1 << 1); // only write faults exit
        launchOnly();
        assertDoesNotThrow(() -> intercept(Sensitive.EVENT, 14 | 3 << 8, 0x4));
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.EVENT, 14 | 3 << 8, 0x6));
        assertEquals(0x8000_0B0EL, t.r(VM_EXIT_INTR_INFO), "error code valid");
        assertEquals(6, t.r(VM_EXIT_INTR_ERROR_CODE));
    }

    @Test
    void nmiAndExternalInterruptExiting() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.NMI_EXITING.mask());
        launchOnly();
        assertDoesNotThrow(() -> intercept(Sensitive.EVENT, 0x30, -1), "external interrupt without exiting");
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.EVENT, 2 | 2 << 8, -1));
        assertEquals(0x8000_0202L, t.r(VM_EXIT_INTR_INFO));
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.EXTERNAL_INTERRUPT_EXITING.mask());
        t.ok(t.vmx.vmresume());
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.EVENT, 0x30, -1));
        assertEquals(ExitReason.EXTERNAL_INTERRUPT.number, t.r(VM_EXIT_REASON));
        assertEquals(0, t.r(VM_EXIT_INTR_INFO), "not acknowledged: no vector reported");
    }

    @Test
    void tripleFaultAndInitAlwaysExit() {
        launchOnly();
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.TRIPLE_FAULT, 0, 0));
        assertEquals(ExitReason.TRIPLE_FAULT.number, t.r(VM_EXIT_REASON));
        t.ok(t.vmx.vmresume());
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.INIT, 0, 0));
        assertEquals(ExitReason.INIT_SIGNAL.number, t.r(VM_EXIT_REASON));
    }

    // ---- boundary exits ----

    @Test
    void interruptWindowExitsWhenIfIsSet() {
        t.primary(INTERRUPT_WINDOW_EXITING);
        t.w(GUEST_RFLAGS, 0x202);
        StopReason stop = run(0x90);
        assertEquals(StopReason.VM_EXIT, stop);
        assertEquals(ExitReason.INTERRUPT_WINDOW.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP), "before the first instruction");
    }

    @Test
    void interruptWindowWaitsWhileIfIsClear() {
        t.primary(INTERRUPT_WINDOW_EXITING, HLT_EXITING);
        // sti; nop; -> the window opens after the STI shadow
        StopReason stop = run(0xFB, 0x90, 0xF4);
        assertEquals(StopReason.VM_EXIT, stop);
        assertEquals(ExitReason.INTERRUPT_WINDOW.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0 + 2, t.r(GUEST_RIP), "after STI's blocking ended");
    }

    @Test
    void monitorTrapFlagExitsAfterOneInstruction() {
        t.primary(MONITOR_TRAP_FLAG);
        StopReason stop = run(0x90, 0x90);
        assertEquals(StopReason.VM_EXIT, stop);
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0 + 1, t.r(GUEST_RIP), "trap-like: the next instruction");
    }

    @Test
    void preemptionTimerZeroExitsBeforeTheFirstInstruction() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.mask());
        t.w(VMX_PREEMPTION_TIMER_VALUE, 0);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.PREEMPTION_TIMER.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
    }

    @Test
    void preemptionTimerCountsRetiredInstructions() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.mask());
        int rate = t.caps.preemptionTimerRate();
        t.w(VMX_PREEMPTION_TIMER_VALUE, 2);
        int[] nops = new int[(4 << rate) + 8];
        java.util.Arrays.fill(nops, 0x90);
        for (int k = 0; k < nops.length; k++) t.mem.write(GUEST_RIP0 + k, 1, 0x90);
        t.launch();
        assertEquals(StopReason.VM_EXIT, t.cpu.run(nops.length), t.cpu.notImplementedMessage);
        assertEquals(ExitReason.PREEMPTION_TIMER.number, t.r(VM_EXIT_REASON));
        long ran = t.r(GUEST_RIP) - GUEST_RIP0;
        assertTrue(ran >= (1L << rate) && ran <= (3L << rate), "ran " + ran + " instructions for 2 ticks of 2^" + rate);
    }

    @Test
    void nmiWindowExitsWithoutVirtualNmiBlocking() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.NMI_EXITING.mask()
                | PinBasedControl.VIRTUAL_NMIS.mask());
        t.primary(NMI_WINDOW_EXITING);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.NMI_WINDOW.number, t.r(VM_EXIT_REASON));
    }

    @Test
    void nmiWindowWaitsWhileVirtualNmisAreBlocked() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.NMI_EXITING.mask()
                | PinBasedControl.VIRTUAL_NMIS.mask());
        t.primary(NMI_WINDOW_EXITING);
        t.w(GUEST_INTERRUPTIBILITY_INFO, 1 << 3); // virtual-NMI blocking
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0xA2));
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(1 << 3, t.r(GUEST_INTERRUPTIBILITY_INFO), "blocking saved");
    }

    @Test
    void monitorTrapFlagAfterInjectingANonSoftwareEvent() {
        long idt = 0x30000, handler = 0x11000;
        t.mem.write(idt + 16 * 0x20, 8, (handler & 0xFFFF) | 0x08L << 16 | 0x8EL << 40 | (handler >>> 16 & 0xFFFF) << 48);
        t.w(GUEST_IDTR_BASE, idt);
        t.w(GUEST_RFLAGS, 0x202);
        t.primary(MONITOR_TRAP_FLAG);
        t.w(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0020L);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(handler, t.r(GUEST_RIP), "exit right after delivery, before the handler's first instruction");
    }

    @Test
    void getsecAndTaskSwitchAlwaysExit() {
        launchOnly();
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.GETSEC, 0, 0));
        assertEquals(ExitReason.GETSEC.number, t.r(VM_EXIT_REASON));
        t.ok(t.vmx.vmresume());
        assertThrows(VmExitSignal.class, () -> intercept(Sensitive.TASK_SWITCH, 0x28, 2));
        assertEquals(ExitReason.TASK_SWITCH.number, t.r(VM_EXIT_REASON));
        assertEquals(0x28 | 2L << 30, t.r(EXIT_QUALIFICATION), "JMP to TSS 0x28");
    }

    @Test
    void movFromCr3ExitsInGuestCode() {
        t.primary(CR3_STORE_EXITING);
        // mov rax, cr3 = 0F 20 D8
        assertExit(ExitReason.CR_ACCESS, 3 | 1 << 4, 3, run(0x0F, 0x20, 0xD8));
    }

    @Test
    void tripleFaultInTheGuestExits() {
        t.w(GUEST_IDTR_LIMIT, 0); // #UD -> #GP -> #DF -> triple fault, nothing is deliverable
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x0B));
        assertEquals(ExitReason.TRIPLE_FAULT.number, t.r(VM_EXIT_REASON));
        assertFalse(t.cpu.nonRoot);
    }

    @Test
    void guestMovToCr0KeepsHostOwnedBitsAndReadsTheShadow() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 5);        // NE owned by the host (fixed to 1 in VMX operation)
        t.w(CR0_READ_SHADOW, 0);                   // the guest believes NE = 0
        t.cpu.gpr[Cpu.RDX] = CR0 & ~(1L << 5);
        // mov cr0, rdx; mov rax, cr0; cpuid
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x22, 0xC2, 0x0F, 0x20, 0xC0, 0x0F, 0xA2), t.cpu.notImplementedMessage);
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(CR0, t.r(GUEST_CR0), "real NE stayed 1");
        assertEquals(CR0 & ~(1L << 5), t.cpu.gpr[Cpu.RAX], "the guest reads NE = 0 from the shadow");
    }

    @Test
    void guestCltsLeavesHostOwnedTs() {
        t.w(CR0_GUEST_HOST_MASK, 1L << 3);
        t.w(CR0_READ_SHADOW, 0);
        t.w(GUEST_CR0, CR0 | 1L << 3);
        // clts; cpuid
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x06, 0x0F, 0xA2), t.cpu.notImplementedMessage);
        assertEquals(ExitReason.CPUID.number, t.r(VM_EXIT_REASON));
        assertEquals(CR0 | 1L << 3, t.r(GUEST_CR0), "TS still set");
    }

    @Test
    void tprShadowVirtualizesCr8AndExitsBelowTheThreshold() {
        long vapic = 0x32000;
        t.mem.write(vapic + 0x80, 4, 0x50);
        t.primary(USE_TPR_SHADOW);
        t.w(VIRTUAL_APIC_PAGE_ADDR, vapic);
        t.w(TPR_THRESHOLD, 3);
        t.cpu.gpr[Cpu.RCX] = 2;
        // mov rax, cr8; mov cr8, rcx (VTPR 2 < threshold 3); nop
        assertEquals(StopReason.VM_EXIT, run(0x44, 0x0F, 0x20, 0xC0, 0x44, 0x0F, 0x22, 0xC1, 0x90), t.cpu.notImplementedMessage);
        assertEquals(ExitReason.TPR_BELOW_THRESHOLD.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0 + 8, t.r(GUEST_RIP), "trap-like: after the MOV to CR8");
        assertEquals(5, t.cpu.gpr[Cpu.RAX], "MOV from CR8 reads VTPR[7:4]");
        assertEquals(0x20, t.mem.read(vapic + 0x80, 4));
        assertEquals(0, t.cpu.cr8, "the real TPR is untouched");
    }

    @Test
    void faultDuringSoftwareInterruptDeliveryReportsTheInstruction() {
        t.w(EXCEPTION_BITMAP, 1 << 13);
        t.w(GUEST_IDTR_LIMIT, 0x7F); // vector 0x80 lies beyond the IDT limit: #GP during INT 80h
        assertEquals(StopReason.VM_EXIT, run(0x90, 0xCD, 0x80)); // nop; int 0x80
        assertEquals(0x8000_0B0DL, t.r(VM_EXIT_INTR_INFO));
        assertEquals(0x80 << 3 | 2, t.r(VM_EXIT_INTR_ERROR_CODE), "IDT bit, vector 0x80, EXT clear for INT n");
        assertEquals(0x8000_0480L, t.r(IDT_VECTORING_INFO_FIELD), "software interrupt 0x80 being delivered");
        assertEquals(GUEST_RIP0 + 1, t.r(GUEST_RIP), "RIP of the INT instruction");
        assertEquals(2, t.r(VM_EXIT_INSTRUCTION_LEN));
    }

    @Test
    void rdseedExitReportsDestinationAndSize() {
        secondary(SecondaryProcessorControl.RDSEED_EXITING);
        // rdseed rdx = 48 0F C7 FA
        assertExit(ExitReason.RDSEED, 0, 4, run(0x48, 0x0F, 0xC7, 0xFA));
        assertEquals(2 << 3 | 2 << 11, t.r(VMX_INSTRUCTION_INFO), "RDX, 64-bit");
    }

    @Test
    void interruptWindowWakesAHaltedGuest() {
        t.primary(INTERRUPT_WINDOW_EXITING);
        t.w(GUEST_RFLAGS, 0x202);
        t.w(GUEST_ACTIVITY_STATE, 1);
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.INTERRUPT_WINDOW.number, t.r(VM_EXIT_REASON));
        assertEquals(1, t.r(GUEST_ACTIVITY_STATE), "the guest was halted");
        assertEquals(0, t.cpu.activityState, "the host runs");
    }

    @Test
    void everyVmxInstructionExitsInNonRootOperation() {
        java.util.Map<lhv.cpu.intercept.VmxInstruction, ExitReason> expected = new java.util.EnumMap<>(lhv.cpu.intercept.VmxInstruction.class);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMCALL, ExitReason.VMCALL);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMCLEAR, ExitReason.VMCLEAR);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMLAUNCH, ExitReason.VMLAUNCH);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMPTRLD, ExitReason.VMPTRLD);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMPTRST, ExitReason.VMPTRST);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMREAD, ExitReason.VMREAD);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMRESUME, ExitReason.VMRESUME);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMWRITE, ExitReason.VMWRITE);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMXOFF, ExitReason.VMOFF);
        expected.put(lhv.cpu.intercept.VmxInstruction.VMXON, ExitReason.VMON);
        boolean first = true;
        for (var e : expected.entrySet()) {
            if (first) launchOnly(); else t.ok(t.vmx.vmresume());
            first = false;
            lhv.cpu.decode.Insn insn = new lhv.cpu.decode.Insn();
            insn.hasModrm = true;
            insn.mem = true;
            insn.base = Cpu.RBX;
            insn.index = lhv.cpu.decode.Insn.NO_REG;
            insn.seg = lhv.cpu.Segment.DS;
            insn.addrSize = 8;
            insn.disp = 0x40;
            insn.length = 5;
            t.cpu.instructionStart = GUEST_RIP0;
            t.cpu.rip = GUEST_RIP0 + 5;
            assertThrows(VmExitSignal.class, () -> t.vmx.execute(t.cpu, e.getKey(), insn), e.getKey().name());
            assertEquals(e.getValue().number, t.r(VM_EXIT_REASON), e.getKey().name());
            assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
            assertEquals(5, t.r(VM_EXIT_INSTRUCTION_LEN));
        }
        t.ok(t.vmx.vmresume());
        for (var undefined : new lhv.cpu.intercept.VmxInstruction[]{lhv.cpu.intercept.VmxInstruction.INVEPT,
                lhv.cpu.intercept.VmxInstruction.INVVPID, lhv.cpu.intercept.VmxInstruction.VMFUNC}) {
            assertEquals(6, assertThrows(CpuFault.class, () -> t.vmx.execute(t.cpu, undefined, new lhv.cpu.decode.Insn())).vector);
        }
    }

    @Test
    void injectingOtherEventZeroMakesAnMtfExitPending() {
        t.w(VM_ENTRY_INTR_INFO_FIELD, 0x8000_0700L); // type 7, vector 0: pending MTF, even with MTF off
        assertEquals(StopReason.VM_EXIT, run(0x90));
        assertEquals(ExitReason.MONITOR_TRAP_FLAG.number, t.r(VM_EXIT_REASON));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP), "before the first instruction");
    }

    @Test
    void farJumpToATssExitsAsTaskSwitch() {
        // a 32-bit protected-mode guest (task switches do not exist in IA-32e mode) with 4 MiB paging
        long pd = 0x34000;
        t.mem.write(pd, 4, 0x83);                               // 0-4 MiB, PS, RW, P
        t.mem.write(GDT + 0x20, 8, 0x0000_8904_0000_0067L);     // available 32-bit TSS at 0x40000
        t.mem.write(GDT + 0x28, 8, 0x00CF_9B00_0000_FFFFL);     // 32-bit code
        t.w(VM_ENTRY_CONTROLS, t.caps.mustBeOne(ControlWord.ENTRY));
        t.w(GUEST_CR3, pd);
        t.w(GUEST_CR4, lhv.cpu.Cr.CR4_VMXE | lhv.cpu.Cr.CR4_PSE);
        t.w(GUEST_CS_SELECTOR, 0x28);
        t.w(GUEST_CS_AR_BYTES, 0xC09B);
        t.w(GUEST_GDTR_LIMIT, 0x2F);
        // jmp far 0x20:0 = EA 00 00 00 00 20 00
        StopReason stop = run(0xEA, 0, 0, 0, 0, 0x20, 0);
        assertEquals(StopReason.VM_EXIT, stop, t.cpu.notImplementedMessage);
        assertEquals(ExitReason.TASK_SWITCH.number, t.r(VM_EXIT_REASON));
        assertEquals(0x20 | 2L << 30, t.r(EXIT_QUALIFICATION), "JMP to TSS selector 0x20");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
        assertEquals(7, t.r(VM_EXIT_INSTRUCTION_LEN));
        assertEquals(0x28, t.r(GUEST_CS_SELECTOR), "no part of the switch happened");
    }

    @Test
    void preemptionTimerExpiresWhileTheGuestIsHalted() {
        t.w(PIN_BASED_VM_EXEC_CONTROL, t.caps.mustBeOne(ControlWord.PIN_BASED) | PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.mask());
        t.w(VM_EXIT_CONTROLS, t.r(VM_EXIT_CONTROLS) | lhv.vmx.controls.ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask());
        t.w(VMX_PREEMPTION_TIMER_VALUE, 3);
        long before = t.cpu.tsc();
        assertEquals(StopReason.VM_EXIT, run(0xF4)); // hlt
        assertEquals(ExitReason.PREEMPTION_TIMER.number, t.r(VM_EXIT_REASON));
        assertEquals(1, t.r(GUEST_ACTIVITY_STATE), "still halted");
        assertEquals(GUEST_RIP0 + 1, t.r(GUEST_RIP), "after the HLT");
        assertEquals(0, t.r(VMX_PREEMPTION_TIMER_VALUE));
        int rate = t.caps.preemptionTimerRate();
        assertTrue((t.cpu.tsc() >>> rate) - (before >>> rate) >= 3, "virtual time advanced by the 3 ticks");
    }
}
