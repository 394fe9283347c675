package lhv.cpu.decode;

/**
 * One decoded instruction, kept as primitives so the interpreter can dispatch on {@link #op} without
 * allocation and a later translator can consume the same form.
 *
 * <p>Context: produced by the decoder (guest instruction fetch), cached per physical code page,
 * read by the interpreter, the system-instruction unit and the VMX layer (which needs the operand
 * description for VM-exit instruction information, SDM Vol. 3C 28.2.5).
 *
 * <p>Register numbers are 0..15 in the SDM encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
 * R8..R15), already extended by REX; for byte operands without REX, 4..7 mean AH, CH, DH, BH and
 * {@link #highByte} tells so.
 */
public final class Insn {
    public static final int NO_REG = -1;
    /** Base value meaning RIP-relative addressing (64-bit mode, SDM Vol. 2 2.2.1.6). */
    public static final int RIP_BASE = 16;

    /** Operation id (the interpreter's dispatch key). */
    public int op;
    /** Instruction length in bytes (1..15). */
    public int length;
    /** Operand size in bytes: 1, 2, 4 or 8. */
    public int opSize;
    /** Address size in bytes: 2, 4 or 8. */
    public int addrSize;
    /** Legacy prefix bits: see the P_ constants. */
    public int prefixes;
    /** REX byte (0x40..0x4F) or 0. */
    public int rex;

    /** ModRM present. */
    public boolean hasModrm;
    /** ModRM.mod (0..3). */
    public int mod;
    /** ModRM.reg extended by REX.R (also the opcode extension for group opcodes, then unextended). */
    public int reg;
    /** ModRM.rm extended by REX.B when mod == 3, or the register encoded in the opcode byte. */
    public int rm;
    /** True when operand rm is memory (mod != 3). */
    public boolean mem;
    /** Segment register of the memory operand (Segment.ES..GS) after defaults and overrides. */
    public int seg;
    /** Base register of the memory operand, {@link #NO_REG} or {@link #RIP_BASE}. */
    public int base;
    /** Index register of the memory operand or {@link #NO_REG}. */
    public int index;
    /** Scale factor shift (0..3). */
    public int scale;
    /** Sign-extended displacement. */
    public long disp;
    /** First immediate (sign- or zero-extended as the form requires). */
    public long imm;
    /** Second immediate (ENTER's level, far pointer selector). */
    public long imm2;
    /** For 8-bit register operands without REX: reg / rm 4..7 name AH..BH (bit 0: reg, bit 1: rm). */
    public int highByte;

    /**
     * Operation detail the op id leaves open: ALU operation (0..7 in /digit order), condition code
     * (0..15) for Jcc/SETcc/CMOVcc, shift/rotate kind (/digit), segment register for segment forms,
     * VmxInstruction ordinal for VMX instructions.
     */
    public int sub;
    /** Opcode with its map: 0xXX one-byte, 0x0FXX two-byte, 0x0F38XX / 0x0F3AXX three-byte. */
    public int opcode;
    /**
     * Register named by VEX.vvvv (already un-inverted; 0..15 in 64-bit mode, 0..7 elsewhere), for the
     * VEX-encoded general-purpose instructions (BMI1/BMI2, SDM Vol. 2 2.3.6); 0 otherwise.
     */
    public int vvvv;

    public static final int P_LOCK = 1, P_REP = 2, P_REPNE = 4, P_OPSIZE = 8, P_ADDRSIZE = 16,
            P_SEGOVR = 32;

    public boolean has(int prefixBit) {
        return (prefixes & prefixBit) != 0;
    }

    public void copyFrom(Insn o) {
        op = o.op; length = o.length; opSize = o.opSize; addrSize = o.addrSize; prefixes = o.prefixes;
        rex = o.rex; hasModrm = o.hasModrm; mod = o.mod; reg = o.reg; rm = o.rm; mem = o.mem;
        seg = o.seg; base = o.base; index = o.index; scale = o.scale; disp = o.disp; imm = o.imm;
        imm2 = o.imm2; highByte = o.highByte; sub = o.sub; opcode = o.opcode;
        vvvv = o.vvvv;
    }
}
