package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Msr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static lhv.cpu.sys.SysFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/** Far JMP/CALL/RET, call gates, IRET and the fast system calls (SDM Vol. 2, Vol. 3A 5.8, 6.14.3). */
class FarTransferTest {
    static final int GATE_SEL = 0x80;
    final SysFixture f = new SysFixture();
    final Cpu cpu = f.cpu;

    void extendGdt() {
        cpu.setGdtr(cpu.gdtrBase, 0x8F);
    }

    @Test
    void realModeFarCallAndReturn() {
        cpu.seg[Segment.CS].loadReal(0x100);
        cpu.seg[Segment.SS].loadReal(0);
        cpu.gpr[Cpu.RSP] = 0x7000;
        cpu.rip = 0x10;
        cpu.sys.farCall(0x2000, 0x30, 2);
        assertEquals(0x20000, cpu.seg[Segment.CS].base);
        assertEquals(0x30, cpu.rip);
        assertEquals(0x6FFC, cpu.gpr[Cpu.RSP]);
        assertEquals(0x0100_0010, f.ram.d(0x6FFC));
        cpu.sys.farReturn(2, 4);
        assertEquals(0x1000, cpu.seg[Segment.CS].base);
        assertEquals(0x10, cpu.rip);
        assertEquals(0x7004, cpu.gpr[Cpu.RSP]);
    }

    @Test
    void realModeIretRestoresFlags() {
        cpu.seg[Segment.SS].loadReal(0);
        cpu.gpr[Cpu.RSP] = 0x7000;
        f.ram.d(0x7000, 0x0200_0040);               // IP 0x40, CS 0x200
        f.ram.d(0x7004, (int) (Rflags.IF | Rflags.CF));
        cpu.sys.iret(2);
        assertEquals(0x2000, cpu.seg[Segment.CS].base);
        assertEquals(0x40, cpu.rip);
        assertEquals(Rflags.IF | Rflags.CF | Rflags.FIXED1, cpu.getRflags());
    }

    @Test
    void directTransferPrivilegeRules() {
        f.protected32(3);
        assertEquals(CODE32, assertThrows(CpuFault.class, () -> cpu.sys.farJump(CODE32, 0x1000, 4)).errorCode);
        cpu.sys.farJump(CONF_CODE, 0x1000, 4);
        assertEquals(CONF_CODE | 3, cpu.seg[Segment.CS].selector, "conforming code keeps CPL");
        assertEquals(3, cpu.cpl);
        f.protected32(0);
        assertEquals(0, assertThrows(CpuFault.class, () -> cpu.sys.farJump(CODE16, 0x10000, 4)).errorCode,
                "offset beyond the limit is #GP(0)");
        cpu.sys.farJump(CODE16, 0x1234, 4);
        assertEquals(0x1234, cpu.rip);
        assertFalse(cpu.seg[Segment.CS].big());
    }

    @Test
    void callGateToInnerPrivilegeCopiesParameters() {
        extendGdt();
        f.ram.q(GDT + GATE_SEL, gate(CODE32, 0x7000, 0xC, 3, 2));   // 32-bit call gate, 2 parameters
        f.protected32(3);
        f.ram.d(TSS + 4, 0x8000);
        f.ram.d(TSS + 8, DATA32);
        cpu.gpr[Cpu.RSP] = 0x9000;
        f.ram.d(0x9000, 0x11);
        f.ram.d(0x9004, 0x22);
        cpu.rip = 0x4321;
        cpu.sys.farCall(GATE_SEL | 3, 0, 4);
        assertEquals(0, cpu.cpl);
        assertEquals(0x7000, cpu.rip);
        long[] sp = {cpu.gpr[Cpu.RSP]};
        assertEquals(0x8000 - 24, sp[0]);
        assertEquals(0x4321, f.pop32(sp));
        assertEquals(CODE32_U, f.pop32(sp));
        assertEquals(0x11, f.pop32(sp));
        assertEquals(0x22, f.pop32(sp));
        assertEquals(0x9000, f.pop32(sp));
        assertEquals(DATA32_U, f.pop32(sp));
        // RET 8 back to CPL 3 releases the parameters on both stacks.
        cpu.sys.farReturn(4, 8);
        assertEquals(3, cpu.cpl);
        assertEquals(0x4321, cpu.rip);
        assertEquals(0x9008, cpu.gpr[Cpu.RSP]);
        assertEquals(DATA32_U, cpu.seg[Segment.SS].selector);
    }

    @Test
    void returnToOuterPrivilegeNullsMorePrivilegedDataSegments() {
        f.protected32(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        f.ram.d(0x8000, 0x1000);
        f.ram.d(0x8004, CODE32_U);
        f.ram.d(0x8008, 0x9000);
        f.ram.d(0x800C, DATA32_U);
        cpu.sys.farReturn(4, 0);
        assertEquals(3, cpu.cpl);
        assertTrue(cpu.seg[Segment.DS].unusable(), "DS had DPL 0");
        assertEquals(0, cpu.seg[Segment.DS].selector);
    }

    @Test
    void compatibilityToLongModeByFarJump() {
        f.long64(0);
        cpu.seg[Segment.CS].set(CODE32, 0, 0xFFFFFFFF, 0xC09B);
        cpu.stateChanged();
        assertEquals(Mode.COMPATIBILITY, cpu.mode);
        cpu.sys.farJump(CODE64, 0x2000, 4);
        assertEquals(Mode.LONG64, cpu.mode);
    }

    @Test
    void sixtyFourBitCallGate() {
        extendGdt();
        f.long64(3);
        f.ram.q(GDT + GATE_SEL, gate(CODE64, 0x3000, 0xC, 3, 0));
        f.ram.q(GDT + GATE_SEL + 8, 0);
        f.ram.q(TSS + 4, 0x8000);
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.rip = 0x1234;
        cpu.sys.farCall(GATE_SEL | 3, 0, 8);
        assertEquals(0, cpu.cpl);
        assertEquals(0x8000 - 32, cpu.gpr[Cpu.RSP]);
        long sp = cpu.gpr[Cpu.RSP];
        assertEquals(0x1234, f.ram.q(sp));
        assertEquals(CODE64_U, f.ram.q(sp + 8));
        assertEquals(0x9000, f.ram.q(sp + 16));
        assertEquals(DATA32_U, f.ram.q(sp + 24));
        assertTrue(cpu.seg[Segment.SS].unusable());
        // A 16-bit call gate does not exist in IA-32e mode.
        f.ram.q(GDT + GATE_SEL, gate(CODE64, 0x3000, 0x4, 3, 0));
        assertEquals(GATE_SEL, assertThrows(CpuFault.class, () -> cpu.sys.farCall(GATE_SEL, 0, 8)).errorCode);
    }

    @Test
    void iretqToUserMode() {
        f.long64(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        f.ram.q(0x8000, 0x401000);
        f.ram.q(0x8008, CODE64_U);
        f.ram.q(0x8010, Rflags.IF | Rflags.IOPL | Rflags.FIXED1);
        f.ram.q(0x8018, 0x7FF0);
        f.ram.q(0x8020, DATA32_U);
        cpu.nmiBlocked = true;
        cpu.sys.iret(8);
        assertEquals(3, cpu.cpl);
        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals(0x401000, cpu.rip);
        assertEquals(0x7FF0, cpu.gpr[Cpu.RSP]);
        assertEquals(Rflags.IF | Rflags.IOPL, cpu.getRflags() & (Rflags.IF | Rflags.IOPL), "CPL 0 may set IF and IOPL");
        assertFalse(cpu.nmiBlocked);
        // Non-canonical return RIP is #GP(0).
        f.long64(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        f.ram.q(0x8000, 0x0000_8000_0000_0000L);
        f.ram.q(0x8008, CODE64);
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.iret(8)).vector);
    }

    @Test
    void iretAtCpl3CannotChangeIfOrIopl() {
        f.protected32(3);
        cpu.gpr[Cpu.RSP] = 0x9000;
        f.ram.d(0x9000, 0x2000);
        f.ram.d(0x9004, CODE32_U);
        f.ram.d(0x9008, (int) (Rflags.IF | Rflags.IOPL | Rflags.CF));
        cpu.setRflags(0);
        cpu.sys.iret(4);
        assertEquals(Rflags.CF | Rflags.FIXED1, cpu.getRflags());
        assertEquals(0x900C, cpu.gpr[Cpu.RSP]);
    }

    @Test
    void iretWithNestedTaskInIa32eIsGp() {
        f.long64(0);
        cpu.setRflags(Rflags.NT);
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.iret(8)).vector);
    }

    static final long NEW_TSS = 0x3100;

    /** A second 32-bit TSS (descriptor at GATE_SEL) whose task starts at 0x7777 with EAX = 0x11. */
    void secondTask() {
        extendGdt();
        f.protected32(0);
        f.ram.q(GDT + TSS_SEL, SysFixture.seg(TSS, 0x67, 0x8B, 0));           // current task: busy
        f.ram.q(GDT + GATE_SEL, SysFixture.seg(NEW_TSS, 0x67, 0x89, 0));      // available
        f.ram.d(NEW_TSS + 0x20, 0x7777);
        f.ram.d(NEW_TSS + 0x24, (int) (Rflags.FIXED1 | Rflags.IF));
        f.ram.d(NEW_TSS + 0x28, 0x11);
        f.ram.d(NEW_TSS + 0x38, 0xA000);                                       // ESP
        int[] sels = {DATA32, CODE32, DATA32, DATA32, DATA32, DATA32};
        for (int s = 0; s < 6; s++) f.ram.d(NEW_TSS + 0x48 + 4 * s, sels[s]);
        cpu.gpr[Cpu.RAX] = 0x99;
        cpu.rip = 0x1234;
    }

    @Test
    void callToTssSwitchesTasksAndIretReturns() {
        secondTask();
        cpu.sys.farCall(GATE_SEL, 0, 4);
        assertEquals(0x7777, cpu.rip);
        assertEquals(0x11, cpu.gpr[Cpu.RAX]);
        assertEquals(GATE_SEL, cpu.tr.selector);
        assertEquals(NEW_TSS, cpu.tr.base);
        assertEquals(Rflags.NT, cpu.getRflags() & Rflags.NT, "CALL sets NT in the new task");
        assertEquals(TSS_SEL, f.ram.d(NEW_TSS) & 0xFFFF, "previous-task link");
        assertEquals(0x1234, f.ram.d(TSS + 0x20), "old EIP saved");
        assertEquals(0x99, f.ram.d(TSS + 0x28), "old EAX saved");
        assertEquals(0x8B, f.ram.b(GDT + TSS_SEL + 5), "old task stays busy after CALL");
        assertEquals(0x8B, f.ram.b(GDT + GATE_SEL + 5), "new task busy");
        assertNotEquals(0, cpu.cr0 & lhv.cpu.Cr.CR0_TS);
        cpu.gpr[Cpu.RAX] = 0x22;
        cpu.sys.iret(4);
        assertEquals(0x1234, cpu.rip);
        assertEquals(0x99, cpu.gpr[Cpu.RAX]);
        assertEquals(TSS_SEL, cpu.tr.selector);
        assertEquals(0x89, f.ram.b(GDT + GATE_SEL + 5), "IRET frees the task it leaves");
        assertEquals(0, f.ram.d(NEW_TSS + 0x24) & Rflags.NT, "NT cleared in the saved image");
        assertEquals(0x22, f.ram.d(NEW_TSS + 0x28));
    }

    @Test
    void tssTFlagLeavesADebugTrapPendingInTheNewTask() {
        secondTask();
        f.ram.b(NEW_TSS + 0x64, 1);                                   // T flag (SDM 7.2.1)
        cpu.sys.farCall(GATE_SEL, 0, 4);
        assertEquals(0x7777, cpu.rip);
        assertEquals(1L << 15, cpu.pendingDebugExceptions, "BT: a #DB before the new task's first instruction");
    }

    @Test
    void taskWithoutTFlagHasNoDebugTrap() {
        secondTask();
        cpu.sys.farCall(GATE_SEL, 0, 4);
        assertEquals(0, cpu.pendingDebugExceptions);
    }

    @Test
    void jumpToBusyTaskIsGpAndJumpFreesOldTask() {
        secondTask();
        assertEquals(TSS_SEL, assertThrows(CpuFault.class, () -> cpu.sys.farJump(TSS_SEL, 0, 4)).errorCode);
        cpu.sys.farJump(GATE_SEL, 0, 4);
        assertEquals(0x89, f.ram.b(GDT + TSS_SEL + 5), "JMP clears the old busy flag");
        assertEquals(0, cpu.getRflags() & Rflags.NT);
    }

    @Test
    void exceptionThroughTaskGatePushesErrorCodeOnNewStack() {
        secondTask();
        f.idt32(13, gate(GATE_SEL, 0, 0x5, 0, 0));
        cpu.sys.deliverFault(CpuFault.gp(0x18));
        assertEquals(0x7777, cpu.rip);
        assertEquals(0xA000 - 4, cpu.gpr[Cpu.RSP]);
        assertEquals(0x18, f.ram.d(0xA000 - 4));
        assertEquals(0x1234, f.ram.d(TSS + 0x20), "faulting EIP saved in the old TSS");
    }

    @Test
    void newTaskSegmentFaultIsDeliveredInTheNewTask() {
        secondTask();
        f.ram.d(NEW_TSS + 0x54, DATA_NP);                                      // DS not present
        f.idt32(11, gate(CODE32, 0x5000, 0xE, 0, 0));
        cpu.sys.farJump(GATE_SEL, 0, 4);
        assertEquals(0x5000, cpu.rip, "#NP handler runs");
        assertEquals(GATE_SEL, cpu.tr.selector, "after the commit point");
        assertEquals(DATA_NP, f.ram.d(cpu.gpr[Cpu.RSP]), "#NP(selector)");
    }

    @Test
    void iretToVirtual8086Mode() {
        f.protected32(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        int[] frame = {0x0100, 0x2000, (int) (Rflags.VM | Rflags.IF), 0x0FFE, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000};
        for (int i = 0; i < frame.length; i++) f.ram.d(0x8000 + 4L * i, frame[i]);
        cpu.sys.iret(4);
        assertEquals(Mode.VIRTUAL_8086, cpu.mode);
        assertEquals(3, cpu.cpl);
        assertEquals(0x20000, cpu.seg[Segment.CS].base);
        assertEquals(0x30000, cpu.seg[Segment.SS].base);
        assertEquals(0x70000, cpu.seg[Segment.GS].base);
        assertEquals(0x0FFE, cpu.gpr[Cpu.RSP]);
        assertEquals(0x100, cpu.rip);
    }

    @Test
    void syscallAndSysret() {
        f.long64(3);
        cpu.star = (long) (0x10 | 3) << 48 | (long) CODE64 << 32;  // sysret base 0x13: CS = 0x23+... see below
        cpu.lstar = 0xFFFF_8000_0000_2000L;
        cpu.fmask = Rflags.IF;
        cpu.rip = 0x401000;
        cpu.setRflags(Rflags.IF | Rflags.CF);
        cpu.sys.syscall();
        assertEquals(0, cpu.cpl);
        assertEquals(CODE64, cpu.seg[Segment.CS].selector);
        assertEquals(CODE64 + 8, cpu.seg[Segment.SS].selector);
        assertEquals(0x401000, cpu.gpr[Cpu.RCX]);
        assertEquals(Rflags.IF | Rflags.CF | Rflags.FIXED1, cpu.gpr[11]);
        assertEquals(0, cpu.getRflags() & Rflags.IF);
        assertEquals(0xFFFF_8000_0000_2000L, cpu.rip);
        cpu.sys.sysret(8);
        assertEquals(3, cpu.cpl);
        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals((0x13 + 16) | 3, cpu.seg[Segment.CS].selector);
        assertEquals((0x13 + 8) | 3, cpu.seg[Segment.SS].selector);
        assertEquals(0x401000, cpu.rip);
        assertEquals(Rflags.IF | Rflags.CF | Rflags.FIXED1, cpu.getRflags());
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.sysret(8)).vector, "SYSRET at CPL 3");
        cpu.setEfer(cpu.efer & ~1L);
        assertEquals(6, assertThrows(CpuFault.class, cpu.sys::syscall).vector, "SCE=0");
    }

    @Test
    void sysenterSysexitAndSwapgs() {
        f.protected32(3);
        assertEquals(13, assertThrows(CpuFault.class, cpu.sys::sysenter).vector, "SYSENTER_CS null");
        cpu.setSysenterCs(CODE32);
        cpu.setSysenterEsp(0x8000);
        cpu.setSysenterEip(0x6000);
        cpu.sys.sysenter();
        assertEquals(0, cpu.cpl);
        assertEquals(CODE32, cpu.seg[Segment.CS].selector);
        assertEquals(DATA32, cpu.seg[Segment.SS].selector);
        assertEquals(0x8000, cpu.gpr[Cpu.RSP]);
        cpu.gpr[Cpu.RCX] = 0x9000;
        cpu.gpr[Cpu.RDX] = 0x1234;
        cpu.sys.sysexit(4);
        assertEquals(3, cpu.cpl);
        assertEquals(CODE32_U, cpu.seg[Segment.CS].selector);
        assertEquals(DATA32_U, cpu.seg[Segment.SS].selector);
        assertEquals(0x1234, cpu.rip);
        f.long64(0);
        cpu.seg[Segment.GS].setBase(1);
        cpu.sys.wrmsr(Msr.IA32_KERNEL_GS_BASE, 2);
        cpu.sys.swapgs();
        assertEquals(2, cpu.seg[Segment.GS].base);
        assertEquals(1, cpu.sys.rdmsr(Msr.IA32_KERNEL_GS_BASE));
    }

    @Test
    void iret32ToOuterPrivilege() {
        f.protected32(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        int[] frame = {0x2000, CODE32_U, (int) (Rflags.IF | Rflags.FIXED1), 0x9000, DATA32_U};
        for (int i = 0; i < frame.length; i++) f.ram.d(0x8000 + 4L * i, frame[i]);
        cpu.sys.iret(4);
        assertEquals(3, cpu.cpl);
        assertEquals(0x9000, cpu.gpr[Cpu.RSP]);
        assertEquals(DATA32_U, cpu.seg[Segment.SS].selector);
        assertTrue(cpu.seg[Segment.ES].unusable(), "DPL 0 data segment dropped");
        // The return SS must match the new CPL.
        f.protected32(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        f.ram.d(0x8010, DATA32);
        assertEquals(DATA32, assertThrows(CpuFault.class, () -> cpu.sys.iret(4)).errorCode);
    }

    @Test
    void farReturnIn64BitModeWithRexW() {
        f.long64(0);
        cpu.gpr[Cpu.RSP] = 0x8000;
        f.ram.q(0x8000, 0xFFFF_8000_0000_0000L & 0x1FFFFF | 0x1000);
        f.ram.q(0x8008, CODE64);
        cpu.sys.farReturn(8, 16);
        assertEquals(0x1000, cpu.rip);
        assertEquals(0x8020, cpu.gpr[Cpu.RSP]);
    }

    @Test
    void nullStackSelectorRules() {
        f.long64(3);
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.loadSegment(Segment.SS, 3)).vector, "null SS at CPL 3");
        f.long64(0);
        cpu.sys.loadSegment(Segment.SS, 0);
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.loadSegment(Segment.SS, 1)).vector, "RPL != CPL");
    }

    @Test
    void sixteenBitTaskSwitch() {
        secondTask();
        f.ram.q(GDT + GATE_SEL, SysFixture.seg(NEW_TSS, 0x2B, 0x81, 0));      // available 16-bit TSS
        f.ram.d(NEW_TSS + 14, 0x0777 | (int) (Rflags.FIXED1 | Rflags.IF) << 16); // IP, FLAGS
        f.ram.d(NEW_TSS + 18, 0x0011);                                        // AX
        int[] sels = {DATA32, CODE16, DATA32, DATA32};
        // ES, CS, SS, DS at 34..41; the last dword write leaves the LDT selector (42) null.
        for (int s = 0; s < 4; s++) f.ram.d(NEW_TSS + 34 + 2 * s, sels[s]);
        cpu.dr[7] = 0x400 | 0x155 | 0x2AA;
        cpu.sys.farCall(GATE_SEL, 0, 4);
        assertEquals(0x777, cpu.rip);
        assertEquals(0xFFFF0011L, cpu.gpr[Cpu.RAX], "upper word FFFFH from a 16-bit TSS");
        assertTrue(cpu.seg[Segment.FS].unusable(), "FS is null");
        assertEquals(0x81 | 2, f.ram.b(GDT + GATE_SEL + 5), "16-bit TSS busy");
        assertEquals(0x400 | 0x2AA, cpu.dr[7], "local breakpoint enables cleared");
        cpu.sys.iret(2);
        assertEquals(0x1234, cpu.rip);
        assertEquals(0x99, cpu.gpr[Cpu.RAX]);
        assertEquals(0x81, f.ram.b(GDT + GATE_SEL + 5));
    }

    @Test
    void taskSwitchInVmxNonRootIsOfferedToVmxAfterTheDescriptorChecks() {
        secondTask();
        java.util.List<String> seen = new java.util.ArrayList<>();
        cpu.vmx = new lhv.cpu.intercept.Virtualization() {
            @Override public void execute(Cpu c, lhv.cpu.intercept.VmxInstruction w, lhv.cpu.decode.Insn i) { }
            @Override public long intercept(Cpu c, lhv.cpu.intercept.Sensitive what, lhv.cpu.decode.Insn i, long a, long b) {
                seen.add(what + ":" + Long.toHexString(a) + ":" + b);
                throw lhv.cpu.intercept.VmExitSignal.TO_JAVA;
            }
            @Override public void atBoundary(Cpu c) { }
        };
        cpu.nonRoot = true;
        assertEquals(TSS_SEL, assertThrows(CpuFault.class, () -> cpu.sys.farJump(TSS_SEL, 0, 4)).errorCode,
                "a busy TSS faults before any exit");
        assertThrows(lhv.cpu.intercept.VmExitSignal.class, () -> cpu.sys.farCall(GATE_SEL, 0, 4));
        assertEquals(java.util.List.of("TASK_SWITCH:80:0"), seen, "CALL is source 0");
        assertEquals(0x1234, cpu.rip, "nothing of the switch happened");
        assertEquals(TSS_SEL, cpu.tr.selector);
    }
}
