package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Segment;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The instruction pointer of 16-bit code is IP: sequential execution past offset FFFFh continues at
 * offset 0, while the bytes of an instruction must lie within the CS limit (SDM Vol. 3A 5.3; with
 * the real-mode limit FFFFh an instruction straddling the end is #GP(0)). Covers the decoded-block
 * path, the one-instruction (boundary) path, and a 16-bit protected-mode segment whose limit lets
 * an instruction run across FFFFh.
 */
class Ip16WrapTest {
    private static final long BASE = 0x10000;

    /** Real mode with CS = 1000h (base 10000h), IP = {@code ip}. */
    private static Guest realAt(long ip) {
        Guest g = Guest.real16();
        g.cpu.seg[Segment.CS].loadReal(0x1000);
        g.cpu.stateChanged();
        g.cpu.rip = ip;
        return g;
    }

    @Test
    void oneByteInstructionAtFfffContinuesAtOffsetZero() {
        // FFFF: inc ax; 0000: hlt
        Guest g = realAt(0xFFFF).codeAt(BASE + 0xFFFF, "40").codeAt(BASE, "f4");
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(1, g.cpu.rip, "HLT at offset 0 ran; IP is past it");
    }

    @Test
    void aDecodedBlockEndsAtTheWrap() {
        // FFFC: nop; nop; nop; inc ax; 0000: inc ax; hlt
        Guest g = realAt(0xFFFC).codeAt(BASE + 0xFFFC, "90909040").codeAt(BASE, "40f4");
        g.runToHalt();
        assertEquals(2, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(2, g.cpu.rip);
    }

    @Test
    void theOneInstructionPathWrapsToo() {
        // the first instruction runs alone under an interrupt shadow
        Guest g = realAt(0xFFFF).codeAt(BASE + 0xFFFF, "40").codeAt(BASE, "40f4");
        g.cpu.interruptShadow = 1;
        g.runToHalt();
        assertEquals(2, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(2, g.cpu.rip);
    }

    @Test
    void aSingleStepTrapReportsTheWrappedIp() {
        // FFFF: inc ax with TF = 1; the #DB handler (IVT vector 1 -> 0000:6000) is hlt
        Guest g = realAt(0xFFFF).codeAt(BASE + 0xFFFF, "40").codeAt(0x6000, "f4");
        g.ram.d(4, 0x0000_6000);
        g.cpu.setRflags(g.cpu.getRflags() | lhv.cpu.Rflags.TF);
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(0x7000 - 6, g.reg(Cpu.RSP) & 0xFFFF);
        assertEquals(0x0000, g.ram.d(0x7000 - 6) & 0xFFFF, "pushed IP: the wrapped offset 0");
        assertEquals(0x1000, g.ram.d(0x7000 - 4) & 0xFFFF, "pushed CS");
    }

    @Test
    void anInstructionStraddlingTheRealModeLimitIsGp() {
        // FFFF: mov al, 5 (B0 05): its second byte lies beyond the limit FFFFh
        Guest g = realAt(0xFFFF).codeAt(BASE + 0xFFFF, "b005");
        CpuFault f = g.runToFault();
        assertEquals(13, f.vector);
        assertEquals(0xFFFF, g.cpu.rip, "IP left at the instruction");
    }

    @Test
    void sixteenBitSegmentWithALargeLimitRunsAcrossAndWraps() {
        // 16-bit protected-mode code segment (D = 0) at 20000h with limit FFFFFh:
        // FFFE: mov ax, 1234h (3 bytes, up to offset 10000h); IP wraps to 0001: hlt
        Guest g = Guest.flat32();
        Cpu c = g.cpu;
        c.seg[Segment.CS].set(8, 0x20000, 0xFFFFF, 0x009B);
        c.stateChanged();
        c.rip = 0xFFFE;
        g.codeAt(0x20000 + 0xFFFE, "b83412").codeAt(0x20001, "f4");
        g.runToHalt();
        assertEquals(0x1234, g.reg(Cpu.RAX) & 0xFFFF);
        assertEquals(2, c.rip);
    }

    @Test
    void thirtyTwoBitCodeDoesNotWrapAtSixtyFourKilobytes() {
        // flat 32-bit code at FFFF: inc eax; 10000: hlt
        Guest g = Guest.flat32().codeAt(0xFFFF, "40f4");
        g.cpu.rip = 0xFFFF;
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX));
        assertEquals(0x10001, g.cpu.rip);
    }
}
