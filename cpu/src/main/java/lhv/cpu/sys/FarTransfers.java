package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;

/**
 * Far JMP, far CALL, far RET and IRET in every mode (SDM Vol. 2 JMP, CALL, RET, IRET; Vol. 3A 5.8
 * privilege checks for control transfers, 5.8.5 stack switching through call gates, 6.14.3 IRET in
 * IA-32e mode). Hardware task switches (TSS or task-gate targets, IRET with NT=1 outside IA-32e
 * mode) are carried out by {@link TaskSwitch}.
 *
 * <p>Context: guest instruction execution. Checks come first; registers are changed only after every
 * memory access of the transfer succeeded.
 */
final class FarTransfers {
    private final Cpu cpu;
    private final Descriptor code = new Descriptor();
    private final Descriptor gate = new Descriptor();
    private final Descriptor stackSeg = new Descriptor();
    private final StackFrame stack;
    private final StackFrame oldStack;
    private final TaskSwitch tasks;

    FarTransfers(Cpu cpu, TaskSwitch tasks) {
        this.cpu = cpu;
        this.tasks = tasks;
        this.stack = new StackFrame(cpu);
        this.oldStack = new StackFrame(cpu);
    }

    private boolean realOrVm86() {
        return cpu.mode == Mode.REAL || cpu.mode == Mode.VIRTUAL_8086;
    }

    private boolean ia32e() {
        return (cpu.efer & Cr.EFER_LMA) != 0;
    }

    private static long truncate(long v, int size) {
        return size == 2 ? v & 0xFFFF : size == 4 ? v & 0xFFFFFFFFL : v;
    }

    /** Loads CS the 8086 way (real and virtual-8086 mode). */
    private void loadCsReal(int selector) {
        Segment cs = cpu.seg[Segment.CS];
        if (cpu.mode == Mode.VIRTUAL_8086) cs.set(selector, (long) (selector & 0xFFFF) << 4, 0xFFFF, 0xF3);
        else cs.loadReal(selector);
    }

    // ---------------------------------------------------------------- JMP / CALL

    void jump(int selector, long offset, int opSize) {
        transfer(selector & 0xFFFF, truncate(offset, opSize), opSize, false);
    }

    void call(int selector, long offset, int opSize) {
        transfer(selector & 0xFFFF, truncate(offset, opSize), opSize, true);
    }

    private void transfer(int selector, long offset, int opSize, boolean call) {
        if (realOrVm86()) {
            // SDM JMP/CALL real-address and virtual-8086 mode: the offset must lie within CS's limit.
            if (offset > (cpu.seg[Segment.CS].limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
            if (call) {
                StackFrame s = stack.current(0);
                s.push(opSize, cpu.seg[Segment.CS].selector);
                s.push(opSize, cpu.rip);
                s.commit();
            }
            loadCsReal(selector);
            cpu.rip = offset;
            return;
        }
        int index = selector & 0xFFFC;
        if (index == 0) throw CpuFault.gp0();
        if (!Descriptor.fetch(cpu, selector, code)) throw CpuFault.gp(index);
        if (code.codeOrData()) {
            if (!code.isCode()) throw CpuFault.gp(index);
            // SDM 5.8.2: conforming: DPL <= CPL; non-conforming: RPL <= CPL and DPL = CPL.
            if (code.conforming() ? code.dpl() > cpu.cpl : (selector & 3) > cpu.cpl || code.dpl() != cpu.cpl) {
                throw CpuFault.gp(index);
            }
            if (!code.present()) throw CpuFault.np(index);
            checkTarget(code, index, offset);
            if (call) {
                StackFrame s = stack.current(0);
                s.push(opSize, cpu.seg[Segment.CS].selector);
                s.push(opSize, cpu.rip);
                s.commit();
            }
            code.setAccessed(cpu);
            code.loadInto(cpu.seg[Segment.CS], index | cpu.cpl);
            cpu.rip = offset;
            cpu.stateChanged();
            return;
        }
        int t = code.type();
        boolean ia32e = ia32e();
        switch (t) {
            case Descriptor.CALL_GATE -> viaCallGate(selector, call);
            case Descriptor.CALL_GATE16 -> {
                if (ia32e) throw CpuFault.gp(index);
                viaCallGate(selector, call);
            }
            case Descriptor.TSS_AVAIL, Descriptor.TSS16_AVAIL -> {
                // No task switching in IA-32e mode (SDM 7.7).
                if (ia32e) throw CpuFault.gp(index);
                tasks.viaTssDescriptor(code, selector, call ? TaskSwitch.CALL : TaskSwitch.JMP);
            }
            case Descriptor.TASK_GATE -> {
                if (ia32e) throw CpuFault.gp(index);
                tasks.viaTaskGate(code, selector, call ? TaskSwitch.CALL : TaskSwitch.JMP);
            }
            default -> throw CpuFault.gp(index);
        }
    }

    /** The target offset must be canonical for 64-bit code, else within the segment limit (#GP(0)). */
    private void checkTarget(Descriptor cs, int index, long offset) {
        if (ia32e() && cs.longMode()) {
            if (cs.big()) throw CpuFault.gp(index);
            if (!Mmu.canonical(offset)) throw CpuFault.gp0();
        } else if (offset > (cs.limit() & 0xFFFFFFFFL)) {
            throw CpuFault.gp0();
        }
    }

    /** SDM 5.8.6: far JMP/CALL through a call gate; a CALL to more privileged code switches stacks. */
    private void viaCallGate(int gateSelector, boolean call) {
        int gateIndex = gateSelector & 0xFFFC;
        boolean ia32e = ia32e();
        gate.lo = code.lo;
        gate.hi = code.hi;
        gate.address = code.address;
        gate.selector = code.selector;
        if (gate.dpl() < cpu.cpl || gate.dpl() < (gateSelector & 3)) throw CpuFault.gp(gateIndex);
        if (!gate.present()) throw CpuFault.np(gateIndex);
        int size;
        long target;
        if (ia32e) {
            if (!Descriptor.fetchUpper(cpu, gate)) throw CpuFault.gp(gateIndex);
            if (((gate.upper2 >>> 8) & 0x1F) != 0) throw CpuFault.gp(gateIndex);
            size = 8;
            target = gate.gateOffset64();
        } else if (gate.type() == Descriptor.CALL_GATE) {
            size = 4;
            target = gate.gateOffset32();
        } else {
            size = 2;
            target = gate.lo & 0xFFFF;
        }
        int sel = gate.gateSelector();
        int index = sel & 0xFFFC;
        if (index == 0) throw CpuFault.gp0();
        if (!Descriptor.fetch(cpu, sel, code)) throw CpuFault.gp(index);
        if (!code.isCode() || code.dpl() > cpu.cpl) throw CpuFault.gp(index);
        if (!call && !code.conforming() && code.dpl() != cpu.cpl) throw CpuFault.gp(index);
        if (!code.present()) throw CpuFault.np(index);
        if (ia32e && (!code.longMode() || code.big())) throw CpuFault.gp(index);
        checkTarget(code, index, target);
        int newCpl = cpu.cpl;
        if (call && !code.conforming() && code.dpl() < cpu.cpl) {
            newCpl = code.dpl();
            int newSs;
            if (ia32e) {
                long rsp = readTss(4 + 8 * newCpl, 8);
                newSs = newCpl; // null selector with RPL = new CPL (SDM 5.8.6)
                stack.init(0, -1, 0, rsp, 8, 0, newCpl < 3);
                stack.push(8, cpu.seg[Segment.SS].selector);
                stack.push(8, cpu.gpr[Cpu.RSP]);
            } else {
                long sp;
                if (tss32()) {
                    sp = readTss(4 + 8 * newCpl, 4);
                    newSs = (int) readTss(8 + 8 * newCpl, 2);
                } else {
                    sp = readTss(2 + 4 * newCpl, 2);
                    newSs = (int) readTss(4 + 4 * newCpl, 2);
                }
                checkNewStack(newSs, newCpl);
                stack.init(stackSeg.base(), stackSeg.limit(), stackSeg.attributes(), sp, stackSeg.big() ? 4 : 2,
                        newSs & 0xFFFC, newCpl < 3);
                stack.push(size, cpu.seg[Segment.SS].selector);
                stack.push(size, cpu.gpr[Cpu.RSP]);
                // Copy the gate's parameter count of parameters from the caller's stack (SDM 5.8.5).
                int count = gate.gateParamCount();
                StackFrame old = oldStack.current(0);
                for (int i = count - 1; i >= 0; i--) stack.push(size, old.peek(i * size, size));
            }
            stack.push(size, cpu.seg[Segment.CS].selector);
            stack.push(size, cpu.rip);
            // Commit.
            code.setAccessed(cpu);
            if (ia32e) {
                cpu.seg[Segment.SS].set(newSs, 0, 0, Segment.AR_UNUSABLE | 0x93 | newCpl << 5);
            } else {
                stackSeg.setAccessed(cpu);
                stackSeg.loadInto(cpu.seg[Segment.SS], newSs);
            }
            stack.commit();
        } else if (call) {
            StackFrame s = stack.current(0);
            s.push(size, cpu.seg[Segment.CS].selector);
            s.push(size, cpu.rip);
            s.commit();
            code.setAccessed(cpu);
        } else {
            code.setAccessed(cpu);
        }
        code.loadInto(cpu.seg[Segment.CS], index | newCpl);
        cpu.cpl = newCpl;
        cpu.rip = target;
        cpu.stateChanged();
    }

    private boolean tss32() {
        int t = cpu.tr.type();
        return t == Descriptor.TSS_AVAIL || t == Descriptor.TSS_BUSY;
    }

    private long readTss(int offset, int size) {
        if (cpu.tr.unusable() || offset + size - 1L > (cpu.tr.limit & 0xFFFFFFFFL)) {
            throw CpuFault.ts(cpu.tr.selector & 0xFFFC);
        }
        return cpu.mmu.readLinear(cpu.tr.base + offset, size, true);
    }

    private void checkNewStack(int ss, int newCpl) {
        int index = ss & 0xFFFC;
        if (index == 0) throw CpuFault.ts(0);
        if (!Descriptor.fetch(cpu, ss, stackSeg)) throw CpuFault.ts(index);
        if ((ss & 3) != newCpl || stackSeg.dpl() != newCpl || !stackSeg.writableData()) throw CpuFault.ts(index);
        if (!stackSeg.present()) throw CpuFault.ss(index);
    }

    // ---------------------------------------------------------------- RET

    void ret(int opSize, int popBytes) {
        StackFrame s = stack.current(0);
        long ip = s.pop(opSize);
        int sel = (int) s.pop(opSize) & 0xFFFF;
        if (realOrVm86()) {
            if (ip > (cpu.seg[Segment.CS].limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
            s.release(popBytes);
            s.commit();
            loadCsReal(sel);
            cpu.rip = ip;
            return;
        }
        int rpl = sel & 3;
        checkReturnCs(sel);
        if (rpl == cpu.cpl) {
            checkTarget(code, sel & 0xFFFC, ip);
            s.release(popBytes);
            s.commit();
            code.setAccessed(cpu);
            code.loadInto(cpu.seg[Segment.CS], sel);
            cpu.rip = ip;
            cpu.stateChanged();
            return;
        }
        // Return to an outer privilege level (SDM 5.8.6 / RET): the caller's SS:ESP follows.
        s.release(popBytes);
        long sp = s.pop(opSize);
        int ss = (int) s.pop(opSize) & 0xFFFF;
        boolean nullSsOk = checkReturnSs(ss, rpl);
        checkTarget(code, sel & 0xFFFC, ip);
        commitOuter(sel, ss, nullSsOk, sp + popBytes, opSize);
        cpu.rip = ip;
        cpu.stateChanged();
    }

    /** CS checks shared by RET and IRET (SDM Vol. 2 RET, "return to other/same privilege level"). */
    private void checkReturnCs(int sel) {
        int index = sel & 0xFFFC;
        if (index == 0) throw CpuFault.gp0();
        if (!Descriptor.fetch(cpu, sel, code)) throw CpuFault.gp(index);
        int rpl = sel & 3;
        if (!code.isCode() || rpl < cpu.cpl) throw CpuFault.gp(index);
        if (code.conforming() ? code.dpl() > rpl : code.dpl() != rpl) throw CpuFault.gp(index);
        if (!code.present()) throw CpuFault.np(index);
        if (ia32e() && code.longMode() && code.big()) throw CpuFault.gp(index);
    }

    /** Returns true when a null SS is acceptable (IA-32e return to 64-bit code at CPL < 3). */
    private boolean checkReturnSs(int ss, int rpl) {
        int index = ss & 0xFFFC;
        if (index == 0) {
            if (ia32e() && code.longMode() && rpl != 3) return true;
            throw CpuFault.gp0();
        }
        if (!Descriptor.fetch(cpu, ss, stackSeg)) throw CpuFault.gp(index);
        if ((ss & 3) != rpl || !stackSeg.writableData() || stackSeg.dpl() != rpl) throw CpuFault.gp(index);
        if (!stackSeg.present()) throw CpuFault.ss(index);
        return false;
    }

    /** Loads CS and SS:RSP for a return to another privilege level, then drops data segments the new CPL may not use. */
    private void commitOuter(int cs, int ss, boolean nullSs, long sp, int opSize) {
        int rpl = cs & 3;
        code.setAccessed(cpu);
        code.loadInto(cpu.seg[Segment.CS], cs);
        Segment ssReg = cpu.seg[Segment.SS];
        if (nullSs) {
            ssReg.set(ss, 0, 0, Segment.AR_UNUSABLE | 0x93 | rpl << 5);
        } else {
            stackSeg.setAccessed(cpu);
            stackSeg.loadInto(ssReg, ss);
        }
        cpu.cpl = rpl;
        if (ia32e() && code.longMode()) cpu.gpr[Cpu.RSP] = sp;
        else if (ssReg.big() || opSize == 8) cpu.gpr[Cpu.RSP] = sp & 0xFFFFFFFFL;
        else cpu.gpr[Cpu.RSP] = (cpu.gpr[Cpu.RSP] & ~0xFFFFL) | (sp & 0xFFFF);
        for (int r : DATA_SEGMENTS) invalidateForPrivilege(cpu.seg[r], rpl);
    }

    private static final int[] DATA_SEGMENTS = {Segment.ES, Segment.DS, Segment.FS, Segment.GS};

    /** SDM RET/IRET: a data or non-conforming code segment more privileged than the new CPL becomes null. */
    private static void invalidateForPrivilege(Segment s, int newCpl) {
        if (s.unusable() || (s.selector & 0xFFFC) == 0) return;
        boolean conformingCode = (s.attributes & 0x1C) == 0x1C;
        if (!conformingCode && s.dpl() < newCpl) {
            s.set(0, s.base, s.limit, s.attributes | Segment.AR_UNUSABLE);
        }
    }

    // ---------------------------------------------------------------- IRET

    void iret(int opSize) {
        if (!cpu.nonRoot) {
            iretTransfer(opSize);
            // SDM 6.7.1: a completed IRET ends the blocking of NMIs.
            cpu.nmiBlocked = false;
            return;
        }
        // SDM Vol. 3C 26.3: in VMX non-root operation the VMX controls decide which NMI blocking IRET
        // ends, and it ends before a fault of the IRET could cause a VM exit (SDM 28.1).
        if (cpu.vmx.intercept(cpu, Sensitive.IRET, null, 0, 0) != 0) cpu.nmiBlocked = false;
        iretTransfer(opSize);
    }

    private void iretTransfer(int opSize) {
        long flags = cpu.getRflags();
        if (cpu.mode == Mode.REAL) {
            StackFrame s = stack.current(0);
            long ip = s.pop(opSize);
            int sel = (int) s.pop(opSize) & 0xFFFF;
            long f = s.pop(opSize);
            if (ip > (cpu.seg[Segment.CS].limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
            s.commit();
            loadCsReal(sel);
            cpu.rip = ip;
            // SDM IRET real-address mode: VM, VIP, VIF are kept.
            long keep = opSize == 2 ? ~0xFFFFL : Rflags.VM | Rflags.VIP | Rflags.VIF;
            cpu.setRflags((flags & keep) | (f & ~keep));
            return;
        }
        if (cpu.mode == Mode.VIRTUAL_8086) {
            if ((flags & Rflags.IOPL) != Rflags.IOPL) {
                // IOPL < 3: only a 16-bit IRET under CR4.VME is allowed; it moves the popped IF into
                // VIF (SDM Vol. 2 IRET, 20.3.2); otherwise IRET is IOPL-sensitive (SDM 20.2.7).
                if ((cpu.cr4 & Cr.CR4_VME) == 0 || opSize != 2) throw CpuFault.gp0();
                StackFrame s = stack.current(0);
                long ip = s.pop(2);
                int sel = (int) s.pop(2) & 0xFFFF;
                long f = s.pop(2);
                if (((flags & Rflags.VIP) != 0 && (f & Rflags.IF) != 0) || (f & Rflags.TF) != 0) throw CpuFault.gp0();
                s.commit();
                loadCsReal(sel);
                cpu.rip = ip;
                long keep = ~0xFFFFL | Rflags.IOPL | Rflags.IF;
                long next = (flags & keep) | (f & ~keep);
                next = (next & ~Rflags.VIF) | ((f & Rflags.IF) != 0 ? Rflags.VIF : 0);
                cpu.setRflags(next);
                return;
            }
            StackFrame s = stack.current(0);
            long ip = s.pop(opSize);
            int sel = (int) s.pop(opSize) & 0xFFFF;
            long f = s.pop(opSize);
            if (ip > 0xFFFF) throw CpuFault.gp0();
            s.commit();
            loadCsReal(sel);
            cpu.rip = ip;
            long keep = Rflags.VM | Rflags.IOPL | Rflags.VIP | Rflags.VIF | (opSize == 2 ? ~0xFFFFL : 0);
            cpu.setRflags((flags & keep) | (f & ~keep));
            return;
        }
        boolean ia32e = ia32e();
        if ((flags & Rflags.NT) != 0) {
            if (ia32e) throw CpuFault.gp0();
            tasks.iretToPreviousTask();
            return;
        }
        StackFrame s = stack.current(0);
        long ip = s.pop(opSize);
        int sel = (int) s.pop(opSize) & 0xFFFF;
        long f = s.pop(opSize);
        if (!ia32e && opSize == 4 && (f & Rflags.VM) != 0 && cpu.cpl == 0) {
            returnToVm86(s, ip, sel, f);
            return;
        }
        int rpl = sel & 3;
        checkReturnCs(sel);
        boolean popStack = rpl != cpu.cpl || cpu.mode == Mode.LONG64;
        if (!popStack) {
            checkTarget(code, sel & 0xFFFC, ip);
            s.commit();
            int oldCpl = cpu.cpl;
            code.setAccessed(cpu);
            code.loadInto(cpu.seg[Segment.CS], sel);
            cpu.rip = ip;
            cpu.setRflags(newFlags(flags, f, opSize, oldCpl));
            cpu.stateChanged();
            return;
        }
        long sp = s.pop(opSize);
        int ss = (int) s.pop(opSize) & 0xFFFF;
        boolean nullSs = checkReturnSs(ss, rpl);
        checkTarget(code, sel & 0xFFFC, ip);
        int oldCpl = cpu.cpl;
        if (rpl == oldCpl) {
            // 64-bit mode IRET to the same privilege still reloads SS:RSP (SDM 6.14.3).
            code.setAccessed(cpu);
            code.loadInto(cpu.seg[Segment.CS], sel);
            if (nullSs) cpu.seg[Segment.SS].set(ss, 0, 0, Segment.AR_UNUSABLE | 0x93 | rpl << 5);
            else {
                stackSeg.setAccessed(cpu);
                stackSeg.loadInto(cpu.seg[Segment.SS], ss);
            }
            cpu.gpr[Cpu.RSP] = code.longMode() ? sp : sp & 0xFFFFFFFFL;
        } else {
            commitOuter(sel, ss, nullSs, sp, opSize);
        }
        cpu.rip = ip;
        cpu.setRflags(newFlags(flags, f, opSize, oldCpl));
        cpu.stateChanged();
    }

    /** SDM IRET: which EFLAGS bits a protected-mode IRET may change at the old CPL and IOPL. */
    private static long newFlags(long old, long popped, int opSize, int cpl) {
        long changeable = Rflags.STATUS | Rflags.TF | Rflags.DF | Rflags.NT;
        if (opSize != 2) changeable |= Rflags.RF | Rflags.AC | Rflags.ID;
        int iopl = (int) ((old & Rflags.IOPL) >>> 12);
        if (cpl <= iopl) changeable |= Rflags.IF;
        if (cpl == 0) {
            changeable |= Rflags.IOPL;
            if (opSize != 2) changeable |= Rflags.VIF | Rflags.VIP;
        }
        return ((old & ~changeable) | (popped & changeable)) & ~Rflags.VM;
    }

    /** SDM IRET "RETURN-TO-VIRTUAL-8086-MODE": pops ESP, SS, ES, DS, FS, GS and loads them 8086-style. */
    private void returnToVm86(StackFrame s, long ip, int cs, long f) {
        long esp = s.pop(4);
        int ss = (int) s.pop(4) & 0xFFFF;
        int es = (int) s.pop(4) & 0xFFFF;
        int ds = (int) s.pop(4) & 0xFFFF;
        int fs = (int) s.pop(4) & 0xFFFF;
        int gs = (int) s.pop(4) & 0xFFFF;
        cpu.setRflags(f);
        int[] sels = {es, cs, ss, ds, fs, gs};
        for (int r = 0; r < 6; r++) cpu.seg[r].set(sels[r], (long) sels[r] << 4, 0xFFFF, 0xF3);
        cpu.gpr[Cpu.RSP] = esp & 0xFFFFFFFFL;
        cpu.rip = ip & 0xFFFF;
        cpu.cpl = 3;
        cpu.stateChanged();
    }
}
