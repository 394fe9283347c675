package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.Vector;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.mmu.Mmu;

/**
 * Delivery of exceptions and interrupts through the IVT (real mode) or IDT (protected and IA-32e
 * mode), SDM Vol. 3A chapter 6 and 20.1.4: gate checks, privilege changes with the stack switch
 * through the TSS, IST, error codes with the EXT bit, and the rules of SDM 6.15 (Table 6-5) that
 * turn a fault during delivery into a double fault or a triple fault (shutdown).
 *
 * <p>Context: the run loop (after rewinding RIP for a fault, or at an instruction boundary for an
 * external interrupt) and INT n / INT3 / INTO / INT1 execution. In VMX non-root operation every
 * event is first offered to the VMX layer ({@link Sensitive#EVENT}), which may turn it into a VM
 * exit (exception bitmap, external-interrupt exiting, NMI exiting).
 */
final class EventDelivery {
    /** Interruption types, SDM Vol. 3C 25.8.3 (also used in VMX event information fields). */
    static final int EXTERNAL = 0, NMI = 2, HW_EXCEPTION = 3, SW_INTERRUPT = 4, PRIV_SW_EXCEPTION = 5,
            SW_EXCEPTION = 6;

    private final Cpu cpu;
    private final Descriptor gate = new Descriptor();
    private final Descriptor code = new Descriptor();
    private final Descriptor stackSeg = new Descriptor();
    private final StackFrame stack;
    private final TaskSwitch tasks;

    /**
     * While a second event arises during delivery of a first one: the first event in the VMX
     * IDT-vectoring information format (bit 31 valid, bit 11 error code valid, bits 10:8 type, 7:0
     * vector), else 0. The VMX layer reads it when a VM exit happens during delivery (SDM 28.2.4).
     */
    int vectoringInfo;
    int vectoringErrorCode;

    EventDelivery(Cpu cpu, TaskSwitch tasks) {
        this.cpu = cpu;
        this.stack = new StackFrame(cpu);
        this.tasks = tasks;
    }

    /**
     * Delivers an event; a fault during delivery is combined with it per SDM 6.15 Table 6-5:
     * contributory after contributory, or contributory/#PF after #PF, gives #DF; anything during #DF
     * delivery shuts the processor down (triple fault); other combinations are delivered serially.
     */
    void deliver(int vector, int type, int errorCode) {
        deliver(vector, type, errorCode, 0, false);
    }

    /** Delivers an exception the processor raised, with its payload for CR2 or DR6 (see {@link CpuFault#faultAddress}). */
    void deliver(CpuFault fault) {
        Vector v = Vector.of(fault.vector);
        int error = v != null && v.hasErrorCode ? Math.max(fault.errorCode, 0) : -1;
        deliver(fault.vector, HW_EXCEPTION, error, fault.faultAddress, true);
    }

    /**
     * The payload of the exception being offered to VMX or delivered (the #PF linear address, the
     * #DB DR6 bits); VMX reports it as the exit qualification (SDM Vol. 3C 28.2.1).
     */
    long eventData;
    /** The event now being delivered, in the IDT-vectoring information format, and its error code. */
    int deliveringInfo;
    int deliveringErrorCode;

    /**
     * @param data    the exception's payload (CR2 value of a #PF, DR6 bits of a #DB)
     * @param hasData false for events whose delivery does not touch CR2/DR6 (interrupts, INT n,
     *                ICEBP, VM-entry injection: SDM Vol. 3C 27.6.1 leaves CR2 and DR6 to the VMM)
     */
    private void deliver(int vector, int type, int errorCode, long data, boolean hasData) {
        vectoringInfo = 0;
        boolean ext = type != SW_INTERRUPT && type != SW_EXCEPTION;
        while (true) {
            try {
                eventData = hasData ? data : 0;
                deliveringInfo = 0x80000000 | (errorCode >= 0 ? 0x800 : 0) | (type << 8) | vector;
                deliveringErrorCode = errorCode;
                if (cpu.nonRoot) cpu.vmx.intercept(cpu, Sensitive.EVENT, null, vector | (type << 8), errorCode);
                // SDM Vol. 3C 28.1: only an exception that does not exit directly updates CR2 / DR6 / DR7.GD.
                if (hasData && type == HW_EXCEPTION) updateExceptionState(vector, data);
                deliverOnce(vector, type, errorCode, ext ? 1 : 0);
                vectoringInfo = 0;
                return;
            } catch (CpuFault second) {
                if (type == HW_EXCEPTION && vector == Vector.DF.number) {
                    vectoringInfo = 0;
                    tripleFault();
                    return;
                }
                vectoringInfo = 0x80000000 | (errorCode >= 0 ? 0x800 : 0) | (type << 8) | vector;
                vectoringErrorCode = errorCode;
                boolean firstExt = ext;
                if (type == HW_EXCEPTION && becomesDoubleFault(vector, second.vector)) {
                    vector = Vector.DF.number;
                    errorCode = 0;
                    hasData = false;
                } else {
                    vector = second.vector;
                    errorCode = second.errorCode;
                    data = second.faultAddress;
                    hasData = true;
                    // EXT: the fault arose while delivering an event external to the program (SDM 6.13).
                    if (errorCode >= 0 && firstExt && vector != Vector.PF.number) errorCode |= 1;
                }
                type = HW_EXCEPTION;
                ext = true;
            }
        }
    }

    /** DR6 bits a debug exception reports: B0-B3, BD, BS, BT (SDM 18.2.3). */
    static final long DR6_CAUSES = 0xFL | 1L << 13 | 1L << 14 | 1L << 15;

    /**
     * What an exception writes on its way to the handler: CR2 for #PF (SDM 4.7), DR6 for #DB, whose
     * B0-B3 describe only this exception (the SDM lets a #DB clear them; BD, BS, BT are sticky), and
     * DR7.GD cleared for a general-detect fault so that the handler can use the debug registers
     * (SDM 18.2.4).
     */
    private void updateExceptionState(int vector, long data) {
        if (vector == Vector.PF.number) {
            cpu.cr2 = data;
        } else if (vector == Vector.DB.number) {
            cpu.dr[6] = (cpu.dr[6] & ~0xFL) | (data & DR6_CAUSES);
            if ((data & 1L << 13) != 0) cpu.dr[7] &= ~(1L << 13);
        }
    }

    /** SDM 6.15 Table 6-5. */
    static boolean becomesDoubleFault(int first, int second) {
        Vector a = Vector.of(first), b = Vector.of(second);
        if (a == null || b == null) return false;
        boolean secondSerious = b.kind == Vector.Kind.CONTRIBUTORY || b.kind == Vector.Kind.PAGE_FAULT;
        return switch (a.kind) {
            case CONTRIBUTORY -> b.kind == Vector.Kind.CONTRIBUTORY;
            case PAGE_FAULT -> secondSerious;
            default -> false;
        };
    }

    /** Triple fault: a VM exit in VMX non-root operation, else shutdown (SDM 6.15 interrupt 8). */
    void tripleFault() {
        if (cpu.nonRoot) cpu.vmx.intercept(cpu, Sensitive.TRIPLE_FAULT, null, 0, 0);
        cpu.activityState = 2;
        cpu.requestStop(StopReason.SHUTDOWN);
    }

    private void deliverOnce(int vector, int type, int errorCode, int ext) {
        long flags = cpu.getRflags();
        // Faults report RF=1 in the saved image so the restarted instruction does not re-trigger an
        // instruction breakpoint (SDM 18.3.1.1).
        if (type == HW_EXCEPTION && isFaultClass(vector, eventData)) flags |= Rflags.RF;
        switch (cpu.mode) {
            case REAL -> deliverReal(vector, flags);
            case LONG64, COMPATIBILITY -> deliverLong(vector, type, errorCode, ext, flags);
            default -> deliverProtected(vector, type, errorCode, ext, flags);
        }
        if (type == NMI) cpu.nmiBlocked = true;
        // An event delivered in the HLT state resumes execution at its handler (SDM Vol. 2 HLT).
        if (cpu.activityState == 1) cpu.activityState = 0;
        cpu.interruptShadow = 0;
        cpu.stateChanged();
    }

    /**
     * Faults whose saved RFLAGS image has RF = 1 (SDM 18.3.1.1): the fault-class exceptions and a
     * general-detect #DB ({@code data} carries BD); not an instruction-breakpoint #DB (its handler
     * sets RF itself) nor the trap-class #DB.
     */
    static boolean isFaultClass(int vector, long data) {
        if (vector == 1) return (data & 1L << 13) != 0;
        return switch (vector) {
            case 0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20 -> true;
            default -> false;
        };
    }

    // ---- real-address mode: IVT, SDM 20.1.4 ----
    private void deliverReal(int vector, long flags) {
        if (vector * 4L + 3 > (cpu.idtrLimit & 0xFFFFFFFFL)) throw CpuFault.gp(vector * 8 + 2);
        long entry = cpu.mmu.readLinear(cpu.idtrBase + vector * 4L, 4, true);
        StackFrame s = stack.current(0);
        Segment cs = cpu.seg[Segment.CS];
        s.push(2, flags);
        s.push(2, cs.selector);
        s.push(2, cpu.rip);
        s.commit();
        cpu.setRflags(flags & ~(Rflags.IF | Rflags.TF | Rflags.AC));
        cs.loadReal((int) (entry >>> 16));
        cpu.rip = entry & 0xFFFF;
    }

    /**
     * Virtual-8086 mode with CR4.VME: INT n redirected to the 8086 program's own interrupt table at
     * linear address 0 (SDM 20.3.3.4 method 5 with IOPL = 3, 20.3.3.5 method 6 with IOPL < 3, where
     * the pushed FLAGS carry VIF in place of IF and IOPL reads 3, and VIF is cleared instead of IF).
     */
    void redirectToVm86(int vector, boolean iopl3) {
        long flags = cpu.getRflags();
        long image = flags & 0xFFFF;
        if (!iopl3) image = (image & ~Rflags.IF) | ((flags & Rflags.VIF) != 0 ? Rflags.IF : 0) | Rflags.IOPL;
        long entry = cpu.mmu.readLinear(vector * 4L, 4, false);
        StackFrame s = stack.current(0);
        Segment cs = cpu.seg[Segment.CS];
        s.push(2, image);
        s.push(2, cs.selector);
        s.push(2, cpu.rip);
        s.commit();
        int sel = (int) (entry >>> 16) & 0xFFFF;
        cs.set(sel, (long) sel << 4, 0xFFFF, 0xF3);
        cpu.rip = entry & 0xFFFF;
        cpu.setRflags(flags & ~(Rflags.TF | (iopl3 ? Rflags.IF : Rflags.VIF)));
    }

    // ---- protected mode and virtual-8086 mode: SDM 6.12 ----
    private void deliverProtected(int vector, int type, int errorCode, int ext, long flags) {
        int idtError = vector * 8 + 2 + ext;
        if (vector * 8L + 7 > (cpu.idtrLimit & 0xFFFFFFFFL)) throw CpuFault.gp(idtError);
        long q = cpu.mmu.readLinear(cpu.idtrBase + vector * 8L, 8, true);
        gate.lo = (int) q;
        gate.hi = (int) (q >>> 32);
        int gt = gate.type();
        if (gate.codeOrData()) throw CpuFault.gp(idtError);
        boolean gate32 = false;
        switch (gt) {
            case Descriptor.INT_GATE, Descriptor.TRAP_GATE -> gate32 = true;
            case Descriptor.INT_GATE16, Descriptor.TRAP_GATE16, Descriptor.TASK_GATE -> { }
            default -> throw CpuFault.gp(idtError);
        }
        // SDM 6.12.1.1: software interrupts check the gate's DPL (not INT1, not hardware events).
        if ((type == SW_INTERRUPT || type == SW_EXCEPTION) && gate.dpl() < cpu.cpl) throw CpuFault.gp(idtError);
        if (!gate.present()) throw CpuFault.np(idtError);
        if (gt == Descriptor.TASK_GATE) {
            // SDM 6.12.2: the handler is a task; the error code goes on its stack.
            // The old task's saved EFLAGS carry RF for faults (the image computed above).
            tasks.switchTo(gate.gateSelector(), TaskSwitch.INTERRUPT, errorCode, ext, flags);
            return;
        }
        int sel = gate.gateSelector();
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(ext);
        if (!Descriptor.fetch(cpu, sel, code)) throw CpuFault.gp((sel & 0xFFFC) | ext);
        if (!code.isCode() || code.dpl() > cpu.cpl) throw CpuFault.gp((sel & 0xFFFC) | ext);
        if (!code.present()) throw CpuFault.np((sel & 0xFFFC) | ext);
        long target = gate32 ? gate.gateOffset32() : gate.lo & 0xFFFF;
        int size = gate32 ? 4 : 2;
        boolean fromVm86 = cpu.mode == Mode.VIRTUAL_8086;
        int newCpl;
        int newSs = 0;
        if (!code.conforming() && code.dpl() < cpu.cpl) {
            // Inner privilege: stack switch through the TSS (SDM 6.12.1, 7.2.1).
            newCpl = code.dpl();
            if (fromVm86 && newCpl != 0) throw CpuFault.gp((sel & 0xFFFC) | ext);
            long newSp;
            if (tss32()) {
                newSp = readTss(4 + 8 * newCpl, 4, ext);
                newSs = (int) readTss(8 + 8 * newCpl, 2, ext);
            } else {
                newSp = readTss(2 + 4 * newCpl, 2, ext);
                newSs = (int) readTss(4 + 4 * newCpl, 2, ext);
            }
            checkNewStack(newSs, newCpl, ext);
            stack.init(stackSeg.base(), stackSeg.limit(), stackSeg.attributes(), newSp,
                    stackSeg.big() ? 4 : 2, (newSs & 0xFFFC) | ext, newCpl < 3);
            if (fromVm86) {
                stack.push(size, cpu.seg[Segment.GS].selector);
                stack.push(size, cpu.seg[Segment.FS].selector);
                stack.push(size, cpu.seg[Segment.DS].selector);
                stack.push(size, cpu.seg[Segment.ES].selector);
            }
            stack.push(size, cpu.seg[Segment.SS].selector);
            stack.push(size, cpu.gpr[Cpu.RSP]);
        } else {
            if (fromVm86) throw CpuFault.gp((sel & 0xFFFC) | ext);
            newCpl = cpu.cpl;
            stack.current(ext);
        }
        if (target > (code.limit() & 0xFFFFFFFFL)) throw CpuFault.gp(ext);
        stack.push(size, flags);
        stack.push(size, cpu.seg[Segment.CS].selector);
        stack.push(size, cpu.rip);
        if (errorCode >= 0) stack.push(size, errorCode);

        // Everything succeeded: commit.
        code.setAccessed(cpu);
        if (newCpl != cpu.cpl) {
            stackSeg.setAccessed(cpu);
            if (fromVm86) {
                for (int s : new int[] {Segment.ES, Segment.DS, Segment.FS, Segment.GS}) nullSegment(cpu.seg[s]);
            }
            stackSeg.loadInto(cpu.seg[Segment.SS], newSs);
        }
        stack.commit();
        code.loadInto(cpu.seg[Segment.CS], (sel & 0xFFFC) | newCpl);
        cpu.cpl = newCpl;
        cpu.rip = target;
        long clear = Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM;
        if (gt == Descriptor.INT_GATE || gt == Descriptor.INT_GATE16) clear |= Rflags.IF;
        cpu.setRflags(flags & ~clear);
    }

    private boolean tss32() {
        int t = cpu.tr.type();
        return t == Descriptor.TSS_AVAIL || t == Descriptor.TSS_BUSY;
    }

    /** Reads a TSS field; beyond the TSS limit is #TS(TR selector + EXT) (SDM 6.12.1). */
    private long readTss(int offset, int size, int ext) {
        if (cpu.tr.unusable() || offset + size - 1L > (cpu.tr.limit & 0xFFFFFFFFL)) {
            throw CpuFault.ts((cpu.tr.selector & 0xFFFC) | ext);
        }
        return cpu.mmu.readLinear(cpu.tr.base + offset, size, true);
    }

    /** The new SS of a stack switch must be a present writable data segment with RPL = DPL = new CPL. */
    private void checkNewStack(int ss, int newCpl, int ext) {
        if ((ss & 0xFFFC) == 0) throw CpuFault.ts(ext);
        if (!Descriptor.fetch(cpu, ss, stackSeg)) throw CpuFault.ts((ss & 0xFFFC) | ext);
        if ((ss & 3) != newCpl || stackSeg.dpl() != newCpl || !stackSeg.writableData()) {
            throw CpuFault.ts((ss & 0xFFFC) | ext);
        }
        if (!stackSeg.present()) throw CpuFault.ss((ss & 0xFFFC) | ext);
    }

    static void nullSegment(Segment s) {
        s.set(0, 0, 0, Segment.AR_UNUSABLE);
    }

    // ---- IA-32e mode: 64-bit IDT gates, SDM 6.14 ----
    private void deliverLong(int vector, int type, int errorCode, int ext, long flags) {
        int idtError = vector * 8 + 2 + ext;
        if (vector * 16L + 15 > (cpu.idtrLimit & 0xFFFFFFFFL)) throw CpuFault.gp(idtError);
        long q0 = cpu.mmu.readLinear(cpu.idtrBase + vector * 16L, 8, true);
        long q1 = cpu.mmu.readLinear(cpu.idtrBase + vector * 16L + 8, 8, true);
        gate.lo = (int) q0;
        gate.hi = (int) (q0 >>> 32);
        gate.upper = (int) q1;
        gate.upper2 = (int) (q1 >>> 32);
        int gt = gate.type();
        // Only 64-bit interrupt and trap gates exist in IA-32e mode (SDM 6.14.1).
        if (gate.codeOrData() || (gt != Descriptor.INT_GATE && gt != Descriptor.TRAP_GATE)) throw CpuFault.gp(idtError);
        if ((type == SW_INTERRUPT || type == SW_EXCEPTION) && gate.dpl() < cpu.cpl) throw CpuFault.gp(idtError);
        if (!gate.present()) throw CpuFault.np(idtError);
        int sel = gate.gateSelector();
        if ((sel & 0xFFFC) == 0) throw CpuFault.gp(ext);
        if (!Descriptor.fetch(cpu, sel, code)) throw CpuFault.gp((sel & 0xFFFC) | ext);
        if (!code.isCode() || code.dpl() > cpu.cpl || !code.longMode() || code.big()) {
            throw CpuFault.gp((sel & 0xFFFC) | ext);
        }
        if (!code.present()) throw CpuFault.np((sel & 0xFFFC) | ext);
        long target = gate.gateOffset64();
        if (!Mmu.canonical(target)) throw CpuFault.gp(ext);
        int newCpl = !code.conforming() && code.dpl() < cpu.cpl ? code.dpl() : cpu.cpl;
        int ist = gate.ist();
        long rsp;
        // SDM 6.14.5: an IST index selects a stack even without a privilege change.
        if (ist != 0) rsp = readTss(0x24 + 8 * (ist - 1), 8, ext);
        else if (newCpl != cpu.cpl) rsp = readTss(4 + 8 * newCpl, 8, ext);
        else rsp = cpu.gpr[Cpu.RSP];
        // SDM 6.14.2: the new stack pointer is aligned to 16 bytes.
        stack.init(0, -1, 0, rsp & ~0xFL, 8, ext, newCpl < 3);
        stack.push(8, cpu.seg[Segment.SS].selector);
        stack.push(8, cpu.gpr[Cpu.RSP]);
        stack.push(8, flags);
        stack.push(8, cpu.seg[Segment.CS].selector);
        stack.push(8, cpu.rip);
        if (errorCode >= 0) stack.push(8, errorCode & 0xFFFFFFFFL);

        code.setAccessed(cpu);
        if (newCpl != cpu.cpl) {
            // SDM 6.14.4: SS is loaded with a null selector whose RPL is the new CPL.
            Segment ss = cpu.seg[Segment.SS];
            ss.set(newCpl, 0, 0, Segment.AR_UNUSABLE | 0x93 | newCpl << 5);
        }
        stack.commit();
        code.loadInto(cpu.seg[Segment.CS], (sel & 0xFFFC) | newCpl);
        cpu.cpl = newCpl;
        cpu.rip = target;
        long clear = Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM;
        if (gt == Descriptor.INT_GATE) clear |= Rflags.IF;
        cpu.setRflags(flags & ~clear);
    }
}
