package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.decode.Insn;

import static lhv.cpu.exec.Operands.*;

/**
 * Data movement and flag instructions: MOV (all forms, segment registers through the system unit),
 * MOVZX/MOVSX/MOVSXD, MOVBE, LEA, XCHG, BSWAP, CMOVcc, SETcc, PUSH/POP (registers, memory,
 * immediates, segment registers, flags), PUSHA/POPA, ENTER/LEAVE, XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO,
 * XADD, CMPXCHG, CMPXCHG8B/16B, LDS/LES/LFS/LGS/LSS, BOUND, ARPL, CLC/STC/CMC/CLD/STD/CLI/STI,
 * LAHF/SAHF, CLAC/STAC (SDM Vol. 2 pages of the same names).
 *
 * <p>Context: guest instruction execution.
 */
final class Data {
    private Data() { }

    static void movSregToE(Cpu c, Insn i) {
        int sel = c.seg[i.sub].selector;
        if (i.mem) store(c, i.seg, ea(c, i), 2, sel);
        else writeRmReg(c, i, sel);          // a register destination is zero-extended (SDM Vol. 2 MOV)
    }

    static void movEToSreg(Cpu c, Insn i) {
        int sel = (int) readE(c, i, 2);
        Interpreter.materializeForSystem(c);
        c.sys.loadSegment(i.sub, sel);
        if (i.sub == Segment.SS) Interpreter.blockEvents(c, 2);   // SDM 6.8.3: MOV SS shadow
    }

    static void movzx(Cpu c, Insn i, int srcSize) {
        writeG(c, i, readE(c, i, srcSize));
    }

    static void movsx(Cpu c, Insn i, int srcSize) {
        writeG(c, i, signExtend(readE(c, i, srcSize), srcSize) & mask(i.opSize));
    }

    static void movsxd(Cpu c, Insn i) {
        int src = Math.min(i.opSize, 4);
        writeG(c, i, signExtend(readE(c, i, src), src) & mask(i.opSize));
    }

    static void movbe(Cpu c, Insn i, boolean toReg) {
        int size = i.opSize;
        if (toReg) writeG(c, i, swap(load(c, i.seg, ea(c, i), size), size));
        else store(c, i.seg, ea(c, i), size, swap(readG(c, i), size));
    }

    static long swap(long v, int size) {
        switch (size) {
            case 2: return Short.reverseBytes((short) v) & 0xFFFF;
            case 4: return Integer.reverseBytes((int) v) & 0xFFFFFFFFL;
            default: return Long.reverseBytes(v);
        }
    }

    static void lea(Cpu c, Insn i) {
        writeG(c, i, ea(c, i));
    }

    static void xchg(Cpu c, Insn i) {
        long g = readG(c, i);
        if (i.mem) {
            long off = ea(c, i);
            long m = load(c, i.seg, off, i.opSize);
            store(c, i.seg, off, i.opSize, g);
            writeG(c, i, m);
        } else {
            long e = readE(c, i);
            writeRmReg(c, i, g);
            writeG(c, i, e);
        }
    }

    /** BSWAP: a 16-bit operand gives an undefined result; we clear the low word as Intel parts do. */
    static void bswap(Cpu c, Insn i) {
        long v = c.gpr[i.rm];
        switch (i.opSize) {
            case 8: c.gpr[i.rm] = Long.reverseBytes(v); break;
            case 4: c.gpr[i.rm] = Integer.reverseBytes((int) v) & 0xFFFFFFFFL; break;
            default: c.gpr[i.rm] = v & ~0xFFFFL;
        }
    }

    /** CMOVcc: the source is always read; a 32-bit destination is zero-extended even when false. */
    static void cmov(Cpu c, Insn i) {
        long v = readE(c, i);
        if (Flags.cond(c, i.sub)) writeG(c, i, v);
        else if (i.opSize == 4) c.gpr[i.reg] &= 0xFFFFFFFFL;
    }

    static void setcc(Cpu c, Insn i) {
        writeE(c, i, Flags.cond(c, i.sub) ? 1 : 0);
    }

    // ---- stack ----

    static void pushE(Cpu c, Insn i) {
        push(c, readE(c, i), i.opSize);
    }

    /** POP r/m: with RSP as base the address is computed after RSP was incremented (SDM Vol. 2 POP). */
    static void popE(Cpu c, Insn i) {
        int size = i.opSize;
        long v = peek(c, 0, size);
        if (!i.mem) {
            c.gpr[Cpu.RSP] = movedRsp(c, size);
            writeRmReg(c, i, v);
            return;
        }
        long oldRsp = c.gpr[Cpu.RSP];
        c.gpr[Cpu.RSP] = movedRsp(c, size);
        try {
            store(c, i.seg, ea(c, i), size, v);
        } catch (CpuFault f) {
            c.gpr[Cpu.RSP] = oldRsp;
            throw f;
        }
    }

    /** PUSH Sreg: with a 32/64-bit operand size only the low 16 bits of the slot are written (Intel). */
    static void pushSreg(Cpu c, Insn i) {
        int size = i.opSize;
        long n = movedRsp(c, -size);
        store(c, Segment.SS, stackOffset(c, n), 2, c.seg[i.sub].selector);
        c.gpr[Cpu.RSP] = n;
    }

    static void popSreg(Cpu c, Insn i) {
        int size = i.opSize;
        int sel = (int) peek(c, 0, 2);
        Interpreter.materializeForSystem(c);
        c.sys.loadSegment(i.sub, sel);
        c.gpr[Cpu.RSP] = movedRsp(c, size);
        if (i.sub == Segment.SS) Interpreter.blockEvents(c, 2);
    }

    static void pusha(Cpu c, Insn i) {
        int size = i.opSize;
        long oldRsp = c.gpr[Cpu.RSP];
        long temp = c.gpr[Cpu.RSP];
        try {
            for (int r = 0; r < 8; r++) push(c, r == Cpu.RSP ? temp : c.gpr[r], size);
        } catch (CpuFault f) {
            c.gpr[Cpu.RSP] = oldRsp;
            throw f;
        }
    }

    static void popa(Cpu c, Insn i) {
        int size = i.opSize;
        // Read all eight slots first so that a fault leaves every register unchanged.
        long di = peek(c, 0, size), si = peek(c, size, size), bp = peek(c, 2 * size, size);
        long bx = peek(c, 4 * size, size), dx = peek(c, 5 * size, size), cx = peek(c, 6 * size, size);
        long ax = peek(c, 7 * size, size);
        setReg(c, Cpu.RDI, size, false, di);
        setReg(c, Cpu.RSI, size, false, si);
        setReg(c, Cpu.RBP, size, false, bp);
        setReg(c, Cpu.RBX, size, false, bx);
        setReg(c, Cpu.RDX, size, false, dx);
        setReg(c, Cpu.RCX, size, false, cx);
        setReg(c, Cpu.RAX, size, false, ax);
        c.gpr[Cpu.RSP] = movedRsp(c, 8 * size);
    }

    /** PUSHF: VM and RF are cleared in the pushed image (SDM Vol. 2 PUSHF). */
    static void pushf(Cpu c, Insn i) {
        long f = c.getRflags();
        if (c.mode == Mode.VIRTUAL_8086 && (f & Rflags.IOPL) != Rflags.IOPL) {
            if ((c.cr4 & Cr.CR4_VME) != 0 && i.opSize == 2) {
                // SDM 20.3: with VME, PUSHF pushes VIF in place of IF and IOPL as 3.
                f = (f & ~Rflags.IF) | ((f & Rflags.VIF) != 0 ? Rflags.IF : 0) | Rflags.IOPL;
            } else {
                throw CpuFault.gp0();
            }
        }
        push(c, f & ~(Rflags.VM | Rflags.RF), i.opSize);
    }

    /** POPF with the IOPL/CPL/VM rules of SDM Vol. 2 POPF. */
    static void popf(Cpu c, Insn i) {
        int size = i.opSize;
        long cur = c.getRflags();
        int iopl = (int) ((cur & Rflags.IOPL) >>> 12);
        boolean vme16 = false;
        if (c.mode == Mode.VIRTUAL_8086 && iopl < 3) {
            if ((c.cr4 & Cr.CR4_VME) != 0 && size == 2) vme16 = true;
            else throw CpuFault.gp0();
        }
        long v = peek(c, 0, size);
        long changeable = Rflags.STATUS | Rflags.TF | Rflags.DF | Rflags.NT | Rflags.AC | Rflags.ID
                | Rflags.IF | Rflags.IOPL;
        if (size == 2) changeable &= 0xFFFF;
        long next;
        if (vme16) {
            // SDM 20.3.3 (VME): TF set in the image or a pending VIP with IF set is #GP; IF goes to VIF.
            if ((v & Rflags.TF) != 0 || ((v & Rflags.IF) != 0 && (cur & Rflags.VIP) != 0)) throw CpuFault.gp0();
            changeable &= ~(Rflags.IOPL | Rflags.IF);
            next = (cur & ~changeable) | (v & changeable);
            next = (next & ~Rflags.VIF) | ((v & Rflags.IF) != 0 ? Rflags.VIF : 0);
        } else {
            if (c.mode == Mode.VIRTUAL_8086 || c.cpl > 0) changeable &= ~Rflags.IOPL;
            if (c.cpl > iopl) changeable &= ~Rflags.IF;
            next = (cur & ~changeable) | (v & changeable);
            if (size != 2) next &= ~Rflags.RF;
        }
        c.gpr[Cpu.RSP] = movedRsp(c, size);
        c.setRflags(next);
    }

    static void enter(Cpu c, Insn i) {
        int size = i.opSize;
        int alloc = (int) (i.imm & 0xFFFF);
        int level = (int) (i.imm2 & 31);
        long oldRsp = c.gpr[Cpu.RSP], oldRbp = c.gpr[Cpu.RBP];
        try {
            push(c, c.gpr[Cpu.RBP], size);
            long frame = c.gpr[Cpu.RSP];
            if (level > 0) {
                long rbp = c.gpr[Cpu.RBP];
                for (int k = 1; k < level; k++) {
                    rbp = size == 2 ? (rbp & ~0xFFFFL) | ((rbp - 2) & 0xFFFF)
                            : stackAddrSize(c) == 4 ? (rbp - size) & 0xFFFFFFFFL : rbp - size;
                    push(c, load(c, Segment.SS, stackOffset(c, rbp), size), size);
                }
                push(c, frame, size);
            }
            setReg(c, Cpu.RBP, size == 2 ? 2 : stackAddrSize(c) == 2 ? 2 : size, false, frame);
            c.gpr[Cpu.RSP] = movedRsp(c, -alloc);
            // SDM Vol. 2 ENTER: the new stack top must be writable (#SS/#PF otherwise).
            if (alloc != 0) load(c, Segment.SS, stackOffset(c, c.gpr[Cpu.RSP]), 1);
        } catch (CpuFault f) {
            c.gpr[Cpu.RSP] = oldRsp;
            c.gpr[Cpu.RBP] = oldRbp;
            throw f;
        }
    }

    static void leave(Cpu c, Insn i) {
        long oldRsp = c.gpr[Cpu.RSP];
        int sas = stackAddrSize(c);
        long rbp = c.gpr[Cpu.RBP];
        c.gpr[Cpu.RSP] = sas == 8 ? rbp : sas == 4 ? rbp & 0xFFFFFFFFL : (oldRsp & ~0xFFFFL) | (rbp & 0xFFFF);
        try {
            long v = pop(c, i.opSize);
            setReg(c, Cpu.RBP, i.opSize, false, v);
        } catch (CpuFault f) {
            c.gpr[Cpu.RSP] = oldRsp;
            throw f;
        }
    }

    static void xlat(Cpu c, Insn i) {
        long off = (c.gpr[Cpu.RBX] + (c.gpr[Cpu.RAX] & 0xFF)) & addrMask(i.addrSize);
        setReg(c, Cpu.RAX, 1, false, load(c, i.seg, off, 1));
    }

    static void cbw(Cpu c, Insn i) {
        long a = c.gpr[Cpu.RAX];
        switch (i.opSize) {
            case 2: setReg(c, Cpu.RAX, 2, false, (byte) a); break;
            case 4: setReg(c, Cpu.RAX, 4, false, (short) a); break;
            default: c.gpr[Cpu.RAX] = (int) a;
        }
    }

    static void cwd(Cpu c, Insn i) {
        long a = c.gpr[Cpu.RAX];
        switch (i.opSize) {
            case 2: setReg(c, Cpu.RDX, 2, false, ((short) a) >> 15); break;
            case 4: setReg(c, Cpu.RDX, 4, false, ((int) a) >> 31); break;
            default: c.gpr[Cpu.RDX] = a >> 63;
        }
    }

    // ---- exchange-and-compare family ----

    static void xadd(Cpu c, Insn i) {
        int size = i.opSize;
        long src = readG(c, i);
        long dst, r;
        if (i.mem) {
            long off = ea(c, i);
            dst = load(c, i.seg, off, size);
            r = (dst + src) & mask(size);
            store(c, i.seg, off, size, r);
            writeG(c, i, dst);
        } else {
            dst = readE(c, i);
            r = (dst + src) & mask(size);
            writeG(c, i, dst);
            writeRmReg(c, i, r);
        }
        Flags.record(c, Flags.ADD, size, r, dst, src);
    }

    /** CMPXCHG: compares the accumulator with the destination (flags as CMP). */
    static void cmpxchg(Cpu c, Insn i) {
        int size = i.opSize;
        long acc = getReg(c, Cpu.RAX, size, false);
        long src = readG(c, i);
        long dst;
        if (i.mem) {
            long off = ea(c, i);
            dst = load(c, i.seg, off, size);
            // The processor always writes the destination (its own value back on a mismatch).
            store(c, i.seg, off, size, dst == acc ? src : dst);
            if (dst != acc) setReg(c, Cpu.RAX, size, false, dst);
        } else {
            dst = readE(c, i);
            if (dst == acc) writeRmReg(c, i, src);
            else setReg(c, Cpu.RAX, size, false, dst);
        }
        Flags.record(c, Flags.SUB, size, (acc - dst) & mask(size), acc, dst);
    }

    /** CMPXCHG8B / CMPXCHG16B (REX.W); the 16-byte form needs 16-byte alignment (#GP(0)). */
    static void cmpxchg8b(Cpu c, Insn i) {
        long off = ea(c, i);
        boolean eq;
        if (i.opSize == 8) {
            if ((off & 15) != 0) throw CpuFault.gp0();
            long lo = load(c, i.seg, off, 8), hi = load(c, i.seg, off + 8, 8);
            eq = lo == c.gpr[Cpu.RAX] && hi == c.gpr[Cpu.RDX];
            if (eq) {
                store(c, i.seg, off, 8, c.gpr[Cpu.RBX]);
                store(c, i.seg, off + 8, 8, c.gpr[Cpu.RCX]);
            } else {
                store(c, i.seg, off, 8, lo);
                store(c, i.seg, off + 8, 8, hi);
                c.gpr[Cpu.RAX] = lo;
                c.gpr[Cpu.RDX] = hi;
            }
        } else {
            long m = load(c, i.seg, off, 8);
            long cmp = (c.gpr[Cpu.RDX] << 32) | (c.gpr[Cpu.RAX] & 0xFFFFFFFFL);
            eq = m == cmp;
            if (eq) {
                store(c, i.seg, off, 8, (c.gpr[Cpu.RCX] << 32) | (c.gpr[Cpu.RBX] & 0xFFFFFFFFL));
            } else {
                store(c, i.seg, off, 8, m);
                c.gpr[Cpu.RAX] = m & 0xFFFFFFFFL;
                c.gpr[Cpu.RDX] = m >>> 32;
            }
        }
        Flags.materialize(c);
        c.rflags = eq ? c.rflags | Flags.ZF : c.rflags & ~Flags.ZF;
    }

    /** LDS/LES/LFS/LGS/LSS: offset then selector from memory; the segment load checks first. */
    static void loadFar(Cpu c, Insn i) {
        int size = i.opSize;
        long off = ea(c, i);
        long offset = load(c, i.seg, off, size);
        int sel = (int) load(c, i.seg, (off + size) & addrMask(i.addrSize), 2);
        Interpreter.materializeForSystem(c);
        c.sys.loadSegment(i.sub, sel);
        writeG(c, i, offset);
    }

    /** BOUND: #BR (vector 5) when the signed index lies outside [lower, upper]. */
    static void bound(Cpu c, Insn i) {
        int size = i.opSize;
        long idx = signExtend(readG(c, i), size);
        long off = ea(c, i);
        long lower = signExtend(load(c, i.seg, off, size), size);
        long upper = signExtend(load(c, i.seg, (off + size) & addrMask(i.addrSize), size), size);
        if (idx < lower || idx > upper) throw new CpuFault(5, -1, 0);
    }

    /** ARPL: protected mode only (#UD in real and virtual-8086 mode). */
    static void arpl(Cpu c, Insn i) {
        if (c.mode == Mode.REAL || c.mode == Mode.VIRTUAL_8086) throw CpuFault.ud();
        long dst = readE(c, i, 2);
        long src = getReg(c, i.reg, 2, false);
        Flags.materialize(c);
        if ((dst & 3) < (src & 3)) {
            long r = (dst & ~3L) | (src & 3);
            if (i.mem) store(c, i.seg, ea(c, i), 2, r);
            else setReg(c, i.rm, 2, false, r);
            c.rflags |= Flags.ZF;
        } else {
            c.rflags &= ~Flags.ZF;
        }
    }

    // ---- flag instructions ----

    static void carry(Cpu c, int how) {   // 0 CLC, 1 STC, 2 CMC
        boolean cf = Flags.cf(c);
        Flags.materialize(c);
        boolean n = how == 0 ? false : how == 1 || !cf;
        c.rflags = n ? c.rflags | Flags.CF : c.rflags & ~Flags.CF;
    }

    static void direction(Cpu c, boolean set) {
        c.rflags = set ? c.rflags | Rflags.DF : c.rflags & ~Rflags.DF;
    }

    /** CLI/STI with the IOPL rules and the VME/PVI virtual-interrupt flag (SDM Vol. 2 CLI, STI). */
    static void interruptFlag(Cpu c, boolean set) {
        long f = c.rflags;
        int iopl = (int) ((f & Rflags.IOPL) >>> 12);
        boolean useIf;
        switch (c.mode) {
            case REAL: useIf = true; break;
            case VIRTUAL_8086:
                if (iopl == 3) useIf = true;
                else if ((c.cr4 & Cr.CR4_VME) != 0) useIf = false;
                else throw CpuFault.gp0();
                break;
            default:
                if (c.cpl <= iopl) useIf = true;
                else if (c.cpl == 3 && (c.cr4 & Cr.CR4_PVI) != 0) useIf = false;
                else throw CpuFault.gp0();
        }
        if (useIf) {
            if (set) {
                if ((f & Rflags.IF) == 0) Interpreter.blockEvents(c, 1);   // SDM 6.8.3: STI shadow
                c.rflags = f | Rflags.IF;
            } else {
                c.rflags = f & ~Rflags.IF;
            }
        } else {
            if (set && (f & Rflags.VIP) != 0) throw CpuFault.gp0();
            c.rflags = set ? f | Rflags.VIF : f & ~Rflags.VIF;
        }
    }

    static void lahf(Cpu c) {
        long f = c.getRflags();
        setReg(c, 4, 1, true, (f & 0xD5) | 2);     // register 4 with high = AH
    }

    static void sahf(Cpu c) {
        long ah = (c.gpr[Cpu.RAX] >>> 8) & 0xFF;
        Flags.materialize(c);
        long keep = Flags.CF | Flags.PF | Flags.AF | Flags.ZF | Flags.SF;
        c.rflags = (c.rflags & ~keep) | (ah & keep);
    }

    /** CLAC/STAC: #UD at CPL > 0 (SDM Vol. 2 CLAC). */
    static void acFlag(Cpu c, boolean set) {
        if (c.cpl > 0) throw CpuFault.ud();
        c.rflags = set ? c.rflags | Rflags.AC : c.rflags & ~Rflags.AC;
    }
}
