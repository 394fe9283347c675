package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.intercept.Sensitive;

/**
 * Hardware task switching with 32-bit TSSs (SDM Vol. 3A 7.3): JMP or CALL to a TSS descriptor or a
 * task gate, IRET with NT=1, and interrupts or exceptions through a task gate in the IDT. The steps
 * follow SDM 7.3 (Table 7-1 lists the checks): new-TSS checks, save of the current state in the old
 * TSS, busy flags and the previous-task link, TR and CR0.TS, then the new state is loaded; faults
 * raised while loading the new task's segments belong to the new task and are delivered here.
 * Both 32-bit and 16-bit (80286) TSSs are supported.
 *
 * <p>Context: guest instruction execution and event delivery, legacy protected mode only (task
 * switching does not exist in IA-32e mode).
 */
final class TaskSwitch {
    static final int JMP = 0, CALL = 1, IRET = 2, INTERRUPT = 3;
    /** The task-switch source numbers of the VMX exit qualification, indexed by JMP..INTERRUPT. */
    private static final int[] VMX_SOURCE = {2, 0, 1, 3};

    private final Cpu cpu;
    private final Descriptor d = new Descriptor();
    private final StackFrame stack;
    private EventDelivery events;

    TaskSwitch(Cpu cpu) {
        this.cpu = cpu;
        this.stack = new StackFrame(cpu);
    }

    void attach(EventDelivery events) {
        this.events = events;
    }

    /** JMP/CALL through a task gate already fetched into {@code gate} (privilege checked by the caller). */
    void viaTaskGate(Descriptor gate, int gateSelector, int reason) {
        int gateIndex = gateSelector & 0xFFFC;
        if (gate.dpl() < cpu.cpl || gate.dpl() < (gateSelector & 3)) throw CpuFault.gp(gateIndex);
        if (!gate.present()) throw CpuFault.np(gateIndex);
        switchTo(gate.gateSelector(), reason, -1, 0, cpu.getRflags());
    }

    /** JMP/CALL to a TSS descriptor already fetched into {@code tss}: DPL >= CPL and >= RPL (SDM 7.3 step 2). */
    void viaTssDescriptor(Descriptor tss, int selector, int reason) {
        if (tss.dpl() < cpu.cpl || tss.dpl() < (selector & 3)) throw CpuFault.gp(selector & 0xFFFC);
        switchTo(selector, reason, -1, 0, cpu.getRflags());
    }

    /** IRET with NT=1: return to the task named by the previous-task link of the current TSS. */
    void iretToPreviousTask() {
        int link = (int) cpu.mmu.readLinear(cpu.tr.base, 2, true);
        switchTo(link, IRET, -1, 0, cpu.getRflags());
    }

    /**
     * Switches to the task whose TSS selector is {@code selector}. For {@link #INTERRUPT},
     * {@code errorCode} (or -1) is pushed on the new task's stack and {@code ext} goes into
     * selector error codes. {@code flags} is the EFLAGS image saved in the old TSS.
     */
    void switchTo(int selector, int reason, int errorCode, int ext, long flags) {
        selector &= 0xFFFF;
        int index = selector & 0xFFFC;
        // The new TSS descriptor must be in the GDT (SDM 7.2.2).
        if ((selector & 4) != 0 || index == 0 || !Descriptor.fetch(cpu, selector, d)) {
            throw reason == IRET ? CpuFault.ts(index | ext) : CpuFault.gp(index | ext);
        }
        int t = d.type();
        boolean valid = !d.codeOrData() && (t == Descriptor.TSS16_AVAIL || t == Descriptor.TSS16_BUSY
                || t == Descriptor.TSS_AVAIL || t == Descriptor.TSS_BUSY);
        if (!valid) throw reason == IRET ? CpuFault.ts(index | ext) : CpuFault.gp(index | ext);
        boolean busy = (t & 2) != 0;
        if (reason == IRET ? !busy : busy) throw reason == IRET ? CpuFault.ts(index | ext) : CpuFault.gp(index | ext);
        if (!d.present()) throw CpuFault.np(index | ext);
        boolean new16 = t == Descriptor.TSS16_AVAIL || t == Descriptor.TSS16_BUSY;
        // SDM 7.2.2: a TSS limit below 67H (2BH for a 16-bit TSS) is #TS.
        if ((d.limit() & 0xFFFFFFFFL) < (new16 ? 0x2B : 0x67)) throw CpuFault.ts(index | ext);
        // SDM 26.4.2: in VMX non-root operation a task switch that passed the checks above is a
        // VM exit (source per SDM Table 28-2: 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT).
        if (cpu.nonRoot) cpu.vmx.intercept(cpu, Sensitive.TASK_SWITCH, null, selector, VMX_SOURCE[reason]);
        int oldType = cpu.tr.type();
        if (cpu.tr.unusable() || (oldType != Descriptor.TSS_BUSY && oldType != Descriptor.TSS16_BUSY)) {
            throw CpuFault.ts((cpu.tr.selector & 0xFFFC) | ext);
        }
        boolean old16 = oldType == Descriptor.TSS16_BUSY;
        long newBase = d.base();
        long newDescAddr = d.address;
        int newLimit = d.limit();
        int newAttributes = d.attributes();

        // Read the whole new state first, so that paging faults come before any change (SDM 7.3 step 4).
        long newCr3 = -1, newEip, newFlags;
        long[] gprs = new long[8];
        int[] sels = new int[6];
        int ldt;
        if (new16) {
            // SDM 7.6 (16-bit TSS, Figure 7-11); like Bochs, the upper register words read as FFFFH,
            // EIP and EFLAGS are zero-extended and FS/GS are null; CR3 is not part of a 16-bit TSS.
            newEip = read(newBase, 14, 2);
            newFlags = read(newBase, 16, 2);
            for (int r = 0; r < 8; r++) gprs[r] = 0xFFFF0000L | read(newBase, 18 + 2 * r, 2);
            for (int s = 0; s < 4; s++) sels[s] = (int) read(newBase, 34 + 2 * s, 2);
            ldt = (int) read(newBase, 42, 2);
        } else {
            newCr3 = read(newBase, 0x1C, 4);
            newEip = read(newBase, 0x20, 4);
            newFlags = read(newBase, 0x24, 4);
            for (int r = 0; r < 8; r++) gprs[r] = read(newBase, 0x28 + 4 * r, 4);
            for (int s = 0; s < 6; s++) sels[s] = (int) read(newBase, 0x48 + 4 * s, 2);
            ldt = (int) read(newBase, 0x60, 2);
        }
        // SDM 7.2.1: the T flag (bit 0 of the word at 64H of a 32-bit TSS) raises a debug trap once in the new task
        boolean debugTrap = !new16 && (read(newBase, 0x64, 2) & 1) != 0;

        // Save the current task (SDM 7.3 step 7); IRET clears NT in the saved image (step 6).
        if (reason == IRET) flags &= ~Rflags.NT;
        long oldBase = cpu.tr.base;
        if (old16) {
            write(oldBase, 14, 2, cpu.rip);
            write(oldBase, 16, 2, flags);
            for (int r = 0; r < 8; r++) write(oldBase, 18 + 2 * r, 2, cpu.gpr[r]);
            for (int s = 0; s < 4; s++) write(oldBase, 34 + 2 * s, 2, cpu.seg[s].selector);
        } else {
            write(oldBase, 0x20, 4, cpu.rip);
            write(oldBase, 0x24, 4, flags);
            for (int r = 0; r < 8; r++) write(oldBase, 0x28 + 4 * r, 4, cpu.gpr[r]);
            for (int s = 0; s < 6; s++) write(oldBase, 0x48 + 4 * s, 2, cpu.seg[s].selector);
        }

        // Busy flags (steps 5 and 9) and the previous-task link (step 8).
        if (reason == JMP || reason == IRET) setBusy(cpu.gdtrBase + (cpu.tr.selector & 0xFFF8), false);
        if (reason == CALL || reason == INTERRUPT) {
            write(newBase, 0, 2, cpu.tr.selector);
            newFlags |= Rflags.NT;
        }
        if (reason != IRET) setBusy(newDescAddr, true);

        // Commit point: TR, CR0.TS, then the new task's registers.
        cpu.tr.set(selector, newBase, newLimit, newAttributes | 2);
        cpu.setCr0(cpu.cr0 | Cr.CR0_TS);
        // SDM 17.2.4: a task switch clears the local breakpoint enables L0-L3 and LE of DR7.
        cpu.dr[7] &= ~0x155L;
        cpu.breakpointsArmed = Breakpoints.armed(cpu.dr[7]);
        // SDM 18.3.1.5: the task-switch trap (DR6.BT) is taken before the new task's first instruction
        if (debugTrap) cpu.pendingDebugExceptions |= 1L << 15;
        try {
            loadNewTask(newCr3, newEip, newFlags, gprs, sels, ldt);
            if (reason == INTERRUPT && errorCode >= 0) {
                // SDM 6.12.2: the error code goes on the new task's stack, sized by the new TSS.
                StackFrame s = stack.current(0);
                s.push(new16 ? 2 : 4, errorCode);
                s.commit();
            }
        } catch (CpuFault inNewTask) {
            // Faults after the commit point are handled in the context of the new task (SDM 7.3).
            events.deliver(inNewTask);
        }
    }

    private void loadNewTask(long cr3, long eip, long flags, long[] gprs, int[] sels, int ldt) {
        if ((cpu.cr0 & Cr.CR0_PG) != 0 && cr3 != -1) {
            if ((cpu.cr4 & Cr.CR4_PAE) != 0) cpu.mmu.loadPdptes(cr3);
            cpu.setCr3(cr3);
            cpu.mmu.flush((cpu.cr4 & Cr.CR4_PGE) == 0);
        }
        cpu.setRflags(flags);
        cpu.rip = eip;
        for (int r = 0; r < 8; r++) cpu.gpr[r] = gprs[r];
        boolean vm86 = (flags & Rflags.VM) != 0;
        // Selectors are loaded first (their descriptors unusable until checked), so a fault below
        // leaves the new task's selectors visible to its handler.
        for (int s = 0; s < 6; s++) cpu.seg[s].set(sels[s], 0, 0, Segment.AR_UNUSABLE);
        cpu.ldtr.set(ldt, 0, 0, Segment.AR_UNUSABLE);
        if (vm86) {
            for (int s = 0; s < 6; s++) cpu.seg[s].set(sels[s], (long) sels[s] << 4, 0xFFFF, 0xF3);
            cpu.cpl = 3;
        } else {
            cpu.cpl = sels[Segment.CS] & 3;
        }
        cpu.stateChanged();
        loadLdt(ldt);
        if (vm86) return;
        loadCs(sels[Segment.CS]);
        loadSs(sels[Segment.SS]);
        for (int s : new int[] {Segment.ES, Segment.DS, Segment.FS, Segment.GS}) loadData(s, sels[s]);
        cpu.stateChanged();
        if (eip > (cpu.seg[Segment.CS].limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
    }

    private void loadLdt(int sel) {
        int index = sel & 0xFFFC;
        if (index == 0) return;
        if ((sel & 4) != 0 || !Descriptor.fetch(cpu, sel, d) || d.codeOrData() || d.type() != Descriptor.LDT) {
            throw CpuFault.ts(index);
        }
        if (!d.present()) throw CpuFault.ts(index);
        cpu.ldtr.set(sel, d.base(), d.limit(), d.attributes());
    }

    private void loadCs(int sel) {
        int index = sel & 0xFFFC;
        if (index == 0 || !Descriptor.fetch(cpu, sel, d) || !d.isCode()) throw CpuFault.ts(index);
        int rpl = sel & 3;
        if (d.conforming() ? d.dpl() > rpl : d.dpl() != rpl) throw CpuFault.ts(index);
        if (!d.present()) throw CpuFault.np(index);
        d.setAccessed(cpu);
        d.loadInto(cpu.seg[Segment.CS], sel);
    }

    private void loadSs(int sel) {
        int index = sel & 0xFFFC;
        if (index == 0 || !Descriptor.fetch(cpu, sel, d)) throw CpuFault.ts(index);
        if ((sel & 3) != cpu.cpl || d.dpl() != cpu.cpl || !d.writableData()) throw CpuFault.ts(index);
        if (!d.present()) throw CpuFault.ss(index);
        d.setAccessed(cpu);
        d.loadInto(cpu.seg[Segment.SS], sel);
    }

    private void loadData(int seg, int sel) {
        int index = sel & 0xFFFC;
        if (index == 0) {
            cpu.seg[seg].set(sel, 0, 0, Segment.AR_UNUSABLE);
            return;
        }
        if (!Descriptor.fetch(cpu, sel, d) || !d.codeOrData() || !d.readable()) throw CpuFault.ts(index);
        if ((d.isData() || !d.conforming()) && (d.dpl() < cpu.cpl || d.dpl() < (sel & 3))) throw CpuFault.ts(index);
        if (!d.present()) throw CpuFault.np(index);
        d.setAccessed(cpu);
        d.loadInto(cpu.seg[seg], sel);
    }

    private void setBusy(long descriptorAddress, boolean busy) {
        int access = (int) cpu.mmu.readLinear(descriptorAddress + 5, 1, true);
        access = busy ? access | 2 : access & ~2;
        cpu.mmu.writeLinear(descriptorAddress + 5, 1, access, true);
    }

    private long read(long base, int offset, int size) {
        return cpu.mmu.readLinear(base + offset, size, true);
    }

    private void write(long base, int offset, int size, long value) {
        cpu.mmu.writeLinear(base + offset, size, value, true);
    }
}
