package lhv.cpu.decode;

import lhv.cpu.Segment;
import lhv.cpu.intercept.VmxInstruction;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

/** Decoding facts of SDM Vol. 2 chapter 2 and the opcode maps, one encoding per assertion group. */
class DecoderTest {
    private final Decoder decoder = new Decoder();

    private Insn decode(int codeSize, String hex) {
        byte[] b = HexFormat.of().parseHex(hex.replace(" ", ""));
        byte[] padded = java.util.Arrays.copyOf(b, 16);
        Insn i = new Insn();
        decoder.decode(i, k -> padded[k] & 0xFF, codeSize);
        return i;
    }

    @Test
    void sibWithDisplacementAndAddressSizeOverride() {
        Insn i = decode(8, "67 80 44 98 10 05");          // add byte [eax+ebx*4+0x10], 5
        assertEquals(Op.ALU_EI, i.op);
        assertEquals(0, i.sub);
        assertEquals(6, i.length);
        assertEquals(4, i.addrSize);
        assertEquals(1, i.opSize);
        assertTrue(i.mem);
        assertEquals(0, i.base);
        assertEquals(3, i.index);
        assertEquals(2, i.scale);
        assertEquals(0x10, i.disp);
        assertEquals(5, i.imm);
    }

    @Test
    void lockIsValidOnlyWithLockableMemoryDestinations() {
        assertEquals(Op.ALU_EG, decode(8, "f0 01 06").op);     // lock add [rsi], eax
        assertEquals(Op.UD, decode(8, "f0 89 06").op);         // lock mov [rsi], eax
        assertEquals(Op.UD, decode(8, "f0 01 c0").op);         // lock add eax, eax (register destination)
        assertEquals(Op.UD, decode(8, "f0 39 06").op);         // lock cmp: not lockable
    }

    @Test
    void rexWWinsOverOperandSizePrefixAndRexMustBeLast() {
        assertEquals(8, decode(8, "66 48 89 c8").opSize);      // 66 REX.W mov rax, rcx
        Insn i = decode(8, "48 66 89 c8");                     // REX before 66: REX ignored
        assertEquals(2, i.opSize);
        assertEquals(0, i.rex);
        assertEquals(4, i.length);
    }

    @Test
    void ripRelativeAddressingIn64BitMode() {
        Insn i = decode(8, "8b 05 10 00 00 00");
        assertEquals(Insn.RIP_BASE, i.base);
        assertEquals(Insn.NO_REG, i.index);
        assertEquals(0x10, i.disp);
        Insn j = decode(4, "8b 05 10 00 00 00");               // 32-bit mode: disp32 absolute
        assertEquals(Insn.NO_REG, j.base);
    }

    @Test
    void segmentOverridesIn64BitModeOnlyFsAndGsCount() {
        assertEquals(Segment.DS, decode(8, "2e 8b 05 00 00 00 00").seg);
        Insn fs = decode(8, "64 8b 45 08");                    // fs mov eax, [rbp+8]
        assertEquals(Segment.FS, fs.seg);
        assertEquals(Segment.SS, decode(8, "8b 45 08").seg);   // rBP base defaults to SS
        assertEquals(Segment.CS, decode(4, "2e 8b 05 00 00 00 00").seg);
    }

    @Test
    void byteRegistersWithAndWithoutRex() {
        Insn ah = decode(8, "0f b6 c4");                       // movzx eax, ah
        assertEquals(4, ah.rm);
        assertEquals(2, ah.highByte & 2);
        Insn sil = decode(8, "40 0f b6 c6");                   // movzx eax, sil
        assertEquals(6, sil.rm);
        assertEquals(0, sil.highByte);
    }

    @Test
    void defaultAnd64BitOperandSizes() {
        assertEquals(2, decode(8, "66 50").opSize);            // push ax
        assertEquals(8, decode(8, "ff 74 24 08").opSize);      // push qword [rsp+8]
        assertEquals(8, decode(8, "66 eb fd").opSize);         // 66 ignored for near branches (Intel 64)
        assertEquals(3, decode(8, "66 eb fd").length);
        assertEquals(2, decode(4, "66 eb fd").opSize);
    }

    @Test
    void moffsTakesTheAddressSize() {
        Insn i = decode(8, "48 a1 88 77 66 55 44 33 22 11");
        assertEquals(Op.LOAD64, i.op);                         // MOV RAX, moffs64: a 64-bit load
        assertTrue(i.mem);
        assertEquals(10, i.length);
        assertEquals(0x1122334455667788L, i.disp);
        assertEquals(0, i.reg);
        Insn j = decode(2, "a1 34 12");
        assertEquals(3, j.length);
        assertEquals(0x1234, j.disp);
    }

    @Test
    void sixteenBitAddressingForms() {
        Insn i = decode(2, "8b 40 04");                        // mov ax, [bx+si+4]
        assertEquals(3, i.base);
        assertEquals(6, i.index);
        assertEquals(4, i.disp);
        assertEquals(Segment.DS, i.seg);
        Insn bp = decode(2, "8b 46 00");                       // mov ax, [bp+0]
        assertEquals(5, bp.base);
        assertEquals(Segment.SS, bp.seg);
        Insn abs = decode(2, "8b 06 34 12");                   // mov ax, [0x1234]
        assertEquals(Insn.NO_REG, abs.base);
        assertEquals(0x1234, abs.disp);
        Insn o32 = decode(2, "66 67 8b 45 04");                // mov eax, [ebp+4]
        assertEquals(4, o32.opSize);
        assertEquals(4, o32.addrSize);
        assertEquals(Segment.SS, o32.seg);
    }

    @Test
    void xchgWithRexBAndPause() {
        Insn x = decode(8, "49 90");                           // xchg r8, rax
        assertEquals(Op.XCHG, x.op);
        assertEquals(8, x.rm);
        assertEquals(Op.PAUSE, decode(8, "f3 90").op);
        assertEquals(Op.NOP, decode(8, "90").op);
        assertEquals(Op.NOP, decode(8, "0f 1f 44 00 00").op);
    }

    @Test
    void instructionsInvalidIn64BitMode() {
        for (String hex : new String[] {"06", "07", "0e", "16", "17", "1e", "1f", "27", "2f", "37", "3f", "60", "61",
                "ce", "d4 0a", "d5 0a", "9a 00 00 00 00 00 00", "ea 00 00 00 00 00 00", "82 c0 01"}) {
            assertEquals(Op.UD, decode(8, hex).op, hex);
        }
        assertEquals(Op.PUSH_SREG, decode(2, "0e").op);
        assertEquals(Op.LOAD_FAR, decode(2, "c4 1c").op);      // les bx, [si]
    }

    @Test
    void fifteenByteLimit() {
        Insn i = decode(8, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90");
        assertEquals(15, i.length);
        assertEquals(Op.NOP, i.op);
        Insn j = decode(8, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90");
        assertEquals(Op.TOO_LONG, j.op);
    }

    @Test
    void x87SseAndAvxAreNotImplementedRatherThanUndefined() {
        assertEquals(Op.NOT_IMPLEMENTED, decode(8, "d9 c0").op);
        assertEquals(Decoder.NI_X87, decode(8, "d9 c0").sub);
        Insn sse = decode(8, "0f 58 c1");                      // addps xmm0, xmm1
        assertEquals(Op.NOT_IMPLEMENTED, sse.op);
        assertEquals(Decoder.NI_SSE, sse.sub);
        assertEquals(3, sse.length);
        Insn avx = decode(8, "c5 fc 58 c1");                   // vaddps ymm0, ymm0, ymm1
        assertEquals(Decoder.NI_AVX, avx.sub);
        assertEquals(4, avx.length);
    }

    @Test
    void vmxInstructions() {
        assertVmx("f3 0f c7 36", VmxInstruction.VMXON);
        assertVmx("0f c7 36", VmxInstruction.VMPTRLD);
        assertVmx("66 0f c7 36", VmxInstruction.VMCLEAR);
        assertVmx("0f c7 3e", VmxInstruction.VMPTRST);
        assertVmx("0f 78 c8", VmxInstruction.VMREAD);
        assertVmx("0f 79 c8", VmxInstruction.VMWRITE);
        assertVmx("0f 01 c1", VmxInstruction.VMCALL);
        assertVmx("0f 01 c2", VmxInstruction.VMLAUNCH);
        assertVmx("0f 01 c3", VmxInstruction.VMRESUME);
        assertVmx("0f 01 c4", VmxInstruction.VMXOFF);
        assertVmx("0f 01 d4", VmxInstruction.VMFUNC);
        assertVmx("66 0f 38 80 06", VmxInstruction.INVEPT);
        assertVmx("66 0f 38 81 06", VmxInstruction.INVVPID);
        assertEquals(Op.UD, decode(8, "0f 38 80 06").op, "INVEPT needs 66");
        assertEquals(Op.RDRAND, decode(8, "0f c7 f0").op);
        assertEquals(Op.RDSEED, decode(8, "0f c7 f8").op);
    }

    private void assertVmx(String hex, VmxInstruction which) {
        Insn i = decode(8, hex);
        assertEquals(Op.VMX, i.op, hex);
        assertEquals(which.ordinal(), i.sub, hex);
    }

    @Test
    void movCrIgnoresModAndUsesRexR() {
        Insn i = decode(8, "44 0f 20 c0");                     // mov rax, cr8
        assertEquals(Op.MOV_R_CR, i.op);
        assertEquals(8, i.reg);
        assertEquals(0, i.rm);
        assertEquals(8, i.opSize);
        Insn j = decode(4, "0f 22 18");                        // mod=00 still names a register: mov cr3, eax
        assertEquals(3, j.reg);
        assertEquals(0, j.rm);
        assertFalse(j.mem);
    }

    // ---- VEX-encoded general-purpose instructions (SDM Vol. 2 2.3.5, 2.3.6) ----

    @Test
    void vexRegistersAreExtendedByRxBAndVvvv() {
        Insn i = decode(8, "c4 42 b0 f2 c2");                 // andn r8, r9, r10
        assertEquals(Op.ANDN, i.op);
        assertEquals(5, i.length);
        assertEquals(8, i.opSize);
        assertEquals(8, i.reg);
        assertEquals(9, i.vvvv);
        assertEquals(10, i.rm);
        assertEquals(0, i.rex, "VEX is not a REX prefix");
        i = decode(8, "c4 02 80 f7 64 f5 10");                // bextr r12, [r13+r14*8+0x10], r15
        assertEquals(Op.BEXTR, i.op);
        assertEquals(7, i.length);
        assertEquals(12, i.reg);
        assertEquals(15, i.vvvv);
        assertEquals(13, i.base);
        assertEquals(14, i.index);
        assertEquals(3, i.scale);
        assertEquals(0x10, i.disp);
        i = decode(8, "c4 a2 78 f3 1c 88");                   // blsi eax, [rax+r9*4]
        assertEquals(Op.BLSI, i.op);
        assertEquals(4, i.opSize);
        assertEquals(0, i.vvvv);
        assertEquals(0, i.base);
        assertEquals(9, i.index);
    }

    @Test
    void vexOutside64BitModeIgnoresWAndTheTopBitOfVvvv() {
        Insn i = decode(4, "c4 e2 e0 f2 c1");                 // andn eax, ebx, ecx with VEX.W1
        assertEquals(Op.ANDN, i.op);
        assertEquals(4, i.opSize);
        assertEquals(3, i.vvvv);
        assertEquals(3, decode(4, "c4 e2 20 f2 c1").vvvv, "vvvv = 1011b names EBX");
        assertEquals(Op.LOAD_FAR, decode(4, "c4 03").op, "LES when ModRM.mod != 11b");
        assertEquals(Op.LOAD_FAR, decode(2, "c5 07").op, "LDS when ModRM.mod != 11b");
        assertEquals(Op.RORX, decode(4, "c4 e3 3b f0 c3 01").op, "RORX: vvvv = 0111b is 1111b here");
        assertEquals(Op.UD, decode(8, "c4 e3 3b f0 c3 01").op, "but not in 64-bit mode");
    }

    @Test
    void bmiOpcodeTable() {
        String[][] rows = {                                   // encoding, op (64-bit mode, ModRM C1 or /digit)
            {"c4e2e0f2c1", "ANDN"}, {"c4e2f0f7c3", "BEXTR"}, {"c4e2f8f3db", "BLSI"}, {"c4e2f8f3d3", "BLSMSK"},
            {"c4e2f8f3cb", "BLSR"}, {"c4e2f0f5c3", "BZHI"}, {"c4e2e3f6c1", "MULX"}, {"c4e2e3f5c1", "PDEP"},
            {"c4e2e2f5c1", "PEXT"}, {"c4e3fbf0c341", "RORX"}, {"c4e2f2f7c3", "SARX"}, {"c4e2f1f7c3", "SHLX"},
            {"c4e2f3f7c3", "SHRX"}, {"66480f38f6c3", "ADCX"}, {"f30f38f6c3", "ADOX"},
        };
        for (String[] r : rows) assertEquals(r[1], Op.name(decode(8, r[0]).op), r[0]);
        assertEquals(4, decode(2, "66 0f 38 f6 c3").opSize, "ADCX in 16-bit code: 66H is mandatory, not a size");
        assertEquals(8, decode(8, "66 48 0f 38 f6 c3").opSize);
    }

    @Test
    void absentFeaturesDecodeAsUd() {
        decoder.setFeatures(false, false, false, true, true, true);
        assertEquals(Op.UD, decode(8, "c4e2e0f2c1").op, "ANDN without BMI1");
        assertEquals(Op.UD, decode(8, "c4e2e3f6c1").op, "MULX without BMI2");
        assertEquals(Op.UD, decode(8, "66480f38f6c3").op, "ADCX without ADX");
        assertEquals(Op.BSF, decode(8, "f30fbcc3").op, "TZCNT is BSF without BMI1");
    }
}
