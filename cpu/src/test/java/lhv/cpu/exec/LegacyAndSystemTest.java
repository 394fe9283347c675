package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Legacy-mode instructions (BCD, BOUND, XLAT, ENTER with nesting, 16-bit forms, far JMP, segment
 * loads, LAR/LSL, SGDT) and the privilege rules of flag, I/O and system instructions. Expected values
 * come from the SDM's instruction pages (the DAA/DAS examples are those of SDM Vol. 2).
 */
class LegacyAndSystemTest {

    private static long flags(Guest g) {
        return g.cpu.getRflags();
    }

    @Test
    void daaAfterAdditionSdmExample() {
        Guest g = Guest.flat32().code("b079043527f4").runToHalt();      // mov al,79h; add al,35h; daa
        assertEquals(0x14, g.reg(Cpu.RAX) & 0xFF);
        long f = flags(g);
        assertEquals(Rflags.CF | Rflags.AF | Rflags.PF, f & (Rflags.CF | Rflags.AF | Rflags.PF | Rflags.ZF | Rflags.SF));
    }

    @Test
    void dasAfterSubtractionSdmExample() {
        Guest g = Guest.flat32().code("b0352c472ff4").runToHalt();      // mov al,35h; sub al,47h; das
        assertEquals(0x88, g.reg(Cpu.RAX) & 0xFF);
        long f = flags(g);
        assertEquals(Rflags.CF | Rflags.AF | Rflags.PF | Rflags.SF, f & (Rflags.CF | Rflags.AF | Rflags.PF | Rflags.ZF | Rflags.SF));
    }

    @Test
    void asciiAdjustments() {
        assertEquals(0x0107, Guest.flat32().code("66b80900040837f4").runToHalt().reg(Cpu.RAX) & 0xFFFF);  // aaa
        assertEquals(0x0707, Guest.flat32().code("b04dd40af4").runToHalt().reg(Cpu.RAX) & 0xFFFF);        // aam
        assertEquals(0x004D, Guest.flat32().code("66b80707d50af4").runToHalt().reg(Cpu.RAX) & 0xFFFF);    // aad
        assertEquals(0, Guest.flat32().code("d400f4").runToFault().vector, "AAM 0 is #DE");
    }

    @Test
    void boundOutOfRangeIsBr() {
        Guest g = Guest.flat32().code("b805000000c7050000200000000000c7050400200004000000620500002000f4");
        assertEquals(5, g.runToFault().vector);
    }

    @Test
    void xlat() {
        Guest g = Guest.flat32();
        g.ram.b(0x200003, 0x5A);
        g.code("bb00002000b003d7f4").runToHalt();
        assertEquals(0x5A, g.reg(Cpu.RAX) & 0xFF);
    }

    @Test
    void enterWithNestingLevelCopiesFramePointers() {
        Guest g = Guest.flat32();
        g.ram.d(0x7FFFC, 0xABCD);
        g.code("bd00000800c8080002f4").runToHalt();                    // mov ebp,80000h; enter 8,2
        assertEquals(0x8FFFC, g.reg(Cpu.RBP));
        assertEquals(0x8FFEC, g.reg(Cpu.RSP));
        assertEquals(0x80000, g.ram.d(0x8FFFC));
        assertEquals(0xABCD, g.ram.d(0x8FFF8), "the outer frame pointer copied from [EBP-4]");
        assertEquals(0x8FFFC, g.ram.d(0x8FFF4), "the new frame pointer pushed last");
    }

    @Test
    void sixteenBitConversionsAndLoop() {
        Guest g = Guest.real16().code("b880009899f4").runToHalt();     // mov ax,80h; cbw; cwd
        assertEquals(0xFF80, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(0xFFFF, g.reg(Cpu.RDX) & 0xFFFF);
        assertEquals(3, Guest.real16().code("b9030031c040e2fdf4").runToHalt().reg(Cpu.RAX) & 0xFFFF);
    }

    @Test
    void jcxzWithSixteenBitAddressSizeTestsCx() {
        Guest g = Guest.flat32().code("b90000010067e305b801000000f4").runToHalt();
        assertEquals(0, g.reg(Cpu.RAX), "CX = 0 although ECX = 10000h");
    }

    @Test
    void segmentLoadsThroughMovAndPop() {
        // mov ax,10h; mov ds,ax; mov es,ax; push ds; pop fs; mov ebx,fs
        Guest g = Guest.flat32().code("66b810008ed88ec01e0fa18ce3f4").runToHalt();
        assertEquals(0x10, g.cpu.seg[Segment.FS].selector);
        assertEquals(0x10, g.reg(Cpu.RBX));
        assertEquals(Guest.STACK_TOP, g.reg(Cpu.RSP));
    }

    @Test
    void farJumpLoadsCsAndEip() {
        Guest g = Guest.flat32().code("ea100010000800");              // jmp 08h:100010h
        g.codeAt(0x100010, "f4");
        g.runToHalt();
        assertEquals(0x08, g.cpu.seg[Segment.CS].selector);
        assertEquals(0x100011, g.cpu.rip);
    }

    @Test
    void larAndLsl() {
        Guest g = Guest.flat32().code("66b808000f02d80f03c8f4").runToHalt();  // lar ebx,ax; lsl ecx,ax
        assertEquals(0x00C09A00L, g.reg(Cpu.RBX) & 0x00F0FF00L);
        assertEquals(0xFFFFFFFFL, g.reg(Cpu.RCX));
        assertNotEquals(0, flags(g) & Rflags.ZF);
    }

    @Test
    void sgdtWithSixteenBitOperandStoresA24BitBase() {
        Guest g = Guest.flat32();
        g.cpu.setGdtr(0x12345678L, g.cpu.gdtrLimit);
        g.code("660f010500002000f4").runToHalt();
        assertEquals(23, g.ram.b(0x200000) | g.ram.b(0x200001) << 8);
        assertEquals(0x00345678, g.ram.d(0x200002));
    }

    @Test
    void popfAtCpl3KeepsIfAndIopl() {
        Guest g = Guest.long64().code("68023200009d9c58f4");          // push 3202h; popfq; pushfq; pop rax
        g.cpu.cpl = 3;
        g.cpu.seg[Segment.CS].set(0x2B, 0, 0xFFFFFFFF, 0xA0FB);
        g.cpu.seg[Segment.SS].set(0x23, 0, 0xFFFFFFFF, 0xC0F3);
        g.run();
        assertEquals(0, g.cpu.getRflags() & (Rflags.IF | Rflags.IOPL));
        Guest k = Guest.long64().code("68023200009d9c58f4").runToHalt();
        assertEquals(Rflags.IF | Rflags.IOPL, k.cpu.getRflags() & (Rflags.IF | Rflags.IOPL), "CPL 0 may change both");
    }

    @Test
    void cliAtCpl3WithIopl0IsGp() {
        Guest g = Guest.long64().code("faf4");
        g.cpu.cpl = 3;
        assertEquals(13, g.runToFault().vector);
        Guest h = Guest.long64().code("faf4");
        h.cpu.cpl = 3;
        h.cpu.setRflags(Rflags.IOPL | Rflags.IF);
        h.run();
        assertEquals(0, h.cpu.getRflags() & Rflags.IF, "IOPL 3 lets CPL 3 clear IF");
    }

    @Test
    void inAtCpl3ConsultsTheTssIoBitmap() {
        // TR is the reset TSS (base 0): the I/O map base at 66h reads 0, so the bitmap starts at 0.
        Guest ok = Guest.long64().code("e461f4");                      // in al, 61h
        ok.cpu.cpl = 3;
        ok.cpu.tr.set(0, 0, 0x2067, 0x8B);
        ok.runToFault();
        assertEquals(Guest.CODE + 2, ok.cpu.rip, "IN passed; the #GP is the HLT's at CPL 3");
        Guest denied = Guest.long64().code("e461f4");
        denied.cpu.cpl = 3;
        denied.cpu.tr.set(0, 0, 0x2067, 0x8B);
        denied.ram.b(0x61 >>> 3, 1 << (0x61 & 7));
        assertEquals(13, denied.runToFault().vector);
    }

    @Test
    void cmpxchg16bNeedsSixteenByteAlignment() {
        assertEquals(13, Guest.long64().code("be08002000480fc70ef4").runToFault().vector);
    }

    @Test
    void xgetbvNeedsOsxsave() {
        assertEquals(6, Guest.long64().code("31c90f01d0f4").runToFault().vector);
        Guest g = Guest.long64().code("31c90f01d0f4");
        g.cpu.setCr4(g.cpu.cr4 | Cr.CR4_OSXSAVE);
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX), "XCR0 = x87 only after reset");
    }

    @Test
    void rdrandSetsCfAndIsReproducible() {
        Guest a = Guest.long64().code("480fc7f00fc7f3f4").runToHalt();
        Guest b = Guest.long64().code("480fc7f00fc7f3f4").runToHalt();
        assertEquals(a.reg(Cpu.RAX), b.reg(Cpu.RAX));
        assertEquals(a.reg(Cpu.RBX), b.reg(Cpu.RBX));
        assertEquals(0, a.reg(Cpu.RBX) >>> 32, "32-bit destination zero-extended");
        assertEquals(Rflags.CF, flags(a) & Rflags.STATUS);
    }
}
