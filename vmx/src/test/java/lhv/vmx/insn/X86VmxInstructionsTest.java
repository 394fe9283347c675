package lhv.vmx.insn;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.VmxInstruction;
import lhv.vmx.VmxTestbed;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The VMX instructions executed as x86 code by the interpreter (SDM Vol. 3C 31.3): operands from
 * registers and memory, RFLAGS results of VMsucceed/VMfailInvalid/VMfailValid, and a hypervisor
 * written in x86 code that launches a guest and continues at HOST_RIP after its VM exit.
 */
class X86VmxInstructionsTest {
    private static final long CODE = 0x21000, DATA = 0x22000;
    private final VmxTestbed t = new VmxTestbed();

    private void code(long at, int... bytes) {
        for (int k = 0; k < bytes.length; k++) t.mem.write(at + k, 1, bytes[k]);
    }

    /** Runs {@code n} instructions of root code starting at CODE. */
    private StopReason runRoot(int n) {
        t.cpu.rip = CODE;
        return t.cpu.run(n);
    }

    private long flags() {
        return t.cpu.getRflags() & Rflags.STATUS;
    }

    @Test
    void x86HypervisorLaunchesAGuestAndContinuesAtHostRip() {
        // Java prepares a valid VMCS in memory, then leaves VMX operation; x86 code does the rest.
        t.inVmxRootWithVmcs().validVmcs();
        t.ok(t.vmx.vmxoff());
        t.mem.write(DATA, 8, VMXON);
        t.mem.write(DATA + 8, 8, VMCS);
        t.cpu.gpr[Cpu.RAX] = DATA;
        t.cpu.gpr[Cpu.RBX] = DATA + 8;
        code(CODE, 0xF3, 0x0F, 0xC7, 0x30,      // vmxon [rax]
                0x0F, 0xC7, 0x33,                 // vmptrld [rbx]
                0x0F, 0x01, 0xC2,                 // vmlaunch
                0xF4);                            // hlt (only if VMLAUNCH failed)
        code(GUEST_RIP0, 0x0F, 0xA2);            // guest: cpuid
        code(HOST_RIP0, 0xBA, 0x02, 0x44, 0x00, 0x00,  // mov edx, 0x4402 (exit reason)
                0x0F, 0x78, 0xD0,                 // vmread rax, rdx
                0xF4);                            // hlt
        assertEquals(StopReason.HALTED, runRoot(20), t.cpu.notImplementedMessage);
        assertEquals(HOST_RIP0 + 9, t.cpu.rip, "halted in the host code after the exit");
        assertEquals(ExitReason.CPUID.number, t.cpu.gpr[Cpu.RAX]);
        assertFalse(t.cpu.nonRoot);
        assertTrue(t.vmx.vmcs.isLaunched());
    }

    @Test
    void vmfailInvalidSetsCfAndVmfailValidSetsZfWithTheErrorNumber() {
        t.mem.write(DATA, 8, VMXON);
        t.mem.write(DATA + 8, 8, VMCS);
        t.cpu.gpr[Cpu.RAX] = DATA;
        t.cpu.gpr[Cpu.RBX] = DATA + 8;
        t.cpu.setRflags(Rflags.FIXED1 | Rflags.STATUS);
        code(CODE, 0xF3, 0x0F, 0xC7, 0x30,      // vmxon [rax]      -> VMsucceed
                0xF3, 0x0F, 0xC7, 0x30,          // vmxon [rax]      -> VMfailInvalid (no current VMCS)
                0x0F, 0xC7, 0x33,                 // vmptrld [rbx]
                0xF3, 0x0F, 0xC7, 0x30,          // vmxon [rax]      -> VMfailValid(15)
                0x0F, 0x01, 0xC1);                // vmcall           -> VMfailValid(1)
        t.cpu.rip = CODE;
        t.cpu.run(1);
        assertEquals(0, flags(), "VMsucceed clears CF, PF, AF, ZF, SF, OF");
        t.cpu.run(1);
        assertEquals(Rflags.CF, flags(), "VMfailInvalid");
        t.cpu.run(2);
        assertEquals(Rflags.ZF, flags(), "VMfailValid");
        assertEquals(15, t.vmx.vmcs.read(VmcsField.VM_INSTRUCTION_ERROR));
        t.cpu.run(1);
        assertEquals(Rflags.ZF, flags());
        assertEquals(1, t.vmx.vmcs.read(VmcsField.VM_INSTRUCTION_ERROR), "VMCALL in VMX root operation");
    }

    @Test
    void vmwriteVmreadVmptrstWithMemoryOperands() {
        t.inVmxRootWithVmcs();
        t.mem.write(DATA, 8, 0x1234_5678_9ABCL);
        t.cpu.gpr[Cpu.RSI] = DATA;
        t.cpu.gpr[Cpu.RDX] = VmcsField.GUEST_RIP.encoding;
        code(CODE, 0x0F, 0x79, 0x16,             // vmwrite rdx, [rsi]
                0x0F, 0x78, 0x56, 0x10,           // vmread [rsi+0x10], rdx
                0x0F, 0xC7, 0x7E, 0x20);          // vmptrst [rsi+0x20]
        assertEquals(StopReason.INSTRUCTION_LIMIT, runRoot(3), t.cpu.notImplementedMessage);
        assertEquals(0x1234_5678_9ABCL, t.r(VmcsField.GUEST_RIP));
        assertEquals(0x1234_5678_9ABCL, t.mem.read(DATA + 0x10, 8));
        assertEquals(VMCS, t.mem.read(DATA + 0x20, 8));
        assertEquals(0, flags());
    }

    @Test
    void vmreadOfAnUnsupportedFieldFailsValid12AndLeavesTheDestination() {
        t.inVmxRootWithVmcs();
        t.cpu.gpr[Cpu.RDX] = 0x1_0000_0000L | VmcsField.GUEST_RIP.encoding; // bits 63:32 set
        t.cpu.gpr[Cpu.RAX] = 77;
        code(CODE, 0x0F, 0x78, 0xD0);             // vmread rax, rdx
        runRoot(1);
        assertEquals(Rflags.ZF, flags());
        assertEquals(12, t.vmx.vmcs.read(VmcsField.VM_INSTRUCTION_ERROR));
        assertEquals(77, t.cpu.gpr[Cpu.RAX]);
    }

    // ---- fault conditions, checked on the instruction directly ----

    private Insn registerForm(int reg, int rm) {
        Insn i = new Insn();
        i.hasModrm = true;
        i.mod = 3;
        i.reg = reg;
        i.rm = rm;
        i.mem = false;
        i.length = 3;
        i.addrSize = 8;
        i.opSize = 8;
        i.base = Insn.NO_REG;
        i.index = Insn.NO_REG;
        return i;
    }

    private int fault(VmxInstruction which, Insn insn) {
        return assertThrows(CpuFault.class, () -> t.vmx.execute(t.cpu, which, insn)).vector;
    }

    @Test
    void undefinedOutsideVmxOperationOrWithRegisterOperandsOrInCompatibilityMode() {
        assertEquals(6, fault(VmxInstruction.VMXOFF, registerForm(0, 0)), "outside VMX operation");
        assertEquals(6, fault(VmxInstruction.VMCALL, registerForm(0, 0)), "VMCALL outside VMX operation");
        t.inVmxRootWithVmcs();
        assertEquals(6, fault(VmxInstruction.VMCLEAR, registerForm(0, 1)), "VMCLEAR needs a memory operand");
        assertEquals(6, fault(VmxInstruction.VMXON, registerForm(0, 1)));
        assertEquals(6, fault(VmxInstruction.INVEPT, registerForm(0, 1)), "EPT not offered");
        assertEquals(6, fault(VmxInstruction.INVVPID, registerForm(0, 1)), "VPID not offered");
        assertEquals(6, fault(VmxInstruction.VMFUNC, registerForm(0, 0)));
        t.cpu.seg[Segment.CS].setAttributes(0xC09B); // L = 0 with EFER.LMA = 1: compatibility mode
        t.cpu.stateChanged();
        assertEquals(6, fault(VmxInstruction.VMLAUNCH, registerForm(0, 0)));
        assertEquals(6, fault(VmxInstruction.VMCALL, registerForm(0, 0)));
    }

    @Test
    void cplAboveZeroIsGp() {
        t.inVmxRootWithVmcs();
        t.cpu.cpl = 3;
        assertEquals(13, fault(VmxInstruction.VMXOFF, registerForm(0, 0)));
        assertEquals(13, fault(VmxInstruction.VMREAD, registerForm(0, 1)));
        assertEquals(13, fault(VmxInstruction.VMCALL, registerForm(0, 0)));
    }

    @Test
    void vmreadVmwriteUse32BitOperandsOutside64BitMode() {
        t.inVmxRootWithVmcs();
        t.cpu.setEfer(t.cpu.efer & ~Cr.EFER_LMA);                 // legacy protected mode
        t.cpu.seg[Segment.CS].setAttributes(0xC09B);
        t.cpu.stateChanged();
        assertEquals(lhv.cpu.Mode.PROTECTED, t.cpu.mode);
        t.cpu.gpr[Cpu.RDX] = 0xFFFF_FFFF_0000_0000L | VmcsField.GUEST_RSP.encoding; // high half ignored
        t.cpu.gpr[Cpu.RAX] = 0xAAAA_BBBB_CCCC_DDDDL;
        t.vmx.execute(t.cpu, VmxInstruction.VMWRITE, registerForm(2, 0));
        assertEquals(0, flags());
        assertEquals(0xCCCC_DDDDL, t.r(VmcsField.GUEST_RSP), "32-bit source");
        t.vmx.vmcs.write(VmcsField.GUEST_RSP, 0x1_2345_6789L);
        t.vmx.execute(t.cpu, VmxInstruction.VMREAD, registerForm(2, 3));
        assertEquals(0x2345_6789L, t.cpu.gpr[Cpu.RBX], "32-bit destination");
    }
}
