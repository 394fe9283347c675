package lhv.cpu.decode;

import lhv.cpu.Segment;
import lhv.cpu.intercept.VmxInstruction;

/**
 * The x86-64 instruction decoder: bytes to one {@link Insn} (SDM Vol. 2 chapter 2 and appendix A,
 * opcode maps).
 *
 * <p>Context: guest instruction fetch, when the interpreter builds a decoded block; never on the
 * per-instruction hot path (decoded blocks are cached). One instance per processor, reused.
 *
 * <p>Decode-time problems that are architectural (invalid opcode, LOCK where not allowed, more than
 * 15 bytes) do not throw: they produce {@link Op#UD} / {@link Op#TOO_LONG} so that the exception is
 * raised only if the instruction is actually executed (the block builder decodes ahead). Fetch
 * faults (#PF, CS limit) do propagate from {@link CodeFetch}.
 */
public final class Decoder {
    /** Kinds of {@link Op#NOT_IMPLEMENTED}, kept in {@link Insn#sub}. */
    public static final int NI_X87 = 0, NI_SSE = 1, NI_AVX = 2, NI_OTHER = 3;

    private static final class TooLong extends RuntimeException {
        TooLong() { super(null, null, false, false); }
    }
    private static final TooLong TOO_LONG = new TooLong();

    /**
     * Optional instructions the processor model reports through CPUID; an encoding whose feature is
     * absent decodes as it did before the feature existed (SDM Vol. 2: TZCNT is BSF and LZCNT is BSR
     * on processors without BMI1/LZCNT; POPCNT, MOVBE, the VEX-encoded BMI1/BMI2 forms and ADCX/ADOX
     * are #UD). All present by default.
     */
    private boolean bmi1 = true, bmi2 = true, adx = true, lzcnt = true, popcnt = true, movbe = true;

    public void setFeatures(boolean bmi1, boolean bmi2, boolean adx, boolean lzcnt, boolean popcnt, boolean movbe) {
        this.bmi1 = bmi1;
        this.bmi2 = bmi2;
        this.adx = adx;
        this.lzcnt = lzcnt;
        this.popcnt = popcnt;
        this.movbe = movbe;
    }

    private CodeFetch f;
    private Insn d;
    private int pos;
    private int codeSize;
    private boolean p66, p67, lock;
    private int segOverride;
    private int rex;

    /**
     * Decodes one instruction. {@code codeSize} is the default operand/address size of the code
     * segment in bytes: 2 (16-bit code), 4 (32-bit code) or 8 (64-bit mode).
     */
    public void decode(Insn insn, CodeFetch fetch, int codeSize) {
        this.f = fetch;
        this.d = insn;
        this.codeSize = codeSize;
        this.pos = 0;
        clear(insn);
        try {
            decodeInsn();
            insn.length = pos;
        } catch (TooLong e) {
            clear(insn);
            insn.op = Op.TOO_LONG;
            insn.length = 15;
        }
        this.f = null;
        this.d = null;
    }

    private static void clear(Insn i) {
        i.op = 0; i.length = 0; i.opSize = 0; i.addrSize = 0; i.prefixes = 0; i.rex = 0;
        i.hasModrm = false; i.mod = 0; i.reg = 0; i.rm = 0; i.mem = false; i.seg = Segment.DS;
        i.base = Insn.NO_REG; i.index = Insn.NO_REG; i.scale = 0; i.disp = 0; i.imm = 0; i.imm2 = 0;
        i.highByte = 0; i.sub = 0; i.opcode = 0; i.vvvv = 0;
    }

    private int next() {
        if (pos >= 15) throw TOO_LONG;
        return f.byteAt(pos++) & 0xFF;
    }

    private int peek() {
        if (pos >= 15) throw TOO_LONG;
        return f.byteAt(pos) & 0xFF;
    }

    /** Little-endian immediate of {@code size} bytes, sign-extended to 64 bits. */
    private long imm(int size) {
        switch (size) {
            case 1: return (byte) next();
            case 2: { int lo = next(); return (short) (lo | next() << 8); }
            case 4: { long v = 0; for (int k = 0; k < 4; k++) v |= (long) next() << (8 * k); return (int) v; }
            default: { long v = 0; for (int k = 0; k < 8; k++) v |= (long) next() << (8 * k); return v; }
        }
    }

    private long uimm(int size) {
        long v = imm(size);
        return size == 8 ? v : v & ((1L << (size * 8)) - 1);
    }

    private boolean longMode() { return codeSize == 8; }
    private boolean rexW() { return (rex & 8) != 0; }

    /** Operand size of ordinary instructions, SDM Vol. 1 3.6 / Vol. 2 2.2.1.2. */
    private int os() {
        if (codeSize == 8) return rexW() ? 8 : p66 ? 2 : 4;
        return (codeSize == 4) != p66 ? 4 : 2;
    }

    /** Operand size of instructions that default to 64 bits in 64-bit mode (PUSH, POP, ...). */
    private int osDef64() {
        if (codeSize == 8) return rexW() ? 8 : p66 ? 2 : 8;
        return os();
    }

    /** Operand size of near branches: fixed at 64 bits in 64-bit mode, 66H ignored (Intel 64). */
    private int osNear() {
        return codeSize == 8 ? 8 : os();
    }

    /** Size of a z immediate (Iz): 2 for 16-bit operands, 4 otherwise. */
    private static int zsize(int os) { return os == 2 ? 2 : 4; }

    private void ud() { d.op = Op.UD; }

    private void notImpl(int kind) { d.op = Op.NOT_IMPLEMENTED; d.sub = kind; }

    // ---- ModRM, SIB, displacement (SDM Vol. 2 2.1.5, 2.2.1) ----

    private void modrm() {
        int m = next();
        d.hasModrm = true;
        d.mod = m >>> 6;
        d.reg = ((m >>> 3) & 7) | ((rex & 4) << 1);
        int rm = m & 7;
        if (d.mod == 3) {
            d.rm = rm | ((rex & 1) << 3);
            d.mem = false;
            return;
        }
        d.mem = true;
        d.rm = rm;
        int seg = Segment.DS;
        if (d.addrSize == 2) {
            switch (rm) {
                case 0: d.base = 3; d.index = 6; break;      // BX+SI
                case 1: d.base = 3; d.index = 7; break;      // BX+DI
                case 2: d.base = 5; d.index = 6; seg = Segment.SS; break; // BP+SI
                case 3: d.base = 5; d.index = 7; seg = Segment.SS; break; // BP+DI
                case 4: d.base = 6; break;                   // SI
                case 5: d.base = 7; break;                   // DI
                case 6: if (d.mod != 0) { d.base = 5; seg = Segment.SS; } break; // BP or disp16
                default: d.base = 3; break;                  // BX
            }
            if (d.mod == 1) d.disp = imm(1);
            else if (d.mod == 2 || (d.mod == 0 && rm == 6)) d.disp = imm(2);
        } else {
            if (rm == 4) {
                int sib = next();
                d.scale = sib >>> 6;
                int idx = ((sib >>> 3) & 7) | ((rex & 2) << 2);
                if (idx != 4) d.index = idx;
                int b = sib & 7;
                if (b == 5 && d.mod == 0) {
                    d.disp = imm(4);
                } else {
                    d.base = b | ((rex & 1) << 3);
                }
            } else if (rm == 5 && d.mod == 0) {
                d.disp = imm(4);
                if (longMode()) d.base = Insn.RIP_BASE;
            } else {
                d.base = rm | ((rex & 1) << 3);
            }
            if (d.base == 4 || d.base == 5) seg = Segment.SS;
            if (d.mod == 1) d.disp = imm(1);
            else if (d.mod == 2) d.disp = imm(4);
        }
        d.seg = seg;
        applySegOverride();
    }

    private void applySegOverride() {
        if (segOverride < 0) return;
        // SDM Vol. 1 3.3.7.1: in 64-bit mode CS/DS/ES/SS overrides are ignored; FS and GS count.
        if (longMode() && segOverride != Segment.FS && segOverride != Segment.GS) return;
        d.seg = segOverride;
    }

    private void memOnly() {
        if (!d.mem) ud();
    }

    /** Byte-register naming without REX: 4..7 are AH, CH, DH, BH (SDM Vol. 2 2.1.5 / 2.2.1.2). */
    private void byteRegs(boolean regIsByte, boolean rmIsByte) {
        if (rex != 0) return;
        if (regIsByte && d.reg >= 4 && d.reg < 8) d.highByte |= 1;
        if (rmIsByte && !d.mem && d.rm >= 4 && d.rm < 8) d.highByte |= 2;
    }

    private void regInOpcode(int b) {
        d.rm = (b & 7) | ((rex & 1) << 3);
        d.mem = false;
    }

    // ---- the instruction ----

    private void decodeInsn() {
        p66 = p67 = lock = false;
        segOverride = -1;
        rex = 0;
        int prefixes = 0;
        int b;
        for (;;) {
            b = next();
            switch (b) {
                case 0xF0: lock = true; prefixes |= Insn.P_LOCK; rex = 0; continue;
                case 0xF2: prefixes = (prefixes & ~Insn.P_REP) | Insn.P_REPNE; rex = 0; continue;
                case 0xF3: prefixes = (prefixes & ~Insn.P_REPNE) | Insn.P_REP; rex = 0; continue;
                case 0x26: segOverride = Segment.ES; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x2E: segOverride = Segment.CS; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x36: segOverride = Segment.SS; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x3E: segOverride = Segment.DS; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x64: segOverride = Segment.FS; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x65: segOverride = Segment.GS; prefixes |= Insn.P_SEGOVR; rex = 0; continue;
                case 0x66: p66 = true; prefixes |= Insn.P_OPSIZE; rex = 0; continue;
                case 0x67: p67 = true; prefixes |= Insn.P_ADDRSIZE; rex = 0; continue;
                default:
                    // SDM Vol. 2 2.2.1: a REX prefix counts only when it immediately precedes the opcode.
                    if (codeSize == 8 && (b & 0xF0) == 0x40) { rex = b; continue; }
            }
            break;
        }
        d.prefixes = prefixes;
        d.rex = rex;
        d.addrSize = codeSize == 8 ? (p67 ? 4 : 8) : ((codeSize == 4) != p67 ? 4 : 2);
        d.opSize = os();
        if (segOverride >= 0) applySegOverride();
        if (b == 0x0F) {
            twoByte(next());
        } else {
            d.opcode = b;
            oneByte(b);
        }
        if (lock && !lockable()) ud();
        else if (!lock) specialize();
    }

    /** Picks the specialized op id of the hottest forms (see {@link Op#ALU_RR32} and following). */
    private void specialize() {
        int size = d.opSize;
        if (d.op == Op.JCC && codeSize == 8) {
            d.op = Op.JCC64;
            return;
        }
        if (d.op == Op.JMP_REL && codeSize == 8) {
            d.op = Op.JMP_REL64;
            return;
        }
        if ((size != 4 && size != 8) || d.highByte != 0) return;
        boolean q = size == 8;
        switch (d.op) {
            case Op.ALU_EG:
                if (!d.mem) d.op = (q ? Op.ALU_RR64 : Op.ALU_RR32) + d.sub;
                break;
            case Op.ALU_EI:
                if (!d.mem) d.op = (q ? Op.ALU_RI64 : Op.ALU_RI32) + d.sub;
                break;
            case Op.MOV_EG:
                d.op = d.mem ? (q ? Op.STORE64 : Op.STORE32) : (q ? Op.MOV_RR64_EG : Op.MOV_RR32_EG);
                break;
            case Op.MOV_GE:
                d.op = d.mem ? (q ? Op.LOAD64 : Op.LOAD32) : (q ? Op.MOV_RR64_GE : Op.MOV_RR32_GE);
                break;
            case Op.INC:
                if (!d.mem) d.op = q ? Op.INC64 : Op.INC32;
                break;
            case Op.DEC:
                if (!d.mem) d.op = q ? Op.DEC64 : Op.DEC32;
                break;
            case Op.SHIFT_I:
                if (!d.mem && (d.imm & (q ? 63 : 31)) != 0) {
                    switch (d.sub) {
                        case 4: case 6: d.op = q ? Op.SHL_RI64 : Op.SHL_RI32; break;
                        case 5: d.op = q ? Op.SHR_RI64 : Op.SHR_RI32; break;
                        case 7: d.op = q ? Op.SAR_RI64 : Op.SAR_RI32; break;
                        case 0: if (q) d.op = Op.ROL_RI64; break;
                        case 1: if (q) d.op = Op.ROR_RI64; break;
                        default:
                    }
                }
                break;
            case Op.LEA:
                if (q && d.addrSize == 8) d.op = Op.LEA64;
                break;
            case Op.MOV_EI:
                if (!d.mem) d.op = q ? Op.MOV_RI64 : Op.MOV_RI32;
                break;
            case Op.IMUL_GEI:
                if (q) d.op = Op.IMUL_GEI64;
                break;
            case Op.IMUL_GE:
                if (q) d.op = Op.IMUL_GE64;
                break;
            case Op.BT_EI:
                if (q && !d.mem && d.sub == 0) d.op = Op.BT_RI64;
                break;
            default:
        }
    }

    /** LOCK is valid only with these instructions and a memory destination (SDM Vol. 2 LOCK). */
    private boolean lockable() {
        if (!d.mem) return false;
        switch (d.op) {
            case Op.ALU_EG: case Op.ALU_EI: return d.sub != 7;
            case Op.INC: case Op.DEC: case Op.NOT: case Op.NEG: case Op.XCHG: case Op.XADD:
            case Op.CMPXCHG: case Op.CMPXCHG8B:
                return true;
            case Op.BT_EG: case Op.BT_EI: return d.sub != 0;
            default: return false;
        }
    }

    private void oneByte(int b) {
        if (b < 0x40 && (b & 7) < 6) {          // ADD OR ADC SBB AND SUB XOR CMP, six forms each
            d.sub = b >>> 3;
            switch (b & 7) {
                case 0: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.ALU_EG; break;
                case 1: modrm(); d.op = Op.ALU_EG; break;
                case 2: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.ALU_GE; break;
                case 3: modrm(); d.op = Op.ALU_GE; break;
                case 4: d.opSize = 1; d.imm = imm(1); d.op = Op.ALU_EI; break;
                default: d.imm = imm(zsize(d.opSize)); d.op = Op.ALU_EI; break;
            }
            return;
        }
        if (b >= 0x40 && b <= 0x4F) {             // INC/DEC r (REX in 64-bit mode, consumed above)
            regInOpcode(b);
            d.op = b < 0x48 ? Op.INC : Op.DEC;
            return;
        }
        if (b >= 0x50 && b <= 0x57) { regInOpcode(b); d.opSize = osDef64(); d.op = Op.PUSH_E; return; }
        if (b >= 0x58 && b <= 0x5F) { regInOpcode(b); d.opSize = osDef64(); d.op = Op.POP_E; return; }
        if (b >= 0x70 && b <= 0x7F) { d.opSize = osNear(); d.sub = b & 15; d.imm = imm(1); d.op = Op.JCC; return; }
        if (b >= 0x91 && b <= 0x97) { regInOpcode(b); d.reg = 0; d.op = Op.XCHG; return; }
        if (b >= 0xB0 && b <= 0xB7) {
            regInOpcode(b); d.opSize = 1;
            if (rex == 0 && d.rm >= 4) d.highByte = 2;
            d.imm = imm(1); d.op = Op.MOV_EI; return;
        }
        if (b >= 0xB8 && b <= 0xBF) {
            regInOpcode(b);
            d.imm = d.opSize == 8 ? imm(8) : imm(d.opSize);
            d.op = Op.MOV_EI; return;
        }
        if (b >= 0xD8 && b <= 0xDF) { modrm(); notImpl(NI_X87); return; }
        boolean lm = longMode();
        switch (b) {
            case 0x06: case 0x0E: case 0x16: case 0x1E:
                if (lm) { ud(); return; }
                d.sub = b >>> 3; d.op = Op.PUSH_SREG; return;
            case 0x07: case 0x17: case 0x1F:
                if (lm) { ud(); return; }
                d.sub = b >>> 3; d.op = Op.POP_SREG; return;
            case 0x27: if (lm) ud(); else d.op = Op.DAA; return;
            case 0x2F: if (lm) ud(); else d.op = Op.DAS; return;
            case 0x37: if (lm) ud(); else d.op = Op.AAA; return;
            case 0x3F: if (lm) ud(); else d.op = Op.AAS; return;
            case 0x60: if (lm) ud(); else d.op = Op.PUSHA; return;
            case 0x61: if (lm) ud(); else d.op = Op.POPA; return;
            case 0x62:
                if (lm || (peek() & 0xC0) == 0xC0) { evex(); return; }
                modrm(); memOnly(); if (d.op == 0) d.op = Op.BOUND; return;
            case 0x63:
                modrm();
                if (lm) { d.op = Op.MOVSXD; }
                else { d.opSize = 2; d.op = Op.ARPL; }
                return;
            case 0x68: d.opSize = osDef64(); d.imm = imm(zsize(d.opSize)); d.op = Op.PUSH_I; return;
            case 0x69: modrm(); d.imm = imm(zsize(d.opSize)); d.op = Op.IMUL_GEI; return;
            case 0x6A: d.opSize = osDef64(); d.imm = imm(1); d.op = Op.PUSH_I; return;
            case 0x6B: modrm(); d.imm = imm(1); d.op = Op.IMUL_GEI; return;
            case 0x6C: d.opSize = 1; d.op = Op.INS; return;
            case 0x6D: d.opSize = zsize(d.opSize); d.op = Op.INS; return;
            case 0x6E: d.opSize = 1; d.op = Op.OUTS; return;
            case 0x6F: d.opSize = zsize(d.opSize); d.op = Op.OUTS; return;
            case 0x80: case 0x82:
                if (b == 0x82 && lm) { ud(); return; }
                d.opSize = 1; modrm(); byteRegs(false, true); d.sub = d.reg & 7; d.imm = imm(1); d.op = Op.ALU_EI; return;
            case 0x81: modrm(); d.sub = d.reg & 7; d.imm = imm(zsize(d.opSize)); d.op = Op.ALU_EI; return;
            case 0x83: modrm(); d.sub = d.reg & 7; d.imm = imm(1); d.op = Op.ALU_EI; return;
            case 0x84: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.TEST_EG; return;
            case 0x85: modrm(); d.op = Op.TEST_EG; return;
            case 0x86: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.XCHG; return;
            case 0x87: modrm(); d.op = Op.XCHG; return;
            case 0x88: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.MOV_EG; return;
            case 0x89: modrm(); d.op = Op.MOV_EG; return;
            case 0x8A: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.MOV_GE; return;
            case 0x8B: modrm(); d.op = Op.MOV_GE; return;
            case 0x8C:
                modrm();
                if ((d.reg & 7) > 5) { ud(); return; }
                d.sub = d.reg & 7;
                if (d.mem) d.opSize = 2;                 // a memory destination is always 16 bits
                d.op = Op.MOV_E_SREG; return;
            case 0x8D: modrm(); memOnly(); if (d.op == 0) d.op = Op.LEA; return;
            case 0x8E:
                modrm();
                d.sub = d.reg & 7;
                if (d.sub == Segment.CS || d.sub > 5) { ud(); return; }
                d.opSize = 2; d.op = Op.MOV_SREG_E; return;
            case 0x8F:
                if ((peek() & 0x38) != 0) { if (lm) xopLength(); else modrm(); ud(); return; }   // AMD XOP: #UD on Intel
                d.opSize = osDef64(); modrm(); d.op = Op.POP_E; return;
            case 0x90:
                if ((rex & 1) != 0) { d.rm = 8; d.reg = 0; d.op = Op.XCHG; return; }
                d.op = (d.prefixes & Insn.P_REP) != 0 ? Op.PAUSE : Op.NOP; return;
            case 0x98: d.op = Op.CBW; return;
            case 0x99: d.op = Op.CWD; return;
            case 0x9A:
                if (lm) { ud(); return; }
                d.imm = uimm(zsize(d.opSize)); d.imm2 = uimm(2); d.op = Op.CALLF_PTR; return;
            case 0x9B: notImpl(NI_X87); return;
            case 0x9C: d.opSize = osDef64(); d.op = Op.PUSHF; return;
            case 0x9D: d.opSize = osDef64(); d.op = Op.POPF; return;
            case 0x9E: d.op = Op.SAHF; return;
            case 0x9F: d.op = Op.LAHF; return;
            case 0xA0: case 0xA1: case 0xA2: case 0xA3:
                if ((b & 1) == 0) d.opSize = 1;
                d.mem = true; d.seg = Segment.DS; applySegOverride();
                d.disp = uimm(d.addrSize);
                d.reg = 0;
                d.op = b < 0xA2 ? Op.MOV_GE : Op.MOV_EG; return;
            case 0xA4: d.opSize = 1; d.op = Op.MOVS; return;
            case 0xA5: d.op = Op.MOVS; return;
            case 0xA6: d.opSize = 1; d.op = Op.CMPS; return;
            case 0xA7: d.op = Op.CMPS; return;
            case 0xA8: d.opSize = 1; d.imm = imm(1); d.op = Op.TEST_EI; return;
            case 0xA9: d.imm = imm(zsize(d.opSize)); d.op = Op.TEST_EI; return;
            case 0xAA: d.opSize = 1; d.op = Op.STOS; return;
            case 0xAB: d.op = Op.STOS; return;
            case 0xAC: d.opSize = 1; d.op = Op.LODS; return;
            case 0xAD: d.op = Op.LODS; return;
            case 0xAE: d.opSize = 1; d.op = Op.SCAS; return;
            case 0xAF: d.op = Op.SCAS; return;
            case 0xC0: case 0xC1: case 0xD0: case 0xD1: case 0xD2: case 0xD3:
                if ((b & 1) == 0) d.opSize = 1;
                modrm(); byteRegs(false, true);
                d.sub = d.reg & 7;
                if (b <= 0xC1) { d.imm = imm(1) & 0xFF; d.op = Op.SHIFT_I; }
                else if (b <= 0xD1) { d.imm = 1; d.op = Op.SHIFT_I; }
                else d.op = Op.SHIFT_CL;
                return;
            case 0xC2: d.opSize = osNear(); d.imm = uimm(2); d.op = Op.RET; return;
            case 0xC3: d.opSize = osNear(); d.op = Op.RET; return;
            case 0xC4: case 0xC5:
                if (lm || (peek() & 0xC0) == 0xC0) { vex(b); return; }
                modrm(); memOnly(); if (d.op == 0) { d.sub = b == 0xC4 ? Segment.ES : Segment.DS; d.op = Op.LOAD_FAR; }
                return;
            case 0xC6: case 0xC7:
                if ((b & 1) == 0) d.opSize = 1;
                if (peek() == 0xF8) { next(); imm(b == 0xC6 ? 1 : zsize(d.opSize)); ud(); return; } // XABORT/XBEGIN: no RTM
                modrm(); byteRegs(false, true);
                if ((d.reg & 7) != 0) { ud(); return; }
                d.imm = imm(b == 0xC6 ? 1 : zsize(d.opSize)); d.op = Op.MOV_EI; return;
            case 0xC8: d.opSize = osDef64(); d.imm = uimm(2); d.imm2 = uimm(1); d.op = Op.ENTER; return;
            case 0xC9: d.opSize = osDef64(); d.op = Op.LEAVE; return;
            case 0xCA: d.imm = uimm(2); d.op = Op.RETF; return;
            case 0xCB: d.op = Op.RETF; return;
            case 0xCC: d.op = Op.INT3; return;
            case 0xCD: d.imm = uimm(1); d.op = Op.INT; return;
            case 0xCE: if (lm) ud(); else d.op = Op.INTO; return;
            case 0xCF: d.op = Op.IRET; return;
            case 0xD4: if (lm) { ud(); return; } d.imm = uimm(1); d.op = Op.AAM; return;
            case 0xD5: if (lm) { ud(); return; } d.imm = uimm(1); d.op = Op.AAD; return;
            case 0xD6: ud(); return;
            case 0xD7: d.opSize = 1; d.op = Op.XLAT; d.seg = Segment.DS; applySegOverride(); return;
            case 0xE0: case 0xE1: case 0xE2: case 0xE3:
                d.opSize = osNear(); d.imm = imm(1);
                d.op = b == 0xE0 ? Op.LOOPNE : b == 0xE1 ? Op.LOOPE : b == 0xE2 ? Op.LOOP : Op.JCXZ; return;
            case 0xE4: d.opSize = 1; d.imm = uimm(1); d.op = Op.IN_I; return;
            case 0xE5: d.opSize = zsize(d.opSize); d.imm = uimm(1); d.op = Op.IN_I; return;
            case 0xE6: d.opSize = 1; d.imm = uimm(1); d.op = Op.OUT_I; return;
            case 0xE7: d.opSize = zsize(d.opSize); d.imm = uimm(1); d.op = Op.OUT_I; return;
            case 0xE8: d.opSize = osNear(); d.imm = imm(zsize(d.opSize)); d.op = Op.CALL_REL; return;
            case 0xE9: d.opSize = osNear(); d.imm = imm(zsize(d.opSize)); d.op = Op.JMP_REL; return;
            case 0xEA:
                if (lm) { ud(); return; }
                d.imm = uimm(zsize(d.opSize)); d.imm2 = uimm(2); d.op = Op.JMPF_PTR; return;
            case 0xEB: d.opSize = osNear(); d.imm = imm(1); d.op = Op.JMP_REL; return;
            case 0xEC: d.opSize = 1; d.op = Op.IN_DX; return;
            case 0xED: d.opSize = zsize(d.opSize); d.op = Op.IN_DX; return;
            case 0xEE: d.opSize = 1; d.op = Op.OUT_DX; return;
            case 0xEF: d.opSize = zsize(d.opSize); d.op = Op.OUT_DX; return;
            case 0xF1: d.op = Op.INT1; return;
            case 0xF4: d.op = Op.HLT; return;
            case 0xF5: d.op = Op.CMC; return;
            case 0xF6: case 0xF7: {
                if (b == 0xF6) d.opSize = 1;
                modrm(); byteRegs(false, true);
                int r = d.reg & 7;
                switch (r) {
                    case 0: case 1: d.imm = imm(b == 0xF6 ? 1 : zsize(d.opSize)); d.op = Op.TEST_EI; break;
                    case 2: d.op = Op.NOT; break;
                    case 3: d.op = Op.NEG; break;
                    case 4: d.op = Op.MUL; break;
                    case 5: d.op = Op.IMUL1; break;
                    case 6: d.op = Op.DIV; break;
                    default: d.op = Op.IDIV; break;
                }
                return;
            }
            case 0xF8: d.op = Op.CLC; return;
            case 0xF9: d.op = Op.STC; return;
            case 0xFA: d.op = Op.CLI; return;
            case 0xFB: d.op = Op.STI; return;
            case 0xFC: d.op = Op.CLD; return;
            case 0xFD: d.op = Op.STD; return;
            case 0xFE:
                d.opSize = 1; modrm(); byteRegs(false, true);
                switch (d.reg & 7) {
                    case 0: d.op = Op.INC; break;
                    case 1: d.op = Op.DEC; break;
                    default: ud();
                }
                return;
            case 0xFF:
                modrm();
                switch (d.reg & 7) {
                    case 0: d.op = Op.INC; break;
                    case 1: d.op = Op.DEC; break;
                    case 2: d.opSize = osNear(); d.op = Op.CALL_E; break;
                    case 3: memOnly(); if (d.op == 0) d.op = Op.CALLF_M; break;
                    case 4: d.opSize = osNear(); d.op = Op.JMP_E; break;
                    case 5: memOnly(); if (d.op == 0) d.op = Op.JMPF_M; break;
                    case 6: d.opSize = osDef64(); d.op = Op.PUSH_E; break;
                    default: ud();
                }
                return;
            default:
                ud();
        }
    }

    /**
     * VEX-encoded instruction (SDM Vol. 2 2.3.5): the general-purpose BMI1/BMI2 forms are decoded in
     * full ({@link #vexGpr}); AVX/AVX2/FMA forms only for their length, as not implemented. Rules
     * that hold for every VEX instruction make it #UD instead (SDM 2.3.2 and Table 2-29): a 66H, F2H,
     * F3H, REX or LOCK prefix before VEX, and a reserved VEX.mmmmm. VEX in real and virtual-8086
     * mode is #UD too, but the mode is not known here (decoded blocks outlive mode changes): the
     * interpreter checks it when the instruction runs.
     */
    private void vex(int b) {
        int p1 = next();
        int map, w, inv, l, pp, xb;
        if (b == 0xC5) {                       // R vvvv L pp; map 0F, W0, X and B clear
            map = 1; w = 0; xb = 0;
            inv = (p1 >>> 3) & 15; l = (p1 >>> 2) & 1; pp = p1 & 3;
        } else {                               // R X B mmmmm, then W vvvv L pp
            int p2 = next();
            map = p1 & 0x1F; w = p2 >>> 7; xb = (~p1 >>> 5) & 3;
            inv = (p2 >>> 3) & 15; l = (p2 >>> 2) & 1; pp = p2 & 3;
        }
        int r = (~p1 >>> 7) & 1;
        boolean badPrefix = lock || p66 || (d.prefixes & (Insn.P_REP | Insn.P_REPNE)) != 0 || rex != 0;
        // VEX.R, X, B (stored inverted) extend ModRM.reg, SIB.index and ModRM.rm / SIB.base as REX
        // does; outside 64-bit mode R and X are 1 by construction and B is ignored (SDM 2.3.5.2-4).
        rex = longMode() ? 0x40 | r << 2 | xb : 0;
        // VEX.vvvv names a register in 1's complement; outside 64-bit mode its top bit is ignored.
        int vvvv = ~inv & (longMode() ? 15 : 7);
        int opc = next();
        d.opcode = b << 8 | opc;
        if ((map == 2 && opc >= 0xF0 && opc <= 0xF7) || (map == 3 && opc == 0xF0)) {
            vexGpr(map, opc, pp, w, l, vvvv, badPrefix);
            return;
        }
        notImpl(NI_AVX);
        if (map == 1 && opc == 0x77) { if (badPrefix) ud(); return; }    // VZEROUPPER/VZEROALL
        modrmNoFault();
        if (map == 3 || (map == 1 && ((opc >= 0x70 && opc <= 0x73) || opc == 0xC2 || (opc >= 0xC4 && opc <= 0xC6)))) imm(1);
        if (badPrefix || map == 0 || map > 3) ud();
    }

    /**
     * The VEX-encoded general-purpose instructions of BMI1 and BMI2 (SDM Vol. 2: ANDN, BEXTR, BLSI,
     * BLSMSK, BLSR, BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX): VEX.LZ forms, operand size 64 with
     * VEX.W1 in 64-bit mode and 32 otherwise (W1 ignored outside 64-bit mode). #UD (Table 2-29, Type
     * 13): VEX.L = 1, VEX.vvvv other than 1111b where it names no operand (RORX), a prefix before VEX,
     * an unassigned pp/opcode/ModRM.reg combination, and the feature's CPUID flag clear.
     */
    private void vexGpr(int map, int opc, int pp, int w, int l, int vvvv, boolean badPrefix) {
        d.opSize = longMode() && w == 1 ? 8 : 4;
        d.vvvv = vvvv;
        modrm();
        int op = 0;
        boolean feature;
        if (map == 3) {                                              // VEX.LZ.F2.0F3A.W0/W1 F0 /r ib
            d.imm = uimm(1);
            feature = bmi2;
            // RORX names no register in VEX.vvvv: it must be 1111b (top bit ignored outside 64-bit mode).
            if (pp == 3 && vvvv == 0) op = Op.RORX;
        } else {
            switch (opc) {
                case 0xF2: feature = bmi1; if (pp == 0) op = Op.ANDN; break;
                case 0xF3:                                           // group 17: /1 BLSR, /2 BLSMSK, /3 BLSI
                    feature = bmi1;
                    if (pp == 0) {
                        switch (d.reg & 7) {
                            case 1: op = Op.BLSR; break;
                            case 2: op = Op.BLSMSK; break;
                            case 3: op = Op.BLSI; break;
                            default:
                        }
                    }
                    break;
                case 0xF5:
                    feature = bmi2;
                    op = pp == 0 ? Op.BZHI : pp == 3 ? Op.PDEP : pp == 2 ? Op.PEXT : 0;
                    break;
                case 0xF6: feature = bmi2; if (pp == 3) op = Op.MULX; break;
                case 0xF7:
                    feature = pp == 0 ? bmi1 : bmi2;
                    op = pp == 0 ? Op.BEXTR : pp == 1 ? Op.SHLX : pp == 2 ? Op.SARX : Op.SHRX;
                    break;
                default: feature = false;                            // 0F38 F0/F1/F4: no VEX form
            }
        }
        if (op == 0 || !feature || l != 0 || badPrefix) { ud(); return; }
        d.op = op;
    }

    /** EVEX-encoded (AVX-512) instruction: length only, not implemented. */
    private void evex() {
        int map = next() & 7;
        next();
        next();
        int opc = next();
        d.opcode = 0x62 << 8 | opc;
        notImpl(NI_AVX);
        modrmNoFault();
        if (map == 3 || (map == 1 && ((opc >= 0x70 && opc <= 0x73) || opc == 0xC2 || (opc >= 0xC4 && opc <= 0xC6)))) imm(1);
    }

    /** AMD XOP (8F with ModRM.reg != 0): not an Intel encoding (#UD); consume its length only. */
    private void xopLength() {
        int p0 = next(); next();
        int opc = next();
        d.opcode = 0x8F << 8 | opc;
        modrmNoFault();
        if ((p0 & 0x1F) == 8 || (p0 & 0x1F) == 0xA) imm((p0 & 0x1F) == 0xA ? 4 : 1);
    }

    /** ModRM/SIB/displacement of a not-implemented instruction (only the length matters). */
    private void modrmNoFault() {
        int op = d.op, sub = d.sub;
        modrm();
        d.op = op; d.sub = sub;
    }

    private void twoByte(int b) {
        d.opcode = 0x0F00 | b;
        boolean lm = longMode();
        int pfx = d.prefixes;
        boolean f3 = (pfx & Insn.P_REP) != 0, f2 = (pfx & Insn.P_REPNE) != 0;
        if (b >= 0x40 && b <= 0x4F) { modrm(); d.sub = b & 15; d.op = Op.CMOV; return; }
        if (b >= 0x80 && b <= 0x8F) { d.opSize = osNear(); d.sub = b & 15; d.imm = imm(zsize(d.opSize)); d.op = Op.JCC; return; }
        if (b >= 0x90 && b <= 0x9F) { d.opSize = 1; modrm(); byteRegs(false, true); d.sub = b & 15; d.op = Op.SETCC; return; }
        if (b >= 0xC8) {
            if (b <= 0xCF) { regInOpcode(b); d.op = Op.BSWAP; return; }
            if (b == 0xFF) { modrm(); ud(); return; }   // UD0 takes a ModRM (Intel)
            modrm(); notImpl(NI_SSE); return;
        }
        if (b == 0xC3) {
            // MOVNTI m32/m64, r32/r64 (SSE2, a general-purpose store with a non-temporal hint that
            // this processor, without caches, ignores): memory destination only, no 66H/F2H/F3H form.
            modrm();
            if (!d.mem || (pfx & (Insn.P_OPSIZE | Insn.P_REP | Insn.P_REPNE)) != 0) { ud(); return; }
            d.opSize = rexW() ? 8 : 4;
            d.op = Op.MOV_EG;
            return;
        }
        if ((b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2F) || (b >= 0x50 && b <= 0x76)
                || b == 0x7C || b == 0x7D || b == 0x7E || b == 0x7F || (b >= 0xC2 && b <= 0xC6)) {
            modrm(); notImpl(NI_SSE);
            if ((b >= 0x70 && b <= 0x73) || b == 0xC2 || b == 0xC4 || b == 0xC5 || b == 0xC6) imm(1);
            return;
        }
        switch (b) {
            case 0x00: {
                modrm();
                int r = d.reg & 7;
                if (r >= 6) { ud(); return; }
                d.op = new int[] {Op.SLDT, Op.STR, Op.LLDT, Op.LTR, Op.VERR, Op.VERW}[r];
                if (r >= 2 || d.mem) d.opSize = 2;
                return;
            }
            case 0x01: group7(); return;
            case 0x02: modrm(); d.op = Op.LAR; return;
            case 0x03: modrm(); d.op = Op.LSL; return;
            case 0x05: if (!lm) ud(); else d.op = Op.SYSCALL; return;
            case 0x06: d.op = Op.CLTS; return;
            case 0x07: if (!lm) ud(); else d.op = Op.SYSRET; return;
            case 0x08: d.op = Op.INVD; return;
            case 0x09: d.op = Op.WBINVD; return;
            case 0x0B: d.op = Op.UD2; return;
            case 0x0D: modrm(); d.op = d.mem ? Op.NOP : Op.UD; return;     // PREFETCHW / PREFETCH hints
            case 0x18: modrm(); d.op = Op.NOP; return;                     // PREFETCHh; reserved forms are NOPs
            case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
                modrm(); d.op = Op.NOP; return;                           // hint NOPs (NOP Ev, ENDBR)
            case 0x20: case 0x21: case 0x22: case 0x23: {
                // SDM Vol. 2 MOV CR/DR: ModRM.mod is ignored, the operand is always a register.
                int m = next();
                d.hasModrm = true; d.mod = 3;
                d.reg = ((m >>> 3) & 7) | ((rex & 4) << 1);
                d.rm = (m & 7) | ((rex & 1) << 3);
                d.opSize = lm ? 8 : 4;
                d.op = b == 0x20 ? Op.MOV_R_CR : b == 0x21 ? Op.MOV_R_DR : b == 0x22 ? Op.MOV_CR_R : Op.MOV_DR_R;
                return;
            }
            case 0x24: case 0x26: next(); ud(); return;                  // MOV TRn (i486, register-only ModRM): gone
            case 0x0F: modrm(); imm(1); ud(); return;                    // AMD 3DNow!: not an Intel encoding
            case 0x30: d.op = Op.WRMSR; return;
            case 0x31: d.op = Op.RDTSC; return;
            case 0x32: d.op = Op.RDMSR; return;
            case 0x33: d.op = Op.RDPMC; return;
            case 0x34: d.op = Op.SYSENTER; return;
            case 0x35: d.op = Op.SYSEXIT; return;
            case 0x37: d.op = Op.GETSEC; return;
            case 0x38: threeByte38(next()); return;
            case 0x3A: { int o = next(); d.opcode = 0x0F3A00 | o; modrm(); imm(1); notImpl(NI_SSE); return; }
            case 0x77: notImpl(NI_SSE); return;                          // EMMS
            case 0x78: case 0x79:
                modrm();
                if ((pfx & (Insn.P_OPSIZE | Insn.P_REP | Insn.P_REPNE)) != 0) { ud(); return; }
                d.opSize = lm ? 8 : 4;
                d.sub = (b == 0x78 ? VmxInstruction.VMREAD : VmxInstruction.VMWRITE).ordinal();
                d.op = Op.VMX; return;
            case 0xA0: d.opSize = osDef64(); d.sub = Segment.FS; d.op = Op.PUSH_SREG; return;
            case 0xA1: d.opSize = osDef64(); d.sub = Segment.FS; d.op = Op.POP_SREG; return;
            case 0xA2: d.op = Op.CPUID; return;
            case 0xA3: modrm(); d.sub = 0; d.op = Op.BT_EG; return;
            case 0xA4: modrm(); d.imm = uimm(1); d.op = Op.SHLD_I; return;
            case 0xA5: modrm(); d.op = Op.SHLD_CL; return;
            case 0xA8: d.opSize = osDef64(); d.sub = Segment.GS; d.op = Op.PUSH_SREG; return;
            case 0xA9: d.opSize = osDef64(); d.sub = Segment.GS; d.op = Op.POP_SREG; return;
            case 0xAA: d.op = Op.RSM; return;
            case 0xAB: modrm(); d.sub = 1; d.op = Op.BT_EG; return;
            case 0xAC: modrm(); d.imm = uimm(1); d.op = Op.SHRD_I; return;
            case 0xAD: modrm(); d.op = Op.SHRD_CL; return;
            case 0xAE: group15(f3); return;
            case 0xAF: modrm(); d.op = Op.IMUL_GE; return;
            case 0xB0: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.CMPXCHG; return;
            case 0xB1: modrm(); d.op = Op.CMPXCHG; return;
            case 0xB2: modrm(); memOnly(); if (d.op == 0) { d.sub = Segment.SS; d.op = Op.LOAD_FAR; } return;
            case 0xB3: modrm(); d.sub = 2; d.op = Op.BT_EG; return;
            case 0xB4: modrm(); memOnly(); if (d.op == 0) { d.sub = Segment.FS; d.op = Op.LOAD_FAR; } return;
            case 0xB5: modrm(); memOnly(); if (d.op == 0) { d.sub = Segment.GS; d.op = Op.LOAD_FAR; } return;
            case 0xB6: modrm(); byteRegs(false, true); d.op = Op.MOVZX_B; return;
            case 0xB7: modrm(); d.op = Op.MOVZX_W; return;
            case 0xB8: modrm(); d.op = f3 && popcnt ? Op.POPCNT : Op.UD; return;
            case 0xB9: modrm(); ud(); return;                                 // UD1
            case 0xBA:
                modrm(); d.imm = uimm(1);
                if ((d.reg & 7) < 4) { ud(); return; }
                d.sub = (d.reg & 7) - 4; d.op = Op.BT_EI; return;
            case 0xBB: modrm(); d.sub = 3; d.op = Op.BT_EG; return;
            case 0xBC: modrm(); d.op = f3 && bmi1 ? Op.TZCNT : Op.BSF; return;
            case 0xBD: modrm(); d.op = f3 && lzcnt ? Op.LZCNT : Op.BSR; return;
            case 0xBE: modrm(); byteRegs(false, true); d.op = Op.MOVSX_B; return;
            case 0xBF: modrm(); d.op = Op.MOVSX_W; return;
            case 0xC0: d.opSize = 1; modrm(); byteRegs(true, true); d.op = Op.XADD; return;
            case 0xC1: modrm(); d.op = Op.XADD; return;
            case 0xC7: group9(f3); return;
            default:
                ud();
        }
    }

    private void group7() {
        modrm();
        int r = d.reg & 7;
        if (d.mem) {
            switch (r) {
                case 0: d.op = Op.SGDT; break;
                case 1: d.op = Op.SIDT; break;
                case 2: d.op = Op.LGDT; break;
                case 3: d.op = Op.LIDT; break;
                case 4: d.op = Op.SMSW; d.opSize = 2; break;
                case 5: ud(); break;
                case 6: d.op = Op.LMSW; d.opSize = 2; break;
                default: d.op = Op.INVLPG; break;
            }
            return;
        }
        int low = d.rm & 7;
        switch (r) {
            case 0:
                switch (low) {
                    case 1: vmx(VmxInstruction.VMCALL); return;
                    case 2: vmx(VmxInstruction.VMLAUNCH); return;
                    case 3: vmx(VmxInstruction.VMRESUME); return;
                    case 4: vmx(VmxInstruction.VMXOFF); return;
                    default: ud(); return;
                }
            case 1:
                switch (low) {
                    case 0: d.op = Op.MONITOR; return;
                    case 1: d.op = Op.MWAIT; return;
                    case 2: d.op = Op.CLAC; return;
                    case 3: d.op = Op.STAC; return;
                    default: ud(); return;
                }
            case 2:
                switch (low) {
                    case 0: d.op = Op.XGETBV; return;
                    case 1: d.op = Op.XSETBV; return;
                    case 4: vmx(VmxInstruction.VMFUNC); return;
                    case 5: case 6: ud(); return;              // XEND/XTEST: no RTM
                    default: ud(); return;
                }
            case 4: d.op = Op.SMSW; return;                  // register destination takes the operand size
            case 6: d.opSize = 2; d.op = Op.LMSW; return;
            case 7:
                if (low == 0) { if (longMode()) d.op = Op.SWAPGS; else ud(); return; }
                if (low == 1) { d.op = Op.RDTSCP; return; }
                ud(); return;
            default: ud();
        }
    }

    private void vmx(VmxInstruction which) {
        d.sub = which.ordinal();
        d.op = Op.VMX;
    }

    private void group9(boolean f3) {
        modrm();
        int r = d.reg & 7;
        boolean p66only = (d.prefixes & Insn.P_OPSIZE) != 0;
        if (d.mem) {
            switch (r) {
                case 1: d.opSize = rexW() ? 8 : 4; d.op = Op.CMPXCHG8B; return;
                case 3: case 4: case 5: notImpl(NI_SSE); return;           // XRSTORS/XSAVEC/XSAVES
                case 6:
                    vmx(f3 ? VmxInstruction.VMXON : p66only ? VmxInstruction.VMCLEAR : VmxInstruction.VMPTRLD); return;
                case 7: if (f3 || p66only) ud(); else vmx(VmxInstruction.VMPTRST); return;
                default: ud(); return;
            }
        }
        switch (r) {
            case 6: if (f3 || (d.prefixes & Insn.P_REPNE) != 0) ud(); else d.op = Op.RDRAND; return;
            case 7: if (f3 || (d.prefixes & Insn.P_REPNE) != 0) ud(); else d.op = Op.RDSEED; return;
            default: ud();
        }
    }

    private void group15(boolean f3) {
        modrm();
        int r = d.reg & 7;
        if (d.mem) {
            if (r == 7) { d.op = Op.CLFLUSH; return; }   // with 66H: CLFLUSHOPT, the same here (no caches)
            // 66 0F AE /6: CLWB, which this client part does not have (CPUID.7:EBX[24] = 0).
            if (r == 6 && (d.prefixes & Insn.P_OPSIZE) != 0) { ud(); return; }
            notImpl(NI_SSE);                                 // FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE*, XRSTOR
            return;
        }
        if (f3 && r < 4) {
            // RDFSBASE ... WRGSBASE: 64-bit mode only; 32 bits, or 64 with REX.W (66H is not a form).
            if (!longMode() || (d.prefixes & Insn.P_OPSIZE) != 0) { ud(); return; }
            d.opSize = rexW() ? 8 : 4;
            d.sub = r;                                      // 0 RDFSBASE 1 RDGSBASE 2 WRFSBASE 3 WRGSBASE
            d.op = r < 2 ? Op.RDFSBASE : Op.WRFSBASE;
            return;
        }
        if (r >= 5 && (d.prefixes & (Insn.P_REP | Insn.P_REPNE | Insn.P_OPSIZE)) == 0) { d.op = Op.FENCE; return; }
        ud();
    }

    private void threeByte38(int b) {
        d.opcode = 0x0F3800 | b;
        int pfx = d.prefixes;
        boolean p66only = (pfx & Insn.P_OPSIZE) != 0 && (pfx & (Insn.P_REP | Insn.P_REPNE)) == 0;
        switch (b) {
            case 0x80: case 0x81:
                modrm();
                if (!p66only || !d.mem) { ud(); return; }
                d.opSize = longMode() ? 8 : 4;
                vmx(b == 0x80 ? VmxInstruction.INVEPT : VmxInstruction.INVVPID);
                return;
            case 0xF6:
                // ADX: 66 [REX.W] 0F 38 F6 ADCX, F3 [REX.W] 0F 38 F6 ADOX; the prefix selects the
                // instruction, so the operand size is 32 bits, or 64 with REX.W (SDM Vol. 2 ADCX, ADOX).
                // Without a prefix this is WRSS (CET shadow stacks), which the model does not report.
                modrm();
                d.opSize = rexW() ? 8 : 4;
                if ((pfx & Insn.P_REP) != 0) d.op = Op.ADOX;
                else if ((pfx & Insn.P_REPNE) == 0 && (pfx & Insn.P_OPSIZE) != 0) d.op = Op.ADCX;
                if (d.op == 0 || !adx) ud();
                return;
            case 0xF0: case 0xF1:
                modrm();
                if ((pfx & Insn.P_REPNE) != 0) { notImpl(NI_SSE); return; }  // CRC32 (SSE4.2)
                if ((pfx & Insn.P_REP) != 0 || !d.mem || !movbe) { ud(); return; }
                d.op = b == 0xF0 ? Op.MOVBE_GM : Op.MOVBE_MG;
                return;
            case 0x82:
                // INVPCID (66 0F 38 82): CPUID.7:EBX.INVPCID is not reported, so #UD.
                modrm(); ud(); return;
            default:
                modrm();
                // 0F 38 F2..FF hold general-purpose and system instructions (WRUSS, WRSS, MOVDIRI,
                // MOVDIR64B, ENQCMD...) of features the model does not report: #UD. Below F0 the map
                // is SSE/SHA/AES.
                if (b >= 0xF2) ud(); else notImpl(NI_SSE);
        }
    }
}
