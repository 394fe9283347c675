package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Msr;
import lhv.cpu.NotImplemented;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.decode.Insn;
import lhv.cpu.decode.Op;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.VmxInstruction;
import lhv.cpu.mmu.Mmu;

import static lhv.cpu.exec.Operands.*;

/**
 * System instructions: the interpreter's side of them. Each performs its mode and privilege checks,
 * then (in VMX non-root operation) asks the VMX layer, then lets the system unit do the work
 * (SDM Vol. 2 pages of each instruction; Vol. 3C 26.1.1 for which faults come before a VM exit:
 * #UD, privilege-level #GP and I/O-permission #GP do, memory-operand faults do not).
 *
 * <p>Context: guest instruction execution.
 */
final class SystemOps {
    private SystemOps() { }

    private static final VmxInstruction[] VMX = VmxInstruction.values();

    private static boolean realOrV86(Cpu c) {
        return c.mode == Mode.REAL || c.mode == Mode.VIRTUAL_8086;
    }

    /** CPL must be 0 (virtual-8086 code runs at CPL 3). */
    static void requireCpl0(Cpu c) {
        if (c.cpl != 0 || c.mode == Mode.VIRTUAL_8086) throw CpuFault.gp0();
    }

    private static long intercept(Cpu c, Sensitive what, Insn i, long a, long b) {
        if (!c.nonRoot) return b;
        Interpreter.materializeForSystem(c);
        return c.vmx.intercept(c, what, i, a, b);
    }

    /**
     * For instructions that either exit or run unchanged: true when a VM exit ended the instruction
     * (see {@link lhv.cpu.intercept.Virtualization#interceptEnds}); the caller then returns at once.
     */
    private static boolean exits(Cpu c, Sensitive what, Insn i, long a, long b) {
        if (!c.nonRoot) return false;
        Interpreter.materializeForSystem(c);
        return c.vmx.interceptEnds(c, what, i, a, b);
    }

    /** UMIP: SGDT, SIDT, SLDT, SMSW, STR at CPL > 0 are #GP(0) when CR4.UMIP = 1 (SDM Vol. 3A 2.5). */
    private static void umip(Cpu c) {
        if ((c.cr4 & Cr.CR4_UMIP) != 0 && c.cpl > 0) throw CpuFault.gp0();
    }

    private static long linearOf(Cpu c, Insn i) {
        long off = ea(c, i);
        if (c.mode == Mode.LONG64) {
            return (i.seg == Segment.FS || i.seg == Segment.GS) ? c.seg[i.seg].base + off : off;
        }
        return (c.seg[i.seg].base + off) & 0xFFFFFFFFL;
    }

    // ---- descriptor tables ----

    /** SGDT/SIDT (which 0/1): limit then base (8 bytes in 64-bit mode, else 4; 24 bits with 16-bit operands). */
    static void storeTable(Cpu c, Insn i, int which) {
        umip(c);
        intercept(c, Sensitive.DESCRIPTOR_TABLE, i, which, 0);
        long base = which == 0 ? c.gdtrBase : c.idtrBase;
        int limit = which == 0 ? c.gdtrLimit : c.idtrLimit;
        long off = ea(c, i);
        long am = addrMask(i.addrSize);
        store(c, i.seg, off, 2, limit);
        if (c.mode == Mode.LONG64) store(c, i.seg, (off + 2) & am, 8, base);
        else store(c, i.seg, (off + 2) & am, 4, i.opSize == 2 ? base & 0xFFFFFF : base);
    }

    /** LGDT/LIDT (which 2/3). */
    static void loadTable(Cpu c, Insn i, int which) {
        requireCpl0(c);
        intercept(c, Sensitive.DESCRIPTOR_TABLE, i, which, 0);
        long off = ea(c, i);
        long am = addrMask(i.addrSize);
        int limit = (int) load(c, i.seg, off, 2);
        long base;
        if (c.mode == Mode.LONG64) {
            base = load(c, i.seg, (off + 2) & am, 8);
            if (!canonical(base)) throw CpuFault.gp0();
        } else {
            base = load(c, i.seg, (off + 2) & am, 4);
            if (i.opSize == 2) base &= 0xFFFFFF;
        }
        Interpreter.materializeForSystem(c);
        if (which == 2) c.sys.lgdt(base, limit);
        else c.sys.lidt(base, limit);
    }

    /** SLDT (0), STR (1): a register destination takes the operand size, memory 16 bits. */
    static void storeSelector(Cpu c, Insn i, int which) {
        if (realOrV86(c)) throw CpuFault.ud();
        umip(c);
        intercept(c, Sensitive.LDTR_TR, i, which, 0);
        int sel = which == 0 ? c.ldtr.selector : c.tr.selector;
        if (i.mem) store(c, i.seg, ea(c, i), 2, sel);
        else writeRmReg(c, i, sel);
    }

    /** LLDT (2), LTR (3). */
    static void loadSelector(Cpu c, Insn i, int which) {
        if (realOrV86(c)) throw CpuFault.ud();
        requireCpl0(c);
        intercept(c, Sensitive.LDTR_TR, i, which, 0);
        int sel = (int) readE(c, i, 2);
        Interpreter.materializeForSystem(c);
        if (which == 2) c.sys.lldt(sel);
        else c.sys.ltr(sel);
    }

    static void verify(Cpu c, Insn i, boolean write) {
        if (realOrV86(c)) throw CpuFault.ud();
        int sel = (int) readE(c, i, 2);
        Interpreter.materializeForSystem(c);
        boolean ok = write ? c.sys.verw(sel) : c.sys.verr(sel);
        Flags.materialize(c);
        c.rflags = ok ? c.rflags | Rflags.ZF : c.rflags & ~Rflags.ZF;
    }

    /** LAR / LSL: ZF tells whether the selector was accepted; the destination changes only then. */
    static void larLsl(Cpu c, Insn i, boolean lar) {
        if (realOrV86(c)) throw CpuFault.ud();
        int sel = (int) readE(c, i, 2);
        Interpreter.materializeForSystem(c);
        long v = lar ? c.sys.lar(sel) : c.sys.lsl(sel);
        Flags.materialize(c);
        if (v == -1) {
            c.rflags &= ~Rflags.ZF;
        } else {
            writeG(c, i, v);
            c.rflags |= Rflags.ZF;
        }
    }

    // ---- control registers ----

    static void smsw(Cpu c, Insn i) {
        umip(c);
        long v = c.cr0;
        if (c.nonRoot) v = intercept(c, Sensitive.SMSW, i, 0, v);
        if (i.mem) store(c, i.seg, ea(c, i), 2, v);
        else writeRmReg(c, i, v);
    }

    static void lmsw(Cpu c, Insn i) {
        requireCpl0(c);
        int v = (int) readE(c, i, 2);
        if (c.nonRoot) v = (int) intercept(c, Sensitive.LMSW, i, v, i.mem ? linearOf(c, i) : -1); // host-owned bits kept (SDM 26.3)
        Interpreter.materializeForSystem(c);
        c.sys.lmsw(v);
    }

    static void clts(Cpu c, Insn i) {
        requireCpl0(c);
        // in non-root operation CLTS leaves a host-owned CR0.TS alone (SDM 26.3)
        if (!c.nonRoot || intercept(c, Sensitive.CLTS, i, 0, 0) != 0) c.sys.clts();
    }

    /** MOV r, CRn / MOV CRn, r: only CR0, CR2, CR3, CR4 and (64-bit mode) CR8 exist (#UD otherwise). */
    static void movCr(Cpu c, Insn i, boolean toCr) {
        int cr = i.reg;
        boolean valid = cr == 0 || cr == 2 || cr == 3 || cr == 4 || (cr == 8 && c.mode == Mode.LONG64);
        if (!valid) throw CpuFault.ud();
        requireCpl0(c);
        Interpreter.materializeForSystem(c);
        if (toCr) {
            long v = c.gpr[i.rm];
            if (i.opSize == 4) v &= 0xFFFFFFFFL;
            v = intercept(c, Sensitive.CR_WRITE, i, cr, v); // host-owned CR0/CR4 bits kept (SDM 26.3)
            c.sys.writeCr(cr, v);
        } else {
            long v = c.sys.readCr(cr);
            if (c.nonRoot) v = intercept(c, Sensitive.CR_READ, i, cr, v);
            setReg(c, i.rm, i.opSize, false, v);
        }
    }

    /** MOV r, DRn / MOV DRn, r: DR4/DR5 are #UD with CR4.DE = 1 (aliases of DR6/DR7 otherwise). */
    static void movDr(Cpu c, Insn i, boolean toDr) {
        int dr = i.reg;
        if (dr > 7) throw CpuFault.ud();
        if ((dr == 4 || dr == 5) && (c.cr4 & Cr.CR4_DE) != 0) throw CpuFault.ud();
        requireCpl0(c);
        intercept(c, Sensitive.MOV_DR, i, dr, toDr ? 0 : 1);
        if (toDr) {
            long v = c.gpr[i.rm];
            if (i.opSize == 4) v &= 0xFFFFFFFFL;
            c.sys.writeDr(dr, v);
        } else {
            setReg(c, i.rm, i.opSize, false, c.sys.readDr(dr));
        }
    }

    static void invlpg(Cpu c, Insn i) {
        requireCpl0(c);
        long lin = linearOf(c, i);
        intercept(c, Sensitive.INVLPG, i, lin, 0);
        c.mmu.invalidatePage(lin);
    }

    static void cacheInvalidate(Cpu c, Insn i, boolean writeBack) {
        requireCpl0(c);
        intercept(c, writeBack ? Sensitive.WBINVD : Sensitive.INVD, i, 0, 0);
        // Caches are not modelled: nothing else to do.
    }

    // ---- MSRs, time, identification ----

    static void rdmsr(Cpu c, Insn i) {
        requireCpl0(c);
        int idx = (int) c.gpr[Cpu.RCX];
        if (exits(c, Sensitive.RDMSR, i, idx & 0xFFFFFFFFL, 0)) return;
        long v = c.sys.rdmsr(idx);
        c.gpr[Cpu.RAX] = v & 0xFFFFFFFFL;
        c.gpr[Cpu.RDX] = v >>> 32;
    }

    static void wrmsr(Cpu c, Insn i) {
        requireCpl0(c);
        int idx = (int) c.gpr[Cpu.RCX];
        long v = (c.gpr[Cpu.RDX] << 32) | (c.gpr[Cpu.RAX] & 0xFFFFFFFFL);
        if (exits(c, Sensitive.WRMSR, i, idx & 0xFFFFFFFFL, v)) return;
        Interpreter.materializeForSystem(c);
        c.sys.wrmsr(idx, v);
    }

    /** RDTSC/RDTSCP: #GP(0) with CR4.TSD = 1 at CPL > 0; VMX may offset/scale or exit. */
    static void rdtsc(Cpu c, Insn i, boolean withAux) {
        if ((c.cr4 & Cr.CR4_TSD) != 0 && (c.cpl > 0 || c.mode == Mode.VIRTUAL_8086)) throw CpuFault.gp0();
        long tsc = c.tsc();
        if (c.nonRoot) tsc = intercept(c, withAux ? Sensitive.RDTSCP : Sensitive.RDTSC, i, tsc, tsc);
        c.gpr[Cpu.RAX] = tsc & 0xFFFFFFFFL;
        c.gpr[Cpu.RDX] = tsc >>> 32;
        if (withAux) c.gpr[Cpu.RCX] = c.sys.rdmsr(Msr.IA32_TSC_AUX) & 0xFFFFFFFFL;
    }

    /**
     * RDPMC (SDM Vol. 2 RDPMC): #GP(0) at CPL > 0 (virtual-8086 mode included) unless CR4.PCE = 1,
     * a check that comes before the VM exit (SDM 26.1.1: privilege-based faults have priority); then
     * the RDPMC-exiting control; then #GP(0) for an invalid counter index in ECX. The model reports
     * no performance monitoring (CPUID leaf 0AH all zero: no general-purpose or fixed-function
     * counters), so every index is invalid and a completed RDPMC does not exist.
     */
    static void rdpmc(Cpu c, Insn i) {
        if ((c.cr4 & Cr.CR4_PCE) == 0 && (c.cpl > 0 || c.mode == Mode.VIRTUAL_8086)) throw CpuFault.gp0();
        intercept(c, Sensitive.RDPMC, i, c.gpr[Cpu.RCX] & 0xFFFFFFFFL, 0);
        throw CpuFault.gp0();
    }

    static void cpuid(Cpu c, Insn i) {
        if (exits(c, Sensitive.CPUID, i, c.gpr[Cpu.RAX] & 0xFFFFFFFFL, c.gpr[Cpu.RCX] & 0xFFFFFFFFL)) return;
        c.sys.cpuid();
    }

    /** MONITOR: address check, then arms the monitoring (MWAIT never sleeps). */
    static void monitor(Cpu c, Insn i) {
        requireCpl0(c);
        intercept(c, Sensitive.MONITOR, i, 0, 0);
        if ((c.gpr[Cpu.RCX] & 0xFFFFFFFFL) != 0) throw CpuFault.gp0();     // no extensions supported
        load(c, i.seg, c.gpr[Cpu.RAX] & addrMask(i.addrSize), 1);
        c.monitorArmed = true;
    }

    /** MWAIT: returns at once, which the SDM allows (any event may end the wait). */
    static void mwait(Cpu c, Insn i) {
        requireCpl0(c);
        intercept(c, Sensitive.MWAIT, i, 0, 0);
        if ((c.gpr[Cpu.RCX] & 0xFFFFFFFFL) > 1) throw CpuFault.gp0();
        c.monitorArmed = false;     // the wait ended; a new MONITOR must re-arm
    }

    static void xgetbv(Cpu c, Insn i) {
        if ((c.cr4 & Cr.CR4_OSXSAVE) == 0) throw CpuFault.ud();
        if ((c.gpr[Cpu.RCX] & 0xFFFFFFFFL) != 0) throw CpuFault.gp0();
        c.gpr[Cpu.RAX] = c.xcr0 & 0xFFFFFFFFL;
        c.gpr[Cpu.RDX] = c.xcr0 >>> 32;
    }

    /** XSETBV: x87 (bit 0) must stay set; AVX (bit 2) needs SSE (bit 1); nothing else exists. */
    static void xsetbv(Cpu c, Insn i) {
        if ((c.cr4 & Cr.CR4_OSXSAVE) == 0) throw CpuFault.ud();
        requireCpl0(c);
        intercept(c, Sensitive.XSETBV, i, c.gpr[Cpu.RAX] & 0xFFFFFFFFL, c.gpr[Cpu.RCX] & 0xFFFFFFFFL);
        if ((c.gpr[Cpu.RCX] & 0xFFFFFFFFL) != 0) throw CpuFault.gp0();
        long v = (c.gpr[Cpu.RDX] << 32) | (c.gpr[Cpu.RAX] & 0xFFFFFFFFL);
        if ((v & 1) == 0 || (v & ~7L) != 0 || ((v & 4) != 0 && (v & 2) == 0)) throw CpuFault.gp0();
        c.xcr0 = v;
    }

    /** RDRAND/RDSEED: a deterministic generator (reproducible runs); always succeeds (CF = 1). */
    static void random(Cpu c, Insn i, boolean seed) {
        intercept(c, seed ? Sensitive.RDSEED : Sensitive.RDRAND, i, 0, 0);
        long v = c.interpreter.nextRandom();
        setReg(c, i.rm, i.opSize, false, v);
        Flags.setStatus(c, Flags.CF);
    }

    /**
     * GETSEC (SDM Vol. 2 GETSEC): #UD when CR4.SMXE = 0, also in VMX non-root operation (the #UD has
     * priority over the unconditional exit). The model does not report SMX (CPUID.1:ECX[6] = 0), so
     * CR4.SMXE is reserved (MOV to CR4 and VM entry refuse it) and GETSEC is always #UD; the lines
     * after the check serve only a host that forces CR4.SMXE into the processor state.
     */
    static void getsec(Cpu c, Insn i) {
        if ((c.cr4 & Cr.CR4_SMXE) == 0) throw CpuFault.ud();
        intercept(c, Sensitive.GETSEC, i, c.gpr[Cpu.RAX] & 0xFFFFFFFFL, 0);
        throw new NotImplemented("GETSEC (SMX)");
    }

    // ---- fast system calls and SWAPGS ----

    static void syscall(Cpu c) {
        Interpreter.materializeForSystem(c);
        c.sys.syscall();
    }

    static void sysret(Cpu c, Insn i) {
        Interpreter.materializeForSystem(c);
        c.sys.sysret(i.opSize == 8 ? 8 : 4);       // 66H does not make SYSRET 16-bit: REX.W selects 64
    }

    static void sysenter(Cpu c) {
        Interpreter.materializeForSystem(c);
        c.sys.sysenter();
    }

    static void sysexit(Cpu c, Insn i) {
        Interpreter.materializeForSystem(c);
        c.sys.sysexit(i.opSize == 8 ? 8 : 4);
    }

    static void swapgs(Cpu c) {
        requireCpl0(c);
        c.sys.swapgs();
    }

    /** RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE: 64-bit mode, CR4.FSGSBASE = 1 (#UD otherwise). */
    static void fsgsbase(Cpu c, Insn i) {
        if ((c.cr4 & Cr.CR4_FSGSBASE) == 0) throw CpuFault.ud();
        int seg = (i.sub & 1) == 0 ? Segment.FS : Segment.GS;
        if (i.op == Op.RDFSBASE) {
            setReg(c, i.rm, i.opSize, false, c.seg[seg].base);
        } else {
            long v = i.opSize == 8 ? c.gpr[i.rm] : c.gpr[i.rm] & 0xFFFFFFFFL;
            if (!canonical(v)) throw CpuFault.gp0();
            c.seg[seg].setBase(v);
        }
    }

    static void clflush(Cpu c, Insn i) {
        // Touches the line like a byte load (SDM Vol. 2 CLFLUSH: faults as a read); caches are not modelled.
        c.mmu.linear(i.seg, ea(c, i), 1, Mmu.READ);
        c.mmu.translate(linearOf(c, i), Mmu.READ, false);
    }

    static void hlt(Cpu c, Insn i) {
        requireCpl0(c);
        if (exits(c, Sensitive.HLT, i, 0, 0)) return;
        c.activityState = 1;
    }

    static void pause(Cpu c, Insn i) {
        exits(c, Sensitive.PAUSE, i, 0, 0);
    }

    static void vmx(Cpu c, Insn i) {
        Interpreter.materializeForSystem(c);
        c.vmx.executeEnds(c, VMX[i.sub], i);   // returns at once: a VMCALL exit may end the instruction here
    }
}
