package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.Virtualization;
import lhv.cpu.intercept.VmxInstruction;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static lhv.cpu.sys.SysFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/** Exception and interrupt delivery in every mode (SDM Vol. 3A chapter 6, 20.1.4). */
class EventDeliveryTest {
    final SysFixture f = new SysFixture();
    final Cpu cpu = f.cpu;

    @Test
    void realModeUsesTheIvt() {
        cpu.setIdtr(0, cpu.idtrLimit);
        cpu.setIdtr(cpu.idtrBase, 0x3FF);
        f.ram.d(0x21 * 4, 0x2000_1234);            // 2000:1234
        cpu.seg[Segment.SS].loadReal(0);
        cpu.gpr[Cpu.RSP] = 0x7000;
        cpu.seg[Segment.CS].loadReal(0x0100);
        cpu.rip = 0x0042;
        cpu.setRflags(Rflags.IF | Rflags.TF | Rflags.CF);
        cpu.sys.softwareInterrupt(0x21, 4);
        assertEquals(0x6FFA, cpu.gpr[Cpu.RSP]);
        assertEquals(0x0042, f.ram.d(0x6FFA) & 0xFFFF, "IP");
        assertEquals(0x0100, f.ram.d(0x6FFC) & 0xFFFF, "CS");
        assertEquals(Rflags.IF | Rflags.TF | Rflags.CF | Rflags.FIXED1, f.ram.d(0x6FFE) & 0xFFFF, "FLAGS");
        assertEquals(0x2000, cpu.seg[Segment.CS].selector);
        assertEquals(0x20000, cpu.seg[Segment.CS].base);
        assertEquals(0x1234, cpu.rip);
        assertEquals(Rflags.CF | Rflags.FIXED1, cpu.getRflags(), "IF and TF cleared");
    }

    @Test
    void protectedModeSamePrivilegeFaultPushesErrorCodeAndRf() {
        f.protected32(0);
        f.idt32(13, gate(CODE32, 0x5000, 0xE, 0, 0));
        cpu.gpr[Cpu.RSP] = 0x8000;
        cpu.rip = 0x1111;
        cpu.setRflags(Rflags.IF);
        cpu.sys.deliverFault(CpuFault.gp(0x18));
        long[] sp = {cpu.gpr[Cpu.RSP]};
        assertEquals(0x8000 - 16, sp[0]);
        assertEquals(0x18, f.pop32(sp), "error code");
        assertEquals(0x1111, f.pop32(sp), "EIP of the faulting instruction");
        assertEquals(CODE32, f.pop32(sp));
        assertEquals(Rflags.IF | Rflags.RF | Rflags.FIXED1, f.pop32(sp), "RF set for faults");
        assertEquals(0x5000, cpu.rip);
        assertEquals(0, cpu.getRflags() & Rflags.IF, "interrupt gate clears IF");
    }

    @Test
    void protectedModePrivilegeChangeSwitchesStackThroughTss() {
        f.protected32(3);
        f.ram.d(TSS + 4, 0x8000);      // ESP0
        f.ram.d(TSS + 8, DATA32);      // SS0
        f.idt32(0x80, gate(CODE32, 0x6000, 0xF, 3, 0));
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.rip = 0x4444;
        cpu.setRflags(Rflags.IF);
        cpu.sys.softwareInterrupt(0x80, 4);
        assertEquals(0, cpu.cpl);
        assertEquals(DATA32, cpu.seg[Segment.SS].selector);
        long[] sp = {cpu.gpr[Cpu.RSP]};
        assertEquals(0x8000 - 20, sp[0]);
        assertEquals(0x4444, f.pop32(sp));
        assertEquals(CODE32_U, f.pop32(sp));
        assertEquals(Rflags.IF | Rflags.FIXED1, f.pop32(sp));
        assertEquals(0x9000, f.pop32(sp));
        assertEquals(DATA32_U, f.pop32(sp));
        assertEquals(Rflags.IF, cpu.getRflags() & Rflags.IF, "trap gate keeps IF");
        assertEquals(CODE32, cpu.seg[Segment.CS].selector);
    }

    @Test
    void softwareInterruptThroughMorePrivilegedGateIsGp() {
        f.protected32(3);
        f.ram.d(TSS + 4, 0x8000);
        f.ram.d(TSS + 8, DATA32);
        f.idt32(0x80, gate(CODE32, 0x6000, 0xE, 0, 0));
        f.idt32(13, gate(CODE32, 0x5000, 0xE, 0, 0));
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.sys.softwareInterrupt(0x80, 4);
        assertEquals(0x5000, cpu.rip);
        assertEquals(0x80 * 8 + 2, f.ram.d(cpu.gpr[Cpu.RSP]), "#GP(IDT index), EXT=0 for INT n");
    }

    @Test
    void newStackChecksGiveTs() {
        f.protected32(3);
        f.ram.d(TSS + 4, 0x8000);
        f.ram.d(TSS + 8, DATA32_U);   // RPL/DPL 3 != new CPL 0
        f.idt32(0x40, gate(CODE32, 0x6000, 0xE, 3, 0));
        f.idt32(10, gate(CODE32, 0x7000, 0xE, 0, 0));
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.sys.softwareInterrupt(0x40, 4);
        // #TS during delivery: delivered serially (benign first event), itself at CPL 0 needing the same
        // bad stack -> #TS again -> contributory + contributory = #DF; no #DF gate -> triple fault.
        assertEquals(StopReason.SHUTDOWN, cpu.stopRequest);
    }

    @Test
    void long64PrivilegeChangeAlignsStackAndLoadsNullSs() {
        f.long64(3);
        f.ram.q(TSS + 4, 0x8008);   // RSP0, deliberately not 16-byte aligned
        f.idt64(0x80, CODE64, 0xFFFF_8000_0000_1000L & 0x1FFFFF, 0xE, 3, 0);
        cpu.gpr[Cpu.RSP] = 0x9123;
        cpu.rip = 0x5555;
        cpu.setRflags(Rflags.IF);
        cpu.sys.softwareInterrupt(0x80, 4);
        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals(0, cpu.cpl);
        assertEquals(0x8000 - 40, cpu.gpr[Cpu.RSP]);
        long sp = cpu.gpr[Cpu.RSP];
        assertEquals(0x5555, f.ram.q(sp));
        assertEquals(CODE64_U, f.ram.q(sp + 8));
        assertEquals(Rflags.IF | Rflags.FIXED1, f.ram.q(sp + 16));
        assertEquals(0x9123, f.ram.q(sp + 24));
        assertEquals(DATA32_U, f.ram.q(sp + 32));
        assertEquals(0, cpu.seg[Segment.SS].selector, "null SS with RPL = new CPL");
        assertTrue(cpu.seg[Segment.SS].unusable());
        assertEquals(0x1000, cpu.rip);
    }

    @Test
    void istIsUsedEvenWithoutPrivilegeChange() {
        f.long64(0);
        f.ram.q(TSS + 0x24, 0xA000);   // IST1
        f.idt64(2, CODE64, 0x3000, 0xE, 0, 1);
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.activityState = 1;                       // halted: the NMI wakes the processor
        cpu.sys.externalInterrupt(2);
        assertEquals(0, cpu.activityState);
        assertEquals(0xA000 - 40, cpu.gpr[Cpu.RSP]);
        assertTrue(cpu.nmiBlocked);
        assertEquals(0x9000, f.ram.q(cpu.gpr[Cpu.RSP] + 24));
    }

    @Test
    void long64NonCanonicalGateTargetIsGp() {
        f.long64(0);
        f.idt64(0x30, CODE64, 0x0000_8000_0000_0000L, 0xE, 0, 0);
        f.idt64(13, CODE64, 0x3000, 0xE, 0, 0);
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.sys.externalInterrupt(0x30);
        assertEquals(0x3000, cpu.rip);
        assertEquals(1, f.ram.q(cpu.gpr[Cpu.RSP]), "#GP(EXT) for an external interrupt");
    }

    @Test
    void contributoryDuringContributoryBecomesDoubleFault() {
        f.protected32(0);
        f.idt32(8, gate(CODE32, 0x8888, 0xE, 0, 0));
        f.ram.q(IDT + 13 * 8, gate(CODE32, 0x5000, 0xE, 0, 0) & ~(0x80L << 40)); // #GP gate not present
        cpu.gpr[Cpu.RSP] = 0x8000;
        cpu.sys.deliverFault(CpuFault.gp0());
        assertEquals(0x8888, cpu.rip);
        assertEquals(0, f.ram.d(cpu.gpr[Cpu.RSP]), "#DF error code is 0");
    }

    @Test
    void pageFaultThenContributoryIsDoubleFault() {
        f.protected32(0);
        f.idt32(8, gate(CODE32, 0x8888, 0xE, 0, 0));
        f.idt32(14, gate(0x07F8, 0x5000, 0xE, 0, 0)); // selector beyond the GDT limit
        cpu.gpr[Cpu.RSP] = 0x8000;
        cpu.sys.deliverFault(CpuFault.pf(2, 0x1234));
        assertEquals(0x8888, cpu.rip);
        assertEquals(0x1234, cpu.cr2);
    }

    @Test
    void benignFirstIsHandledSeriallyWithExtBit() {
        f.protected32(0);
        f.ram.q(IDT + 6 * 8, gate(CODE32, 0x5000, 0xE, 0, 0) & ~(0x80L << 40)); // #UD gate not present
        f.idt32(11, gate(CODE32, 0xBBBB, 0xE, 0, 0));
        cpu.gpr[Cpu.RSP] = 0x8000;
        cpu.sys.deliverFault(CpuFault.ud());
        assertEquals(0xBBBB, cpu.rip);
        assertEquals(6 * 8 + 2 + 1, f.ram.d(cpu.gpr[Cpu.RSP]), "#NP(IDT vector 6, EXT)");
    }

    @Test
    void faultDuringDoubleFaultIsTripleFault() {
        f.protected32(0);
        cpu.setIdtr(cpu.idtrBase, 0);
        cpu.sys.deliverFault(CpuFault.gp0());
        assertEquals(StopReason.SHUTDOWN, cpu.stopRequest);
        assertEquals(2, cpu.activityState);
    }

    @Test
    void nonRootOffersEveryEventToVmxAndTripleFaultExits() {
        List<String> seen = new ArrayList<>();
        cpu.vmx = new Virtualization() {
            @Override public void execute(Cpu c, VmxInstruction w, Insn i) { }
            @Override public long intercept(Cpu c, Sensitive what, Insn i, long a, long b) {
                seen.add(what + ":" + Long.toHexString(a) + ":" + b);
                return b;
            }
            @Override public void atBoundary(Cpu c) { }
        };
        cpu.nonRoot = true;
        f.protected32(0);
        cpu.setIdtr(cpu.idtrBase, 0);
        cpu.sys.deliverFault(CpuFault.gp(0x10));
        assertEquals(List.of("EVENT:30d:16", "EVENT:308:0", "TRIPLE_FAULT:0:0"), seen);
    }

    @Test
    void vm86InterruptGoesToRing0AndSavesDataSegments() {
        f.protected32(0);
        f.ram.d(TSS + 4, 0x8000);
        f.ram.d(TSS + 8, DATA32);
        f.idt32(0x0D, gate(CODE32, 0x5000, 0xE, 0, 0));
        // Enter virtual-8086 mode: VM=1, segments 8086-style.
        cpu.setRflags(Rflags.VM | Rflags.FIXED1);
        for (int s = 0; s < 6; s++) cpu.seg[s].set(0x1000 + s, (0x1000L + s) << 4, 0xFFFF, 0xF3);
        cpu.cpl = 3;
        cpu.stateChanged();
        assertEquals(Mode.VIRTUAL_8086, cpu.mode);
        cpu.gpr[Cpu.RSP] = 0x100;
        // INT n with IOPL < 3 is #GP(0) in virtual-8086 mode.
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.softwareInterrupt(0x21, 4)).vector);
        cpu.sys.deliverFault(CpuFault.gp0());
        assertEquals(Mode.PROTECTED, cpu.mode);
        assertEquals(0, cpu.cpl);
        long[] sp = {cpu.gpr[Cpu.RSP]};
        assertEquals(0x8000 - 40, sp[0]);
        assertEquals(0, f.pop32(sp), "error code");
        sp[0] += 4; // EIP
        assertEquals(0x1001, f.pop32(sp), "CS");
        assertEquals(Rflags.VM, f.pop32(sp) & Rflags.VM);
        assertEquals(0x100, f.pop32(sp), "ESP");
        assertEquals(0x1002, f.pop32(sp), "SS");
        assertEquals(0x1000, f.pop32(sp), "ES");
        assertEquals(0x1003, f.pop32(sp), "DS");
        assertEquals(0x1004, f.pop32(sp), "FS");
        assertEquals(0x1005, f.pop32(sp), "GS");
        assertTrue(cpu.seg[Segment.DS].unusable());
    }

    @Test
    void doubleFaultTable() {
        // SDM 6.15 Table 6-5.
        assertTrue(EventDelivery.becomesDoubleFault(13, 11));
        assertTrue(EventDelivery.becomesDoubleFault(0, 10));
        assertFalse(EventDelivery.becomesDoubleFault(13, 14));
        assertTrue(EventDelivery.becomesDoubleFault(14, 14));
        assertTrue(EventDelivery.becomesDoubleFault(14, 13));
        assertFalse(EventDelivery.becomesDoubleFault(14, 6));
        assertFalse(EventDelivery.becomesDoubleFault(6, 13));
        assertFalse(EventDelivery.becomesDoubleFault(0x20, 13));
    }

    @Test
    void sixteenBitGatePushesWords() {
        f.protected32(0);
        f.idt32(0x21, gate(CODE16, 0x4321, 0x6, 0, 0));
        cpu.gpr[Cpu.RSP] = 0x8000;
        cpu.rip = 0x1234;
        cpu.setRflags(Rflags.IF);
        cpu.sys.softwareInterrupt(0x21, 4);
        assertEquals(0x8000 - 6, cpu.gpr[Cpu.RSP]);
        assertEquals(0x1234, f.ram.d(0x8000 - 6) & 0xFFFF);
        assertEquals(CODE32, f.ram.d(0x8000 - 4) & 0xFFFF);
        assertEquals(0x4321, cpu.rip);
        assertFalse(cpu.seg[Segment.CS].big());
    }

    @Test
    void compatibilityModeDeliversA64BitFrame() {
        f.long64(0);
        cpu.seg[Segment.CS].set(CODE32, 0, 0xFFFFFFFF, 0xC09B);
        cpu.stateChanged();
        assertEquals(Mode.COMPATIBILITY, cpu.mode);
        f.idt64(0x40, CODE64, 0x3000, 0xE, 0, 0);
        cpu.gpr[Cpu.RSP] = 0x9004;
        cpu.rip = 0x1000;
        cpu.sys.externalInterrupt(0x40);
        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals(0x9000 - 40, cpu.gpr[Cpu.RSP], "aligned to 16 bytes, five quadwords");
        assertEquals(CODE32, f.ram.q(cpu.gpr[Cpu.RSP] + 8));
        assertEquals(0x9004, f.ram.q(cpu.gpr[Cpu.RSP] + 24));
    }

    @Test
    void interruptToConformingCodeKeepsPrivilegeAndStack() {
        f.protected32(3);
        f.idt32(0x50, gate(CONF_CODE, 0x6000, 0xE, 3, 0));
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.sys.softwareInterrupt(0x50, 4);
        assertEquals(3, cpu.cpl);
        assertEquals(CONF_CODE | 3, cpu.seg[Segment.CS].selector);
        assertEquals(0x9000 - 12, cpu.gpr[Cpu.RSP]);
    }

    @Test
    void sixtyFourBitGateTypeMustBeInterruptOrTrap() {
        f.long64(0);
        f.idt64(0x41, CODE64, 0x3000, 0xC, 0, 0);   // call gate in the IDT
        f.idt64(13, CODE64, 0x5000, 0xE, 0, 0);
        cpu.gpr[Cpu.RSP] = 0x9000;
        cpu.sys.externalInterrupt(0x41);
        assertEquals(0x5000, cpu.rip);
        assertEquals(0x41 * 8 + 2 + 1, f.ram.q(cpu.gpr[Cpu.RSP]));
    }

    /** Virtual-8086 mode at 2000:0100 with SS:SP = 3000:0100, TR = the fixture's 32-bit TSS. */
    void vm86(long iopl) {
        f.protected32(0);
        cpu.setRflags(Rflags.VM | iopl | Rflags.FIXED1);
        for (int s = 0; s < 6; s++) cpu.seg[s].set(0x1000, 0x10000, 0xFFFF, 0xF3);
        cpu.seg[Segment.CS].set(0x2000, 0x20000, 0xFFFF, 0xF3);
        cpu.seg[Segment.SS].set(0x3000, 0x30000, 0xFFFF, 0xF3);
        cpu.gpr[Cpu.RSP] = 0x100;
        cpu.rip = 0x100;
        cpu.cpl = 3;
        cpu.stateChanged();
        f.ram.d(TSS + 0x64, 0x68 + 32 << 16);   // I/O map base 0x88: redirection map at 0x68..0x87
        cpu.tr.setLimit(0x88);
        f.ram.d(0x21 * 4, 0x4000_0010);          // 8086 vector 0x21 -> 4000:0010
    }

    @Test
    void vmeRedirectsIntNToThe8086TableWithVirtualIf() {
        vm86(0);
        cpu.setCr4(lhv.cpu.Cr.CR4_VME);
        cpu.setRflags(cpu.getRflags() | Rflags.VIF | Rflags.TF);
        cpu.sys.softwareInterrupt(0x21, 4);                          // method 6
        assertEquals(0x40000, cpu.seg[Segment.CS].base);
        assertEquals(0x10, cpu.rip);
        assertEquals(0xFA, cpu.gpr[Cpu.RSP]);
        int image = f.ram.d(0x30000 + 0xFE) & 0xFFFF;
        assertEquals(Rflags.IF | Rflags.IOPL, image & (Rflags.IF | Rflags.IOPL), "pushed IF = VIF, IOPL = 3");
        assertEquals(0, cpu.getRflags() & (Rflags.VIF | Rflags.TF), "VIF and TF cleared");
        // A set redirection bit with IOPL < 3 is #GP(0) (method 3).
        f.ram.b(TSS + 0x68 + 0x22 / 8, 1 << (0x22 & 7));
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.softwareInterrupt(0x22, 4)).vector);
        // IRET with IOPL < 3 under VME: a popped TF is #GP(0); otherwise IP/CS return and the popped
        // IF goes into VIF.
        assertEquals(13, assertThrows(CpuFault.class, () -> cpu.sys.iret(2)).vector);
        f.ram.d(0x30000 + 0xFE, (int) (image & ~Rflags.TF));
        cpu.sys.iret(2);
        assertEquals(0x20000, cpu.seg[Segment.CS].base);
        assertEquals(0x100, cpu.rip);
        assertEquals(Rflags.VIF, cpu.getRflags() & (Rflags.VIF | Rflags.IF | Rflags.IOPL));
    }

    @Test
    void vmeWithIopl3RedirectsAndClearsIf() {
        vm86(Rflags.IOPL);
        cpu.setCr4(lhv.cpu.Cr.CR4_VME);
        cpu.setRflags(cpu.getRflags() | Rflags.IF);
        cpu.sys.softwareInterrupt(0x21, 4);                          // method 5
        assertEquals(0x10, cpu.rip);
        assertEquals(0, cpu.getRflags() & Rflags.IF);
        assertEquals(Rflags.IF | Rflags.IOPL, f.ram.d(0x30000 + 0xFE) & (Rflags.IF | Rflags.IOPL));
    }
}
