package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * BMI1, BMI2 and ADX (SDM Vol. 2 pages ANDN ... SHRX, ADCX, ADOX): results, the defined flags, the
 * edge cases of each instruction (zero source, all ones, index and length at or beyond the operand
 * size, masked counts) and the #UD rules of VEX-encoded general-purpose instructions. Machine code
 * comes from nasm; the source is in each comment. Expected values are worked out by hand.
 */
class BitManipTest {
    private static final long CF = Rflags.CF, PF = Rflags.PF, AF = Rflags.AF, ZF = Rflags.ZF, SF = Rflags.SF,
            OF = Rflags.OF, DEFINED = CF | ZF | SF | OF;

    private static Guest run64(String hex, long rax, long rbx, long rcx, long flags) {
        Guest g = Guest.long64();
        Cpu c = g.cpu;
        c.gpr[Cpu.RAX] = rax;
        c.gpr[Cpu.RBX] = rbx;
        c.gpr[Cpu.RCX] = rcx;
        c.setRflags(Rflags.FIXED1 | flags);
        g.code(hex + "f4").runToHalt();
        return g;
    }

    private static long flags(Guest g) {
        return g.cpu.getRflags() & (CF | PF | AF | ZF | SF | OF);
    }

    // ---- BMI1 ----

    @Test
    void andnIsNotFirstSourceAndSecond() {
        // andn rax, rbx, rcx
        Guest g = run64("c4e2e0f2c1", -1, 0xF0F0_0000_FFFF_0000L, 0xFFFF_FFFF_0000_FFFFL, CF | OF);
        assertEquals(0x0F0F_FFFF_0000_FFFFL, g.reg(Cpu.RAX));
        assertEquals(0, flags(g) & DEFINED, "CF and OF cleared, result neither zero nor negative");
        // andn eax, ebx, ecx: all-ones first source gives zero; the upper half of RAX is cleared
        g = run64("c4e260f2c1", -1, 0xFFFF_FFFFL, 0x1234_5678L, SF);
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g) & DEFINED);
    }

    @Test
    void andnReachesExtendedRegistersThroughVexRxB() {
        // andn r8, r9, r10
        Guest g = Guest.long64();
        g.cpu.gpr[9] = 0xFF;
        g.cpu.gpr[10] = 0x1FF;
        g.code("c442b0f2c2f4").runToHalt();
        assertEquals(0x100, g.reg(8));
    }

    @Test
    void bextrExtractsStartAndLengthFromTheControlRegister() {
        // bextr rax, rbx, rcx: start 8, length 12 of 0x123456789ABCDEF0
        Guest g = run64("c4e2f0f7c3", -1, 0x1234_5678_9ABC_DEF0L, 0x0C08, CF | OF | ZF);
        assertEquals(0xCDE, g.reg(Cpu.RAX));
        assertEquals(0, flags(g) & (CF | OF | ZF));
        // start 60, length 200: only bits up to 63 exist
        g = run64("c4e2f0f7c3", -1, 0xF234_5678_9ABC_DEF0L, 0xC83C, 0);
        assertEquals(0xF, g.reg(Cpu.RAX));
        // start at or beyond the operand size extracts nothing
        g = run64("c4e2f0f7c3", -1, -1, 0x1040, CF);
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g) & (CF | OF | ZF));
        // length 0 extracts nothing
        g = run64("c4e2f0f7c3", -1, -1, 0x0003, 0);
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g) & ZF);
    }

    @Test
    void bextrThirtyTwoBitFromMemory() {
        // bextr eax, [rsi], ecx: start 28, length 8 of the dword 0xABCDEF01 (bits above 31 read as 0)
        Guest g = Guest.long64();
        g.ram.d(Guest.DATA, 0xABCDEF01);
        g.ram.d(Guest.DATA + 4, 0xFFFFFFFF);
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.cpu.gpr[Cpu.RCX] = 0x081C;
        g.cpu.gpr[Cpu.RAX] = -1;
        g.code("c4e270f706f4").runToHalt();
        assertEquals(0xA, g.reg(Cpu.RAX));
    }

    @Test
    void blsiIsolatesTheLowestSetBit() {
        // blsi rax, rbx
        Guest g = run64("c4e2f8f3db", -1, 0x8000_0000_0000_0000L, 0, OF);
        assertEquals(0x8000_0000_0000_0000L, g.reg(Cpu.RAX));
        assertEquals(CF | SF, flags(g) & DEFINED, "CF = source not zero, SF from the result, OF cleared");
        g = run64("c4e2f8f3db", -1, 0, 0, CF);
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g) & DEFINED, "zero source: CF clear, ZF set");
        g = run64("c4e2f8f3db", -1, 0x0000_0000_0000_0C00L, 0, 0);
        assertEquals(0x400, g.reg(Cpu.RAX));
    }

    @Test
    void blsmskMasksUpToTheLowestSetBitAndNeverSetsZf() {
        // blsmsk eax, ebx
        Guest g = run64("c4e278f3d3", -1, 0x0000_0000_0000_0C00L, 0, ZF | CF);
        assertEquals(0x7FF, g.reg(Cpu.RAX));
        assertEquals(0, flags(g) & DEFINED);
        g = run64("c4e278f3d3", -1, 0, 0, ZF);
        assertEquals(0xFFFF_FFFFL, g.reg(Cpu.RAX), "zero source: all ones, zero-extended to 64 bits");
        assertEquals(CF | SF, flags(g) & DEFINED, "zero source sets CF; ZF is always cleared");
    }

    @Test
    void blsrClearsTheLowestSetBitOfAMemoryOperand() {
        // blsr r9, [rsi+8]
        Guest g = Guest.long64();
        g.ram.q(Guest.DATA + 8, 0x0000_0000_0000_0001L);
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.code("c4e2b0f34e08f4").runToHalt();
        assertEquals(0, g.reg(9));
        assertEquals(ZF, flags(g) & DEFINED, "result zero, source not zero: CF clear");
        g = Guest.long64();
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.cpu.gpr[9] = -1;
        g.code("c4e2b0f34e08f4").runToHalt();
        assertEquals(0, g.reg(9), "BLSR of zero is (0 - 1) AND 0 = 0");
        assertEquals(CF | ZF, flags(g) & DEFINED, "zero source sets CF");
    }

    // ---- BMI2 ----

    @Test
    void bzhiClearsFromTheIndexAndSetsCfBeyondTheOperandSize() {
        // bzhi rax, rbx, rcx
        Guest g = run64("c4e2f0f5c3", 0, -1, 0x104, OF | CF);     // index = low byte = 4
        assertEquals(0xF, g.reg(Cpu.RAX));
        assertEquals(0, flags(g) & DEFINED);
        g = run64("c4e2f0f5c3", 0, -1, 0, 0);                     // index 0: nothing kept
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g) & DEFINED);
        g = run64("c4e2f0f5c3", 0, 0x8000_0000_0000_0001L, 64, 0);  // index = size: source copied, CF
        assertEquals(0x8000_0000_0000_0001L, g.reg(Cpu.RAX));
        assertEquals(CF | SF, flags(g) & DEFINED);
        // bzhi eax, ebx, ecx: index 255 on a 32-bit operand
        g = run64("c4e270f5c3", -1, 0x1_8000_0000L, 0xFF, 0);
        assertEquals(0x8000_0000L, g.reg(Cpu.RAX));
        assertEquals(CF | SF, flags(g) & DEFINED);
    }

    @Test
    void mulxWritesLowToVvvvAndHighToRegWithoutTouchingFlags() {
        // mulx rax, rbx, rcx: RDX * RCX -> RAX:RBX
        Guest g = Guest.long64();
        Cpu c = g.cpu;
        c.gpr[Cpu.RDX] = -1;
        c.gpr[Cpu.RCX] = -1;
        c.setRflags(Rflags.FIXED1 | CF | ZF);
        g.code("c4e2e3f6c1f4").runToHalt();
        assertEquals(0xFFFF_FFFF_FFFF_FFFEL, g.reg(Cpu.RAX), "high half of (2^64-1)^2");
        assertEquals(1, g.reg(Cpu.RBX), "low half");
        assertEquals(CF | ZF, flags(g), "flags untouched");
        // mulx eax, ebx, ecx: 32-bit halves, upper register halves cleared
        g = Guest.long64();
        c = g.cpu;
        c.gpr[Cpu.RDX] = 0xFFFF_FFFF_8000_0000L;
        c.gpr[Cpu.RCX] = 6;
        c.gpr[Cpu.RAX] = -1;
        c.gpr[Cpu.RBX] = -1;
        g.code("c4e263f6c1f4").runToHalt();
        assertEquals(3, g.reg(Cpu.RAX));
        assertEquals(0, g.reg(Cpu.RBX));
    }

    @Test
    void mulxNamingOneRegisterTwiceKeepsTheHighHalf() {
        // mulx rax, rax, rcx (C4 E2 FB F6 C1: vvvv = RAX)
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RDX] = 0x1_0000_0000L;
        g.cpu.gpr[Cpu.RCX] = 0x3_0000_0005L;
        g.code("c4e2fbf6c1f4").runToHalt();
        assertEquals(3, g.reg(Cpu.RAX), "high half wins");
    }

    @Test
    void pdepAndPextScatterAndGather() {
        // pdep rax, rbx, rcx: source RBX, mask RCX
        Guest g = run64("c4e2e3f5c1", 0, 0b1011, 0xF0F0, 0);
        assertEquals(0x00B0, g.reg(Cpu.RAX));
        g = run64("c4e2e3f5c1", 0, -1, 0, 0);
        assertEquals(0, g.reg(Cpu.RAX), "empty mask");
        g = run64("c4e2e3f5c1", 0, 0xFFFF_FFFF_8000_0001L, -1, 0);
        assertEquals(0xFFFF_FFFF_8000_0001L, g.reg(Cpu.RAX), "full mask copies the source");
        // pext rax, rbx, rcx
        g = run64("c4e2e2f5c1", 0, 0xABCD, 0xF00F, CF);
        assertEquals(0xAD, g.reg(Cpu.RAX));
        assertEquals(CF, flags(g), "flags untouched");
        g = run64("c4e2e2f5c1", 0, 0x8000_0000_0000_0000L, 0x8000_0000_0000_0001L, 0);
        assertEquals(2, g.reg(Cpu.RAX));
    }

    @Test
    void pextThirtyTwoBitMaskFromMemory() {
        // pext eax, ebx, [rsi]
        Guest g = Guest.long64();
        g.ram.d(Guest.DATA, 0x8000_0001);
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.cpu.gpr[Cpu.RBX] = 0xFFFF_FFFF_8000_0000L;
        g.cpu.gpr[Cpu.RAX] = -1;
        g.code("c4e262f506f4").runToHalt();
        assertEquals(2, g.reg(Cpu.RAX));
    }

    @Test
    void rorxMasksTheCountAndKeepsFlags() {
        // rorx rax, rbx, 65 (count 65 & 63 = 1)
        Guest g = run64("c4e3fbf0c341", 0, 3, 0, ZF);
        assertEquals(0x8000_0000_0000_0001L, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g));
        // rorx eax, ebx, 33 (count 33 & 31 = 1)
        g = run64("c4e37bf0c321", -1, 0xFFFF_FFFF_0000_0003L, 0, 0);
        assertEquals(0x8000_0001L, g.reg(Cpu.RAX));
    }

    @Test
    void shiftsByRegisterMaskTheCountAndKeepFlags() {
        // shlx rax, rbx, rcx (count 65 -> 1)
        Guest g = run64("c4e2f1f7c3", 0, 0x8000_0000_0000_0001L, 65, CF | OF);
        assertEquals(2, g.reg(Cpu.RAX));
        assertEquals(CF | OF, flags(g));
        // sarx eax, ebx, ecx (count 36 -> 4)
        g = run64("c4e272f7c3", 0, 0x8000_0000L, 36, 0);
        assertEquals(0xF800_0000L, g.reg(Cpu.RAX));
        assertEquals(0, flags(g));
        // shrx rax, rbx, rcx (count 63)
        g = run64("c4e2f3f7c3", 0, 0x8000_0000_0000_0000L, 63, ZF);
        assertEquals(1, g.reg(Cpu.RAX));
        assertEquals(ZF, flags(g));
        // count 0: the source unchanged
        g = run64("c4e2f3f7c3", 0, 0x1234, 64, 0);
        assertEquals(0x1234, g.reg(Cpu.RAX));
    }

    // ---- ADX ----

    @Test
    void adcxAddsWithCarryAndWritesOnlyCf() {
        // adcx rax, rbx
        Guest g = run64("66480f38f6c3", -1, 0, 0, CF | OF | ZF | SF);
        assertEquals(0, g.reg(Cpu.RAX));
        assertEquals(CF | OF | ZF | SF, flags(g), "carry out; OF, ZF, SF untouched");
        g = run64("66480f38f6c3", 5, 7, 0, OF | CF);
        assertEquals(13, g.reg(Cpu.RAX));
        assertEquals(OF, flags(g), "no carry out clears CF; OF untouched");
    }

    @Test
    void adoxUsesOfAsTheCarry() {
        // adox eax, ebx
        Guest g = run64("f30f38f6c3", 0xFFFF_FFFF_FFFF_FFFFL, 1, 0, OF);
        assertEquals(1, g.reg(Cpu.RAX), "0xFFFFFFFF + 1 + 1, upper half cleared");
        assertEquals(OF, flags(g), "carry out into OF; CF untouched");
        g = run64("f30f38f6c3", 2, 3, 0, CF | OF);
        assertEquals(6, g.reg(Cpu.RAX));
        assertEquals(CF, flags(g));
    }

    @Test
    void adcxFromMemoryInThirtyTwoBitCode() {
        // adcx eax, [esi] (66 0F 38 F6 06) in 32-bit protected mode
        Guest g = Guest.flat32();
        g.ram.d(Guest.DATA, 0xFFFF_FFFF);
        g.cpu.gpr[Cpu.RSI] = Guest.DATA;
        g.cpu.gpr[Cpu.RAX] = 1;
        g.code("660f38f606f4").runToHalt();
        assertEquals(0, g.reg(Cpu.RAX));
        assertTrue((g.cpu.getRflags() & CF) != 0);
    }

    // ---- 32-bit code ----

    @Test
    void vexWIsIgnoredOutsideSixtyFourBitMode() {
        // andn eax, ebx, ecx encoded with VEX.W1 (C4 E2 E0 F2 C1) in 32-bit code: a 32-bit operation
        Guest g = Guest.flat32();
        g.cpu.gpr[Cpu.RBX] = 0x0000_FFFF;
        g.cpu.gpr[Cpu.RCX] = 0xFFFF_FFFF;
        g.code("c4e2e0f2c1f4").runToHalt();
        assertEquals(0xFFFF_0000L, g.reg(Cpu.RAX));
    }

    @Test
    void sixteenBitProtectedModeCodeUsesThirtyTwoBitOperandsAndSixteenBitAddresses() {
        // andn eax, ebx, [bx+si+2] (C4 E2 60 F2 40 02) in a 16-bit code segment, DS based at DATA
        Guest g = Guest.flat32();
        Cpu c = g.cpu;
        c.seg[lhv.cpu.Segment.CS].set(8, Guest.CODE, 0xFFFF, 0x009B);
        c.seg[lhv.cpu.Segment.DS].set(0x10, Guest.DATA, 0xFFFF, 0x0093);
        c.stateChanged();
        c.rip = 0;
        c.gpr[Cpu.RBX] = 0xFFFF_0000_00FFL;     // EBX: the first source, and BX = 00FFh the base register
        c.gpr[Cpu.RSI] = 0x1_0000;              // SI = 0: the upper bits take no part in 16-bit addressing
        g.ram.d(Guest.DATA + 0xFF + 2, 0xFFFF_FFFF);
        g.code("c4e260f24002f4").runToHalt();
        assertEquals(0xFFFF_FF00L, g.reg(Cpu.RAX), "NOT EBX (0000_00FF) AND the dword at DS:BX+SI+2");
    }

    @Test
    void c4IsLesInThirtyTwoBitCodeWhenModIsNotRegister() {
        // les eax, [ebx] (C4 03) in 32-bit code
        Guest g = Guest.flat32();
        g.ram.d(Guest.DATA, 0x1234_5678);
        g.ram.b(Guest.DATA + 4, 0x10);
        g.ram.b(Guest.DATA + 5, 0);
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.code("c403f4").runToHalt();
        assertEquals(0x1234_5678L, g.reg(Cpu.RAX));
        assertEquals(0x10, g.cpu.seg[lhv.cpu.Segment.ES].selector);
    }

    // ---- #UD rules (SDM Vol. 2 Table 2-29) ----

    private static void assertUd(Guest g, String hex, String why) {
        g.code(hex + "f4");
        CpuFault f = g.runToFault();
        assertEquals(6, f.vector, why);
        assertEquals(g.cpu.mode == lhv.cpu.Mode.REAL ? Guest.REAL_CODE : Guest.CODE, g.cpu.rip, "RIP at the instruction");
    }

    @Test
    void vexLengthOneIsUd() {
        // andn rax, rbx, rcx with VEX.L = 1 (C4 E2 E4 F2 C1)
        assertUd(Guest.long64(), "c4e2e4f2c1", "VEX.L = 1");
    }

    @Test
    void rorxWithVvvvNamingARegisterIsUd() {
        // rorx rax, rbx, 1 with VEX.vvvv = 0 (C4 E3 83 F0 C3 01)
        assertUd(Guest.long64(), "c4e383f0c301", "VEX.vvvv must be 1111b");
    }

    @Test
    void prefixesBeforeVexAreUd() {
        assertUd(Guest.long64(), "66c4e2e0f2c1", "66H before VEX");
        assertUd(Guest.long64(), "f3c4e2e0f2c1", "F3H before VEX");
        assertUd(Guest.long64(), "f2c4e2e0f2c1", "F2H before VEX");
        assertUd(Guest.long64(), "48c4e2e0f2c1", "REX before VEX");
        assertUd(Guest.long64(), "f0c4e2e0f2c1", "LOCK before VEX");
        // a segment override and 67H are allowed: andn eax, ebx, [esi] with 67H and FS
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RSI] = 0x1_0000_0000L + Guest.DATA;   // 67H truncates the address to 32 bits
        g.ram.d(Guest.DATA, 0xFF);
        g.code("6467c4e260f206f4").runToHalt();
        assertEquals(0xFF, g.reg(Cpu.RAX));
    }

    @Test
    void unassignedFormsAreUd() {
        assertUd(Guest.long64(), "c4e2f8f3c3", "BLS group ModRM.reg = 0");
        assertUd(Guest.long64(), "c4e2e1f2c1", "ANDN with pp = 66");
        assertUd(Guest.long64(), "c4e2e1f5c1", "0F38 F5 with pp = 66");
        assertUd(Guest.long64(), "c4e2e0f6c1", "MULX needs pp = F2");
        assertUd(Guest.long64(), "c4e2e0f0c1", "0F38 F0 has no VEX form");
        assertUd(Guest.long64(), "c4e3f8f0c301", "RORX needs pp = F2");
        assertUd(Guest.long64(), "c4e0e0f2c1", "VEX.mmmmm = 0 is reserved");
        assertUd(Guest.long64(), "c4e4e0f2c1", "VEX.mmmmm = 4 is reserved");
        assertUd(Guest.long64(), "0f38f6c3", "0F 38 F6 without prefix is WRSS: not reported");
        assertUd(Guest.long64(), "f20f38f6c3", "F2 0F 38 F6 is unassigned");
        assertUd(Guest.long64(), "f0660f38f603", "LOCK ADCX");
    }

    @Test
    void featuresTheModelDoesNotReportAreUd() {
        Guest g = Guest.long64();
        g.cpu.interpreter.setExtensions(false, true, true, true, true, true);
        assertUd(g, "c4e2e0f2c1", "ANDN without BMI1");
        g = Guest.long64();
        g.cpu.interpreter.setExtensions(true, false, true, true, true, true);
        assertUd(g, "c4e2e3f6c1", "MULX without BMI2");
        g = Guest.long64();
        g.cpu.interpreter.setExtensions(true, false, true, true, true, true);
        assertUd(g, "c4e2f1f7c3", "SHLX without BMI2");
        g = Guest.long64();
        g.cpu.interpreter.setExtensions(false, true, true, true, true, true);
        assertUd(g, "c4e2f0f7c3", "BEXTR without BMI1");
        g = Guest.long64();
        g.cpu.interpreter.setExtensions(true, true, false, true, true, true);
        assertUd(g, "66480f38f6c3", "ADCX without ADX");
    }

    @Test
    void vexInRealModeIsUd() {
        // C5 F8 77 (VZEROUPPER) and C4 E2 60 F2 C1 (ANDN) in real mode: ModRM.mod = 11b, so not LDS/LES
        assertUd(Guest.real16(), "c4e260f2c1", "BMI in real mode");
        assertUd(Guest.real16(), "c5f877", "AVX in real mode");
    }

    @Test
    void vexInVirtual8086ModeIsUd() {
        Guest g = Guest.flat32();
        Cpu c = g.cpu;
        c.setRflags(Rflags.VM | Rflags.FIXED1);
        for (int s = 0; s < 6; s++) c.seg[s].set(0x2000, 0x20000, 0xFFFF, 0xF3);
        c.cpl = 3;
        c.stateChanged();
        assertEquals(lhv.cpu.Mode.VIRTUAL_8086, c.mode);
        c.rip = 0x100;
        g.codeAt(0x20100, "c4e260f2c1f4");                    // andn eax, ebx, ecx
        assertEquals(6, g.runToFault().vector);
        assertEquals(0x100, c.rip);
    }

    @Test
    void avxStaysNotImplementedInProtectedModes() {
        // vzeroupper
        Guest g = Guest.long64().code("c5f877f4");
        assertEquals(StopReason.NOT_IMPLEMENTED, g.run());
        assertTrue(g.cpu.notImplementedMessage.startsWith("not implemented: AVX"), g.cpu.notImplementedMessage);
        // vpaddd xmm0, xmm1, xmm2 in 32-bit code
        g = Guest.flat32().code("c5f1fec2f4");
        assertEquals(StopReason.NOT_IMPLEMENTED, g.run());
        assertTrue(g.cpu.notImplementedMessage.startsWith("not implemented: AVX"), g.cpu.notImplementedMessage);
    }
}
