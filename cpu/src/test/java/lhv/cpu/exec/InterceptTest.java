package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.StopReason;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.Virtualization;
import lhv.cpu.intercept.VmExitSignal;
import lhv.cpu.intercept.VmxInstruction;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The interpreter's side of VMX non-root operation: sensitive instructions consult the VMX layer
 * before they execute, with the arguments Sensitive documents; faults that the SDM orders before
 * the VM exit (SDM Vol. 3C 26.1.1) come first; a VmExitSignal ends the instruction; VMX
 * instructions are handed over with their decoded operands.
 */
class InterceptTest {

    /** A VMX layer that records calls and optionally exits or transforms values. */
    static class Recorder implements Virtualization {
        final List<String> calls = new ArrayList<>();
        Sensitive exitOn;
        long transform = Long.MIN_VALUE;
        Insn lastInsn;
        long lastEa;

        @Override public void execute(Cpu cpu, VmxInstruction which, Insn insn) {
            lastInsn = insn;
            lastEa = insn.mem ? cpu.interpreter.effectiveAddress(insn) : -1;
            calls.add(which.name());
        }

        @Override public long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
            calls.add(String.format("%s %x %x", what, a, b));
            if (what == exitOn) throw VmExitSignal.TO_JAVA;
            if (transform != Long.MIN_VALUE) return transform;
            // Sensitive's contract: LMSW returns the operand to load, CLTS 1 to clear TS, others b.
            return what == Sensitive.LMSW ? a : what == Sensitive.CLTS ? 1 : b;
        }

        @Override public void atBoundary(Cpu cpu) {
            calls.add("boundary");
        }
    }

    private static Guest nonRoot(Recorder r, String code) {
        Guest g = Guest.long64WithIdt().code(code);
        g.cpu.vmx = r;
        g.cpu.nonRoot = true;
        return g;
    }

    @Test
    void cpuidAsksFirstWithEaxAndEcx() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "b80700000031c90fa2f4");              // mov eax,7; xor ecx,ecx; cpuid; hlt
        r.exitOn = Sensitive.CPUID;
        assertEquals(StopReason.VM_EXIT, g.run());
        assertEquals(List.of("CPUID 7 0"), r.calls);
        assertEquals(Guest.CODE + 7, g.cpu.instructionStart, "the exit belongs to the CPUID instruction");
        assertEquals(7, g.reg(Cpu.RAX), "CPUID did not execute");
    }

    @Test
    void rdtscValueComesFromTheVmxLayer() {
        Recorder r = new Recorder();
        r.transform = 0x1122334455667788L;
        Guest g = nonRoot(r, "0f31f4");                            // rdtsc; hlt
        g.runToHalt();
        assertEquals(0x55667788L, g.reg(Cpu.RAX));
        assertEquals(0x11223344L, g.reg(Cpu.RDX));
        assertTrue(r.calls.get(0).startsWith("RDTSC 0 0"));
    }

    @Test
    void movFromCrIsTransformedAndMovToCrPassesTheValue() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "0f20d80f22d8f4");                    // mov rax,cr3; mov cr3,rax; hlt
        g.runToHalt();
        assertEquals("CR_READ 3 " + Long.toHexString(Guest.PML4), r.calls.get(0));
        assertEquals("CR_WRITE 3 " + Long.toHexString(Guest.PML4), r.calls.get(1));
    }

    @Test
    void privilegeFaultComesBeforeTheExit() {
        Recorder r = new Recorder();
        r.exitOn = Sensitive.CR_READ;
        Guest g = nonRoot(r, "0f20d8f4");
        g.cpu.cpl = 3;
        CpuFault f = g.runToFault();
        assertEquals(13, f.vector);
        assertTrue(r.calls.isEmpty(), "no VMX consultation for a #GP at CPL 3: " + r.calls);
    }

    @Test
    void ioInterceptCarriesPortSizeAndDirection() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "66baf803ece780f4");                  // mov dx,0x3f8; in al,dx; out 0x80,eax; hlt
        g.runToHalt();
        assertEquals(List.of("IO 3f8 101", "IO 80 4", "HLT 0 0"), r.calls);
    }

    @Test
    void rdmsrAndHlt() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "b9800000c00f32f4");                  // mov ecx,0xc0000080; rdmsr; hlt
        r.exitOn = Sensitive.HLT;
        assertEquals(StopReason.VM_EXIT, g.run());
        assertEquals(List.of("RDMSR c0000080 0", "HLT 0 0"), r.calls);
        assertEquals(0, g.cpu.activityState, "HLT did not execute");
    }

    @Test
    void descriptorTableAccessIdentity() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "0f0106f4");                          // sgdt [rsi]; hlt
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.runToHalt();
        assertEquals(List.of("DESCRIPTOR_TABLE 0 0", "HLT 0 0"), r.calls);
        assertEquals(23, g.ram.b(Guest.DATA));
        assertEquals(Guest.GDT, g.ram.q(Guest.DATA + 2));
    }

    @Test
    void vmxInstructionsGoToExecuteWithTheirOperands() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "0fc77608f4");                        // vmptrld [rsi+8]; hlt
        g.cpu.nonRoot = false;
        g.cpu.gpr[Cpu.RSI] = 0x3000;
        g.runToHalt();
        assertEquals(List.of("VMPTRLD"), r.calls);
        assertEquals(0x3008, r.lastEa);
        assertEquals(4, r.lastInsn.length);
    }

    @Test
    void boundaryWorkRunsBetweenInstructions() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "909090f4");
        g.cpu.boundaryWork = true;
        g.runToHalt();
        // before each of the four instructions, and once more at the boundary after HLT
        assertEquals(5, r.calls.stream().filter("boundary"::equals).count());
    }

    @Test
    void controlAndDebugRegisterFamilyArguments() {
        // lmsw ax; smsw rbx; clts; invlpg [rsi+10h]; mov rcx,dr7; mov dr0,rdx; pause; wbinvd; hlt
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "0f01f0480f01e30f060f017e100f21f90f23c2f3900f09f4");
        g.cpu.gpr[Cpu.RAX] = 0x33;
        g.cpu.gpr[Cpu.RSI] = 0x200000;
        long cr0 = g.cpu.cr0;
        g.runToHalt();
        assertEquals(List.of("LMSW 33 ffffffffffffffff", "SMSW 0 " + Long.toHexString(cr0 | 2), "CLTS 0 0",
                "INVLPG 200010 0", "MOV_DR 7 1", "MOV_DR 0 0", "PAUSE 0 0", "WBINVD 0 0", "HLT 0 0"), r.calls);
    }

    @Test
    void valuesReturnedForWritesAreWhatGetsWritten() {
        // mov rax,cr3; mov cr3,rax -- the VMX layer substitutes the value written (host-owned bits)
        Recorder r = new Recorder() {
            @Override public long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
                super.intercept(cpu, what, insn, a, b);
                return what == Sensitive.CR_WRITE ? 0x8000 : b;
            }
        };
        Guest g = nonRoot(r, "0f20d80f22d8f4");
        g.ram.q(0x8000, Guest.PDPT | 7);                             // a copy of the PML4 at 0x8000
        g.runToHalt();
        assertEquals(0x8000, g.cpu.cr3);
    }

    @Test
    void lmswWithAMemoryOperandReportsItsLinearAddress() {
        Recorder r = new Recorder();
        Guest g = nonRoot(r, "0f0136f4");                           // lmsw [rsi]
        g.cpu.gpr[Cpu.RSI] = 0x200000;
        g.ram.b(0x200000, 0x31);
        g.runToHalt();
        assertEquals("LMSW 31 200000", r.calls.get(0));
    }

    @Test
    void withoutVmxTheInstructionsAreUndefined() {
        Guest g = Guest.long64().code("0f78d8f4");                 // vmread rax, rbx
        assertEquals(6, g.runToFault().vector);
    }
}
