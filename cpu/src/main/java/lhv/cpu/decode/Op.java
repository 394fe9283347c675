package lhv.cpu.decode;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * Operation ids of decoded instructions ({@link Insn#op}): the interpreter's dispatch key.
 *
 * <p>Context: constants shared by the decoder (guest instruction fetch) and the interpreter. One id
 * per semantic form; details the id leaves open travel in {@link Insn#sub}. Operand forms follow the
 * SDM Vol. 2 opcode-map notation: E = ModRM r/m operand (register or memory), G = ModRM reg, I =
 * immediate.
 */
public final class Op {
    private Op() { }

    // ---- pseudo operations produced by the decoder ----
    /** Invalid opcode or prefix use: #UD when executed. */
    public static final int UD = 1;
    /** Longer than 15 bytes: #GP(0) when executed (SDM Vol. 2 2.3.11). */
    public static final int TOO_LONG = 2;
    /** Valid instruction this model does not implement (x87, SSE, AVX, MMX). */
    public static final int NOT_IMPLEMENTED = 3;

    // ---- integer arithmetic and logic (sub = ALU operation: ADD OR ADC SBB AND SUB XOR CMP) ----
    public static final int ALU_EG = 10, ALU_GE = 11, ALU_EI = 12, TEST_EG = 13, TEST_EI = 14;
    public static final int INC = 15, DEC = 16, NOT = 17, NEG = 18;
    public static final int MUL = 20, IMUL1 = 21, DIV = 22, IDIV = 23, IMUL_GE = 24, IMUL_GEI = 25;
    /** Shift/rotate, sub = kind (ROL ROR RCL RCR SHL SHR SAL SAR); count in imm or CL. */
    public static final int SHIFT_I = 26, SHIFT_CL = 27;
    public static final int SHLD_I = 28, SHLD_CL = 29, SHRD_I = 30, SHRD_CL = 31;
    /** Bit test family, sub = 0 BT, 1 BTS, 2 BTR, 3 BTC. */
    public static final int BT_EG = 32, BT_EI = 33;
    public static final int BSF = 34, BSR = 35, TZCNT = 36, LZCNT = 37, POPCNT = 38;
    public static final int XADD = 39, CMPXCHG = 40, CMPXCHG8B = 41;
    public static final int DAA = 42, DAS = 43, AAA = 44, AAS = 45, AAM = 46, AAD = 47;

    // ---- data movement ----
    public static final int MOV_EG = 50, MOV_GE = 51, MOV_EI = 52, MOV_E_SREG = 53, MOV_SREG_E = 54;
    public static final int MOVZX_B = 55, MOVZX_W = 56, MOVSX_B = 57, MOVSX_W = 58, MOVSXD = 59;
    public static final int LEA = 60, XCHG = 61, BSWAP = 62, CMOV = 63, SETCC = 64, MOVBE_GM = 65, MOVBE_MG = 66;
    public static final int PUSH_E = 67, PUSH_I = 68, PUSH_SREG = 69, POP_E = 70, POP_SREG = 71;
    public static final int PUSHA = 72, POPA = 73, PUSHF = 74, POPF = 75, ENTER = 76, LEAVE = 77;
    public static final int XLAT = 78, CBW = 79, CWD = 80, LOAD_FAR = 81, BOUND = 82, ARPL = 83;
    public static final int CLC = 84, STC = 85, CMC = 86, CLD = 87, STD = 88, CLI = 89, STI = 90,
            LAHF = 91, SAHF = 92, CLAC = 93, STAC = 94;

    // ---- control transfer ----
    public static final int JCC = 100, JMP_REL = 101, JMP_E = 102, CALL_REL = 103, CALL_E = 104, RET = 105;
    public static final int JMPF_PTR = 106, JMPF_M = 107, CALLF_PTR = 108, CALLF_M = 109, RETF = 110;
    public static final int LOOP = 111, LOOPE = 112, LOOPNE = 113, JCXZ = 114;
    public static final int INT = 115, INT3 = 116, INTO = 117, INT1 = 118, IRET = 119;

    // ---- strings and I/O ----
    public static final int MOVS = 120, CMPS = 121, STOS = 122, LODS = 123, SCAS = 124, INS = 125, OUTS = 126;
    public static final int IN_I = 127, IN_DX = 128, OUT_I = 129, OUT_DX = 130;

    // ---- miscellaneous ----
    public static final int NOP = 131, PAUSE = 132, HLT = 133, UD2 = 134, FENCE = 135, CLFLUSH = 136;

    // ---- system ----
    public static final int SGDT = 140, SIDT = 141, LGDT = 142, LIDT = 143, SMSW = 144, LMSW = 145,
            INVLPG = 146, SLDT = 147, STR = 148, LLDT = 149, LTR = 150, VERR = 151, VERW = 152,
            LAR = 153, LSL = 154, CLTS = 155, INVD = 156, WBINVD = 157;
    public static final int MOV_R_CR = 158, MOV_CR_R = 159, MOV_R_DR = 160, MOV_DR_R = 161;
    public static final int WRMSR = 162, RDMSR = 163, RDTSC = 164, RDTSCP = 165, RDPMC = 166, CPUID = 167;
    public static final int SYSCALL = 168, SYSRET = 169, SYSENTER = 170, SYSEXIT = 171, SWAPGS = 172;
    public static final int MONITOR = 173, MWAIT = 174, XGETBV = 175, XSETBV = 176, RDRAND = 177,
            RDSEED = 178, GETSEC = 179, RSM = 180, RDFSBASE = 181, WRFSBASE = 182;
    /** VMX instruction, sub = {@link lhv.cpu.intercept.VmxInstruction} ordinal. */
    public static final int VMX = 183;

    // ---- specialized forms of the hottest instructions (same semantics, fewer run-time decisions) ----
    /** Register-register ALU: base + 8 * (opSize == 8) + ALU operation; destination rm, source reg. */
    public static final int ALU_RR32 = 200, ALU_RR64 = 208;
    /** Register-immediate ALU: base + ALU operation; destination rm. */
    public static final int ALU_RI32 = 216, ALU_RI64 = 224;
    /** MOV between 32/64-bit registers (rm <- reg for MOV_EG forms, reg <- rm for MOV_GE forms). */
    public static final int MOV_RR32_EG = 232, MOV_RR64_EG = 233, MOV_RR32_GE = 234, MOV_RR64_GE = 235;
    /** MOV reg <- memory and memory <- reg with 32/64-bit operands. */
    public static final int LOAD32 = 236, LOAD64 = 237, STORE32 = 238, STORE64 = 239;

    /** INC/DEC of a 32/64-bit register. */
    public static final int INC32 = 240, INC64 = 241, DEC32 = 242, DEC64 = 243;
    /** SHL/SHR/SAR of a 32/64-bit register by an immediate count. */
    public static final int SHL_RI32 = 244, SHL_RI64 = 245, SHR_RI32 = 246, SHR_RI64 = 247, SAR_RI32 = 248, SAR_RI64 = 249;
    /** LEA with 64-bit operand and address size; IMUL r64, r/m64, imm. */
    public static final int LEA64 = 250, IMUL_GEI64 = 251;
    /** Jcc in 64-bit mode; MOV r32/r64, imm. */
    public static final int JCC64 = 252, MOV_RI32 = 253, MOV_RI64 = 254;
    /** IMUL r64, r/m64; JMP rel in 64-bit mode. */
    public static final int IMUL_GE64 = 255, JMP_REL64 = 256;
    /** ROL/ROR of a 64-bit register by a non-zero immediate; BT r64, imm8. */
    public static final int ROL_RI64 = 257, ROR_RI64 = 258, BT_RI64 = 259;

    // ---- BMI1, BMI2 (VEX-encoded general-purpose forms, SDM Vol. 2 pages of the same names) and ADX ----
    /** BMI1: ANDN, BEXTR, BLSI, BLSMSK, BLSR (VEX.LZ.0F38 F2, F7, F3 /3, F3 /2, F3 /1). */
    public static final int ANDN = 280, BEXTR = 281, BLSI = 282, BLSMSK = 283, BLSR = 284;
    /** BMI2: BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX (VEX.LZ.0F38 F5, F6, F7; VEX.LZ.F2.0F3A F0). */
    public static final int BZHI = 285, MULX = 286, PDEP = 287, PEXT = 288, RORX = 289, SARX = 290, SHLX = 291,
            SHRX = 292;
    /** ADX: ADCX (66 0F 38 F6), ADOX (F3 0F 38 F6). */
    public static final int ADCX = 293, ADOX = 294;

    public static final int COUNT = 296;

    private static volatile String[] names;

    /** Name of an op id for diagnostics (not used on hot paths). */
    public static String name(int op) {
        String[] n = names;
        if (n == null) {
            n = new String[COUNT];
            for (Field f : Op.class.getFields()) {
                if (f.getType() == int.class && Modifier.isStatic(f.getModifiers()) && !f.getName().equals("COUNT")) {
                    try {
                        int v = f.getInt(null);
                        if (v >= 0 && v < COUNT) n[v] = f.getName();
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            names = n;
        }
        return op >= 0 && op < COUNT && n[op] != null ? n[op] : "op" + op;
    }
}
