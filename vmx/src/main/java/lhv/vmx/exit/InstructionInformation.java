package lhv.vmx.exit;

import lhv.cpu.decode.Insn;

/**
 * The VM-exit instruction-information field, SDM Vol. 3C 28.2.5 (Tables 28-8 .. 28-14): how the
 * exiting instruction addressed its operands, so host software can emulate it without decoding.
 *
 * <p>Context: built by the processor during a VM exit from the decoded instruction ({@link Insn});
 * read back by host software with the accessors. Bits the SDM calls undefined are left 0.
 *
 * <p>Common layout of the memory-operand formats: 1:0 scaling, 9:7 address size (0 16-bit, 1 32-bit,
 * 2 64-bit), 10 mem/reg (1 = register operand), 17:15 segment register (ES..GS = 0..5), 21:18 index
 * register, 22 index invalid, 26:23 base register, 27 base invalid.
 */
public final class InstructionInformation {
    private InstructionInformation() { }

    /** Identities of SDM Table 28-10 (bits 29:28). */
    public static final int SGDT = 0, SIDT = 1, LGDT = 2, LIDT = 3;
    /** Identities of SDM Table 28-11 (bits 29:28). */
    public static final int SLDT = 0, STR = 1, LLDT = 2, LTR = 3;

    static int addressSizeCode(int addrSize) {
        return addrSize == 2 ? 0 : addrSize == 4 ? 1 : 2;
    }

    /** Scaling, address size, segment, index and base of a memory operand (mem/reg bit clear). */
    static int memoryOperand(Insn insn) {
        int v = (insn.scale & 3) | addressSizeCode(insn.addrSize) << 7 | (insn.seg & 7) << 15;
        // RIP-relative addressing has neither base nor index register (SDM 28.2.5).
        if (insn.index == Insn.NO_REG) v |= 1 << 22; else v |= (insn.index & 0xF) << 18;
        if (insn.base == Insn.NO_REG || insn.base == Insn.RIP_BASE) v |= 1 << 27; else v |= (insn.base & 0xF) << 23;
        if (insn.index == Insn.NO_REG) v &= ~3; // scaling is undefined without an index: report 0
        return v;
    }

    /** INS/OUTS, SDM Table 28-8: address size in 9:7 and (OUTS only) the source segment in 17:15. */
    public static int insOuts(int addrSize, int segment) {
        return addressSizeCode(addrSize) << 7 | (segment & 7) << 15;
    }

    /**
     * VMCLEAR, VMPTRLD, VMPTRST, VMXON, VMREAD, VMWRITE, SDM Table 28-14 (and INVEPT/INVVPID/INVPCID,
     * Table 28-9, which share the layout): the r/m operand as register (reg1, bits 6:3) or memory,
     * and reg2 (bits 31:28) = the ModRM.reg register of VMREAD/VMWRITE.
     */
    public static int vmxInstruction(Insn insn) {
        int v = insn.mem ? memoryOperand(insn) : 1 << 10 | (insn.rm & 0xF) << 3;
        if (insn.hasModrm) v |= (insn.reg & 0xF) << 28;
        return v;
    }

    /** LGDT, LIDT, SGDT, SIDT, SDM Table 28-10: operand size in bit 11 (0 16-bit, 1 32-bit) and identity in 29:28. */
    public static int descriptorTable(Insn insn, int identity) {
        return memoryOperand(insn) | (insn.opSize == 2 ? 0 : 1 << 11) | (identity & 3) << 28;
    }

    /** LLDT, LTR, SLDT, STR, SDM Table 28-11: register (reg1 in 6:3) or memory operand, identity in 29:28. */
    public static int ldtrTr(Insn insn, int identity) {
        int v = insn.mem ? memoryOperand(insn) : 1 << 10 | (insn.rm & 0xF) << 3;
        return v | (identity & 3) << 28;
    }

    /** RDRAND, RDSEED, SDM Table 28-12: destination register in 6:3, operand size in 12:11 (0 16, 1 32, 2 64). */
    public static int rdrandRdseed(int destinationRegister, int opSize) {
        return (destinationRegister & 0xF) << 3 | (opSize == 2 ? 0 : opSize == 4 ? 1 : 2) << 11;
    }

    // ---- decoding, for host software ----
    public static int scaling(int info) { return info & 3; }
    public static int reg1(int info) { return info >>> 3 & 0xF; }
    /** Address size in bytes (2, 4 or 8). */
    public static int addressSize(int info) { return 2 << (info >>> 7 & 7); }
    public static boolean isRegister(int info) { return (info & 1 << 10) != 0; }
    public static int segment(int info) { return info >>> 15 & 7; }
    /** Index register number, or -1 when bit 22 says there is none. */
    public static int indexRegister(int info) { return (info & 1 << 22) != 0 ? -1 : info >>> 18 & 0xF; }
    /** Base register number, or -1 when bit 27 says there is none. */
    public static int baseRegister(int info) { return (info & 1 << 27) != 0 ? -1 : info >>> 23 & 0xF; }
    public static int reg2(int info) { return info >>> 28 & 0xF; }
    public static int identity(int info) { return info >>> 28 & 3; }
}
