package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Msr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;
import lhv.cpu.model.CpuModel;

/**
 * The processor's system architecture: control and debug registers, descriptor tables, segment
 * loads with their protection checks, far control transfers, exception and interrupt delivery,
 * MSRs, CPUID, fast system calls. Instruction semantics only: the interpreter has already decoded
 * the instruction and fetched the operands, and passes plain values.
 *
 * <p>Context: guest instruction execution; also VM entry/exit (which reuse the segment and mode
 * helpers). Faults are thrown as {@link CpuFault}. In VMX non-root operation the interpreter has
 * already asked the VMX layer (lhv.cpu.intercept) before calling the methods that can exit; event
 * delivery asks it itself (exception bitmap, triple fault).
 *
 * <p>Additions to the skeleton contract (for the interpreter and the VMX layer):
 * {@link #deliverEvent} (any interruption type, e.g. VM-entry event injection),
 * {@link #vectoringInfo}/{@link #vectoringErrorCode} (the event whose delivery was interrupted by a
 * VM exit, SDM 28.2.4), {@link #tripleFault}, {@link #checkIoPermission} (TSS I/O bitmap).
 *
 * <p>The work is split by topic: {@link EventDelivery}, {@link SegmentLoads}, {@link FarTransfers},
 * {@link MsrFile}, {@link TaskSwitch}; control registers, CPUID and the fast system calls live here.
 */
public final class SystemUnit {
    private final Cpu cpu;
    private final EventDelivery events;
    private final SegmentLoads segments;
    private final FarTransfers transfers;
    private final MsrFile msrs;

    public SystemUnit(Cpu cpu) {
        this.cpu = cpu;
        TaskSwitch tasks = new TaskSwitch(cpu);
        this.events = new EventDelivery(cpu, tasks);
        tasks.attach(events);
        this.segments = new SegmentLoads(cpu);
        this.transfers = new FarTransfers(cpu, tasks);
        this.msrs = new MsrFile(cpu);
    }

    private static final long CR0_VALID = Cr.CR0_PE | Cr.CR0_MP | Cr.CR0_EM | Cr.CR0_TS | Cr.CR0_ET | Cr.CR0_NE
            | Cr.CR0_WP | Cr.CR0_AM | Cr.CR0_NW | Cr.CR0_CD | Cr.CR0_PG;

    private void requireCpl0() {
        if (cpu.cpl != 0) throw CpuFault.gp0();
    }

    // =====================================================================================
    // Control, debug and descriptor-table registers (SDM 2.5, 2.4, 17.2; Vol. 2 MOV CR/DR)
    // =====================================================================================

    public void writeCr(int cr, long value) {
        requireCpl0();
        switch (cr) {
            case 0 -> writeCr0(value);
            case 2 -> cpu.cr2 = cpu.mode == Mode.LONG64 ? value : value & 0xFFFFFFFFL;
            case 3 -> writeCr3(value);
            case 4 -> writeCr4(value);
            case 8 -> {
                // CR8 is the TPR (bits 3:0); bits 63:4 are reserved (SDM 10.8.6.6).
                if (cpu.mode != Mode.LONG64) throw CpuFault.ud();
                if ((value & ~0xFL) != 0) throw CpuFault.gp0();
                cpu.cr8 = value;
            }
            default -> throw CpuFault.ud();
        }
    }

    public long readCr(int cr) {
        requireCpl0();
        return switch (cr) {
            case 0 -> cpu.cr0;
            case 2 -> cpu.cr2;
            case 3 -> cpu.cr3;
            case 4 -> cpu.cr4;
            case 8 -> {
                if (cpu.mode != Mode.LONG64) throw CpuFault.ud();
                yield cpu.cr8;
            }
            default -> throw CpuFault.ud();
        };
    }

    private boolean paePagingAfter(long cr0, long cr4) {
        return (cr0 & Cr.CR0_PG) != 0 && (cr4 & Cr.CR4_PAE) != 0 && (cpu.efer & Cr.EFER_LME) == 0;
    }

    /**
     * MOV to CR0 (SDM Vol. 2 MOV CR, Vol. 3A 2.5, 10.8.5): PG without PE and NW without CD are
     * #GP(0); setting PG with EFER.LME=1 activates IA-32e mode (requires CR4.PAE=1 and CS.L=0);
     * clearing PG in IA-32e mode deactivates it (not allowed from 64-bit code); entering PAE paging
     * loads the PDPTEs.
     */
    private void writeCr0(long value) {
        if ((value >>> 32) != 0) throw CpuFault.gp0();
        long v = (value & CR0_VALID) | Cr.CR0_ET;
        if ((v & Cr.CR0_PG) != 0 && (v & Cr.CR0_PE) == 0) throw CpuFault.gp0();
        if ((v & Cr.CR0_NW) != 0 && (v & Cr.CR0_CD) == 0) throw CpuFault.gp0();
        // SDM 24.8: in VMX root operation PE, PG and NE are fixed to 1 (IA32_VMX_CR0_FIXED0);
        // in non-root operation the VMX layer applies its own rules before we are called.
        if (cpu.vmxOperation && !cpu.nonRoot) {
            long fixed = Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_NE;
            if ((v & fixed) != fixed) throw CpuFault.gp0();
        }
        long old = cpu.cr0;
        long efer = cpu.efer;
        boolean pagingOn = (old & Cr.CR0_PG) == 0 && (v & Cr.CR0_PG) != 0;
        boolean pagingOff = (old & Cr.CR0_PG) != 0 && (v & Cr.CR0_PG) == 0;
        if (pagingOn && (efer & Cr.EFER_LME) != 0) {
            if ((cpu.cr4 & Cr.CR4_PAE) == 0) throw CpuFault.gp0();
            if (cpu.seg[Segment.CS].longMode()) throw CpuFault.gp0();
            efer |= Cr.EFER_LMA;
        }
        if (pagingOff && (efer & Cr.EFER_LMA) != 0) {
            if (cpu.mode == Mode.LONG64) throw CpuFault.gp0();
            efer &= ~Cr.EFER_LMA;
        }
        // SDM 4.4.1: PDPTEs are loaded when PAE paging will be in use and PG, CD or NW change.
        if (paePagingAfter(v, cpu.cr4) && ((old ^ v) & (Cr.CR0_PG | Cr.CR0_CD | Cr.CR0_NW)) != 0) {
            cpu.mmu.loadPdptes(cpu.cr3);
        }
        cpu.setCr0(v);
        cpu.setEfer(efer);
        if (((old ^ v) & (Cr.CR0_PG | Cr.CR0_WP | Cr.CR0_PE)) != 0) cpu.mmu.flush(true);
        if ((v & Cr.CR0_PE) == 0) cpu.cpl = 0;
        cpu.stateChanged();
    }

    /** MOV to CR3 (SDM 4.10.4.1): reserved bits #GP(0); PAE paging reloads the PDPTEs; non-global TLB flush. */
    private void writeCr3(long value) {
        long v = value;
        if ((cpu.efer & Cr.EFER_LMA) != 0) {
            // Bits 63:MAXPHYADDR are reserved without PCIDs (SDM 4.5.2, Table 4-12).
            if ((v >>> cpu.model.physicalAddressBits()) != 0) throw CpuFault.gp0();
        } else {
            v &= 0xFFFFFFFFL;
        }
        if (paePagingAfter(cpu.cr0, cpu.cr4)) cpu.mmu.loadPdptes(v);
        cpu.setCr3(v);
        cpu.mmu.flush((cpu.cr4 & Cr.CR4_PGE) == 0);
    }

    /** MOV to CR4 (SDM 2.5): unsupported bits #GP(0); PAE cannot be cleared in IA-32e mode. */
    private void writeCr4(long value) {
        if ((value & ~cpu.model.cr4ValidBits()) != 0) throw CpuFault.gp0();
        if ((cpu.efer & Cr.EFER_LMA) != 0 && (value & Cr.CR4_PAE) == 0) throw CpuFault.gp0();
        if (cpu.vmxOperation && !cpu.nonRoot && (value & Cr.CR4_VMXE) == 0) throw CpuFault.gp0();
        long old = cpu.cr4;
        long changed = old ^ value;
        // SDM 4.4.1: PDPTEs reload when PAE paging will be in use and PAE, PGE, PSE or SMEP change.
        if (paePagingAfter(cpu.cr0, value)
                && (changed & (Cr.CR4_PAE | Cr.CR4_PGE | Cr.CR4_PSE | Cr.CR4_SMEP)) != 0) {
            cpu.mmu.loadPdptes(cpu.cr3);
        }
        cpu.setCr4(value);
        // SDM 4.10.4.1: these changes invalidate all TLB entries, global ones included.
        if ((changed & (Cr.CR4_PGE | Cr.CR4_PAE | Cr.CR4_PSE | Cr.CR4_SMEP | Cr.CR4_SMAP | Cr.CR4_PCIDE)) != 0) {
            cpu.mmu.flush(true);
        }
    }

    /** MOV to DR (SDM 17.2): DR4/DR5 alias DR6/DR7 unless CR4.DE=1 (#UD); DR7.GD raises #DB. */
    public void writeDr(int dr, long value) {
        int n = debugRegister(dr);
        if (cpu.mode == Mode.LONG64 && n >= 6 && (value >>> 32) != 0) throw CpuFault.gp0();
        if (cpu.mode != Mode.LONG64) value &= 0xFFFFFFFFL;
        switch (n) {
            case 6 -> cpu.dr[6] = (value & 0xE00FL) | 0xFFFF0FF0L;
            case 7 -> {
                cpu.dr[7] = (value & 0xFFFF23FFL) | 0x400L;
                cpu.breakpointsArmed = Breakpoints.armed(cpu.dr[7]);
            }
            default -> cpu.dr[n] = value;
        }
    }

    public long readDr(int dr) {
        return cpu.dr[debugRegister(dr)];
    }

    private int debugRegister(int dr) {
        requireCpl0();
        if (dr == 4 || dr == 5) {
            if ((cpu.cr4 & Cr.CR4_DE) != 0) throw CpuFault.ud();
            dr += 2;
        }
        if (dr < 0 || dr > 7) throw CpuFault.ud();
        // SDM 17.2.4: general detect: any DR access while DR7.GD=1 is a #DB fault with DR6.BD set;
        // GD is cleared so that the handler can use the debug registers.
        // Both are written when the #DB is delivered, not when it exits to VMX (SDM Vol. 3C 28.1).
        if ((cpu.dr[7] & (1L << 13)) != 0) throw CpuFault.db(1L << 13);
        return dr;
    }

    /** LMSW: loads CR0 bits 3:0; can set but never clear PE (SDM Vol. 2 LMSW). */
    public void lmsw(int value) {
        requireCpl0();
        long v = (cpu.cr0 & ~0xEL) | (value & 0xF) | (cpu.cr0 & Cr.CR0_PE);
        writeCr0(v);
    }

    public void clts() {
        requireCpl0();
        cpu.setCr0(cpu.cr0 & ~Cr.CR0_TS);
    }

    public void lgdt(long base, int limit) {
        requireCpl0();
        cpu.setGdtr(base, limit & 0xFFFF);
    }

    public void lidt(long base, int limit) {
        requireCpl0();
        cpu.setIdtr(base, limit & 0xFFFF);
    }

    public void lldt(int selector) {
        segments.lldt(selector);
    }

    public void ltr(int selector) {
        segments.ltr(selector);
    }

    // =====================================================================================
    // Segments (SDM 3.4.3, 5.5-5.10)
    // =====================================================================================

    /** MOV/POP to a segment register, LDS/LES/LFS/LGS/LSS: all protection checks, mode-appropriate load. */
    public void loadSegment(int seg, int selector) {
        segments.load(seg, selector);
    }

    /** LAR: returns access rights in the instruction's format, or -1 when ZF must be cleared. */
    public long lar(int selector) {
        return segments.lar(selector);
    }

    /** LSL: returns the byte-granular limit, or -1 when ZF must be cleared. */
    public long lsl(int selector) {
        return segments.lsl(selector);
    }

    public boolean verr(int selector) {
        return segments.verr(selector);
    }

    public boolean verw(int selector) {
        return segments.verw(selector);
    }

    // =====================================================================================
    // Far control transfers (SDM Vol. 2 JMP/CALL/RET/IRET)
    // =====================================================================================

    /** Far JMP to selector:offset (cpu.rip already points past the instruction). */
    public void farJump(int selector, long offset, int opSize) {
        transfers.jump(selector, offset, opSize);
    }

    /** Far CALL: pushes CS:RIP of the next instruction (cpu.rip already points past it). */
    public void farCall(int selector, long offset, int opSize) {
        transfers.call(selector, offset, opSize);
    }

    /** Far RET with {@code popBytes} extra bytes released. */
    public void farReturn(int opSize, int popBytes) {
        transfers.ret(opSize, popBytes);
    }

    public void iret(int opSize) {
        transfers.iret(opSize);
    }

    // =====================================================================================
    // Events (SDM chapter 6)
    // =====================================================================================

    /** Delivers an exception raised by an instruction; cpu.rip already rewound to the faulting instruction. */
    public void deliverFault(CpuFault fault) {
        // SDM 6.3.1: vectors with an error code push it; the others never do. CR2 / DR6 are written
        // only when the exception is delivered, not when it causes a VM exit (SDM Vol. 3C 28.1).
        events.deliver(fault);
    }

    /**
     * The payload of the exception now being offered to VMX ({@link lhv.cpu.intercept.Sensitive#EVENT}):
     * the linear address of a #PF, the DR6 bits (B0-B3, BD, BS, BT) of a #DB; 0 for other events.
     * A VM exit reports it as the exit qualification instead of writing CR2/DR6 (SDM Vol. 3C 28.1, 28.2.1).
     */
    public long eventData() {
        return events.eventData;
    }

    /**
     * Delivers the debug-trap exceptions pending at this instruction boundary
     * ({@link Cpu#pendingDebugExceptions}: single-step, data breakpoints, task-switch trap), as one
     * #DB trap (SDM 18.3.1, 6.9 priority 4 "traps on the previous instruction"); clears them first.
     */
    public void deliverPendingDebugExceptions() {
        long bits = cpu.pendingDebugExceptions;
        cpu.pendingDebugExceptions = 0;
        if (bits != 0) events.deliver(CpuFault.db(bits));
    }

    /** INT n (kind 4), INT3 (6), INTO (6), INT1/ICEBP (5); cpu.rip points past the instruction. */
    public void softwareInterrupt(int vector, int kind) {
        vector &= 0xFF;
        if (kind == EventDelivery.SW_INTERRUPT && cpu.mode == Mode.VIRTUAL_8086) {
            // SDM 20.3.3 Table 20-2: the six ways INT n is handled in virtual-8086 mode.
            boolean iopl3 = (cpu.getRflags() & Rflags.IOPL) == Rflags.IOPL;
            if ((cpu.cr4 & Cr.CR4_VME) != 0) {
                if (!redirectionBit(vector)) {
                    events.redirectToVm86(vector, iopl3);   // methods 5 and 6
                    return;
                }
                if (!iopl3) throw CpuFault.gp0();           // method 3
            } else if (!iopl3) {
                throw CpuFault.gp0();                       // method 2
            }
        }
        events.deliver(vector, kind, -1);                   // methods 1 and 4, and every other mode
    }

    /**
     * Bit {@code vector} of the software-interrupt redirection bit map, the 32 bytes below the I/O
     * permission bit map of the 32-bit TSS (SDM 20.3.3, Figure 20-5); #GP(0) when outside the TSS.
     */
    private boolean redirectionBit(int vector) {
        int t = cpu.tr.type();
        if (cpu.tr.unusable() || (t != 9 && t != 11) || (cpu.tr.limit & 0xFFFFFFFFL) < 0x67) throw CpuFault.gp0();
        int mapBase = (int) cpu.mmu.readLinear(cpu.tr.base + 0x66, 2, true);
        long at = mapBase - 32L + (vector >>> 3);
        if (at < 0 || at > (cpu.tr.limit & 0xFFFFFFFFL)) throw CpuFault.gp0();
        return (cpu.mmu.readLinear(cpu.tr.base + at, 1, true) & (1 << (vector & 7))) != 0;
    }

    /**
     * An INIT signal at an instruction boundary. In VMX non-root operation it causes a VM exit
     * (SDM Vol. 3C 26.2; thrown as {@link lhv.cpu.intercept.VmExitSignal}); in VMX root operation it
     * is blocked (SDM Vol. 3C 24.8) and this returns false (the signal is not latched for later: there
     * is no interrupt controller to hold it). Outside VMX operation the INIT state (SDM 10.1, Table
     * 10-1: RESET values except that MSRs, caches and the x87/SSE state are kept) is not implemented.
     */
    public boolean initSignal() {
        if (cpu.nonRoot) cpu.vmx.intercept(cpu, Sensitive.INIT, null, 0, 0);
        if (cpu.vmxOperation) return false;
        throw new lhv.cpu.NotImplemented("INIT signal outside VMX operation");
    }

    /** Delivers an external interrupt or NMI (vector 2) at an instruction boundary. */
    public void externalInterrupt(int vector) {
        events.deliver(vector & 0xFF, vector == 2 ? EventDelivery.NMI : EventDelivery.EXTERNAL, -1);
    }

    /**
     * Delivers an event of any interruption type (SDM 25.8.3 numbering: 0 external, 2 NMI,
     * 3 hardware exception, 4 software interrupt, 5 privileged software exception, 6 software
     * exception), e.g. for VM-entry event injection. {@code errorCode} is -1 when none is pushed.
     */
    public void deliverEvent(int vector, int type, int errorCode) {
        events.deliver(vector & 0xFF, type, errorCode);
    }

    /**
     * While a VM exit happens during event delivery: the event being delivered in IDT-vectoring
     * information format (bit 31 valid), else 0 (SDM 28.2.4). Valid only inside
     * {@link lhv.cpu.intercept.Virtualization#intercept} calls made by event delivery.
     */
    public int vectoringInfo() {
        return events.vectoringInfo;
    }

    /**
     * The event being delivered right now (IDT-vectoring information format, SDM 25.9.3), e.g. the
     * one whose IDT task gate starts a task switch; with {@link #deliveringEventErrorCode}.
     */
    public int deliveringEventInfo() {
        return events.deliveringInfo;
    }

    public int deliveringEventErrorCode() {
        return events.deliveringErrorCode;
    }

    /**
     * Whether hardware exception {@code vector} with payload {@code data} ({@link #eventData}) is
     * a fault whose saved RFLAGS image has RF = 1 (SDM 18.3.1.1; VM exits save RF the same way,
     * SDM Vol. 3C 28.3.3).
     */
    public static boolean faultSetsRf(int vector, long data) {
        return EventDelivery.isFaultClass(vector, data);
    }

    public int vectoringErrorCode() {
        return events.vectoringErrorCode;
    }

    /** Triple fault: VM exit in non-root operation, otherwise shutdown. */
    public void tripleFault() {
        events.tripleFault();
    }

    // =====================================================================================
    // I/O permission (SDM 19.5)
    // =====================================================================================

    /**
     * IN/OUT/INS/OUTS permission: in protected mode with CPL > IOPL, and always in virtual-8086
     * mode, every bit for the accessed ports in the TSS I/O permission bitmap must be 0; otherwise
     * #GP(0) (SDM 19.5.1-19.5.2).
     */
    public void checkIoPermission(int port, int size) {
        if (cpu.mode == Mode.REAL) return;
        int iopl = (int) ((cpu.getRflags() & Rflags.IOPL) >>> 12);
        if (cpu.mode != Mode.VIRTUAL_8086 && cpu.cpl <= iopl) return;
        int t = cpu.tr.type();
        if (cpu.tr.unusable() || (t != 9 && t != 11)) throw CpuFault.gp0();
        long limit = cpu.tr.limit & 0xFFFFFFFFL;
        if (limit < 0x67) throw CpuFault.gp0();
        int mapBase = (int) cpu.mmu.readLinear(cpu.tr.base + 0x66, 2, true);
        long at = mapBase + (port >>> 3);
        if (at + 1 > limit) throw CpuFault.gp0();
        int bits = (int) cpu.mmu.readLinear(cpu.tr.base + at, 2, true);
        int mask = ((1 << size) - 1) << (port & 7);
        if ((bits & mask) != 0) throw CpuFault.gp0();
    }

    // =====================================================================================
    // MSRs, CPUID, fast system calls
    // =====================================================================================

    /**
     * Reads an MSR with its architectural rules (#GP(0) for unknown MSRs). The RDMSR instruction's
     * CPL check is the interpreter's: this method also serves RDTSCP (IA32_TSC_AUX at any CPL) and
     * the VMX layer's MSR-load/store areas, which run whatever the current CPL is.
     */
    public long rdmsr(int index) {
        return msrs.read(index);
    }

    /** Writes an MSR with its architectural rules; the WRMSR instruction's CPL check is the interpreter's. */
    public void wrmsr(int index, long value) {
        msrs.write(index, value);
    }

    /**
     * True when MSR {@code index} is the processor core's own and its whole state is tracked state:
     * IA32_SYSENTER_CS/ESP/EIP, IA32_PAT, IA32_DEBUGCTL (state group STATE_MSR) and IA32_EFER
     * (STATE_CONTROL), with no {@code Cpu.msrProviders} entry claiming it. For such an MSR, RDMSR and
     * WRMSR read and write nothing but those two groups (WRMSR's checks depend on the value, CR0.PG and
     * EFER only), so no change in both groups means an unchanged MSR and an unchanged outcome
     * (VM-transition MSR areas rely on it).
     */
    public boolean msrIsTrackedState(int index) {
        return switch (index) {
            case Msr.IA32_SYSENTER_CS, Msr.IA32_SYSENTER_ESP, Msr.IA32_SYSENTER_EIP, Msr.IA32_PAT, Msr.IA32_DEBUGCTL,
                 Msr.IA32_EFER -> !msrs.provided(index);
            default -> false;
        };
    }

    /** Executes CPUID: reads EAX/ECX, writes EAX/EBX/ECX/EDX (zero-extended). */
    public void cpuid() {
        int leaf = (int) cpu.gpr[Cpu.RAX];
        int sub = (int) cpu.gpr[Cpu.RCX];
        int[] r = cpu.model.cpuid(leaf, sub);
        if (leaf == 1 && (cpu.cr4 & Cr.CR4_OSXSAVE) != 0) r[2] |= CpuModel.ECX1_OSXSAVE;
        cpu.gpr[Cpu.RAX] = r[0] & 0xFFFFFFFFL;
        cpu.gpr[Cpu.RBX] = r[1] & 0xFFFFFFFFL;
        cpu.gpr[Cpu.RCX] = r[2] & 0xFFFFFFFFL;
        cpu.gpr[Cpu.RDX] = r[3] & 0xFFFFFFFFL;
    }

    /** SYSCALL (SDM Vol. 2): 64-bit mode with EFER.SCE only; CS/SS from STAR[47:32], RIP from LSTAR. */
    public void syscall() {
        if (cpu.mode != Mode.LONG64 || (cpu.efer & Cr.EFER_SCE) == 0) throw CpuFault.ud();
        long flags = cpu.getRflags();
        cpu.gpr[Cpu.RCX] = cpu.rip;
        cpu.gpr[11] = flags;
        int sel = (int) (cpu.star >>> 32) & 0xFFFF;
        cpu.seg[Segment.CS].set(sel & 0xFFFC, 0, 0xFFFFFFFF, 0xA09B);
        cpu.seg[Segment.SS].set((sel + 8) & 0xFFFF, 0, 0xFFFFFFFF, 0xC093);
        cpu.cpl = 0;
        cpu.rip = cpu.lstar;
        cpu.setRflags(flags & ~(cpu.fmask | Rflags.RF));
        cpu.stateChanged();
    }

    /** SYSRET (SDM Vol. 2): to CPL 3; 64-bit code with REX.W (opSize 8), compatibility mode otherwise. */
    public void sysret(int opSize) {
        if (cpu.mode != Mode.LONG64 || (cpu.efer & Cr.EFER_SCE) == 0) throw CpuFault.ud();
        requireCpl0();
        long target = cpu.gpr[Cpu.RCX];
        if (opSize == 8 && !Mmu.canonical(target)) throw CpuFault.gp0();
        int sel = (int) (cpu.star >>> 48) & 0xFFFF;
        if (opSize == 8) {
            cpu.seg[Segment.CS].set(((sel + 16) | 3) & 0xFFFF, 0, 0xFFFFFFFF, 0xA0FB);
            cpu.rip = target;
        } else {
            cpu.seg[Segment.CS].set(sel | 3, 0, 0xFFFFFFFF, 0xC0FB);
            cpu.rip = target & 0xFFFFFFFFL;
        }
        // SS.selector = STAR[63:48] + 8 with RPL 3; its hidden part is fixed (SDM Vol. 2 SYSRET).
        cpu.seg[Segment.SS].set(((sel + 8) | 3) & 0xFFFF, 0, 0xFFFFFFFF, 0xC0F3);
        cpu.cpl = 3;
        cpu.setRflags((cpu.gpr[11] & 0x3C7FD7L) | Rflags.FIXED1);
        cpu.stateChanged();
    }

    /** SYSENTER (SDM Vol. 2): protected mode with a non-null IA32_SYSENTER_CS; to CPL 0 flat segments. */
    public void sysenter() {
        if ((cpu.cr0 & Cr.CR0_PE) == 0 || (cpu.sysenterCs & 0xFFFC) == 0) throw CpuFault.gp0();
        boolean ia32e = (cpu.efer & Cr.EFER_LMA) != 0;
        int cs = (int) cpu.sysenterCs & 0xFFFC;
        cpu.setRflags(cpu.getRflags() & ~(Rflags.VM | Rflags.IF | Rflags.RF));
        cpu.seg[Segment.CS].set(cs, 0, 0xFFFFFFFF, ia32e ? 0xA09B : 0xC09B);
        cpu.seg[Segment.SS].set(cs + 8, 0, 0xFFFFFFFF, 0xC093);
        cpu.cpl = 0;
        if (ia32e) {
            cpu.gpr[Cpu.RSP] = cpu.sysenterEsp;
            cpu.rip = cpu.sysenterEip;
        } else {
            cpu.gpr[Cpu.RSP] = cpu.sysenterEsp & 0xFFFFFFFFL;
            cpu.rip = cpu.sysenterEip & 0xFFFFFFFFL;
        }
        cpu.stateChanged();
    }

    /** SYSEXIT (SDM Vol. 2): CPL 0 only; to CPL 3 with RSP = RCX, RIP = RDX (64-bit code with REX.W). */
    public void sysexit(int opSize) {
        if ((cpu.cr0 & Cr.CR0_PE) == 0 || (cpu.sysenterCs & 0xFFFC) == 0 || cpu.cpl != 0) throw CpuFault.gp0();
        int base = (int) cpu.sysenterCs & 0xFFFF;
        if (opSize == 8) {
            long rip = cpu.gpr[Cpu.RDX], rsp = cpu.gpr[Cpu.RCX];
            if (!Mmu.canonical(rip) || !Mmu.canonical(rsp)) throw CpuFault.gp0();
            cpu.seg[Segment.CS].set((base + 32) | 3, 0, 0xFFFFFFFF, 0xA0FB);
            cpu.seg[Segment.SS].set((base + 40) | 3, 0, 0xFFFFFFFF, 0xC0F3);
            cpu.rip = rip;
            cpu.gpr[Cpu.RSP] = rsp;
        } else {
            cpu.seg[Segment.CS].set((base + 16) | 3, 0, 0xFFFFFFFF, 0xC0FB);
            cpu.seg[Segment.SS].set((base + 24) | 3, 0, 0xFFFFFFFF, 0xC0F3);
            cpu.rip = cpu.gpr[Cpu.RDX] & 0xFFFFFFFFL;
            cpu.gpr[Cpu.RSP] = cpu.gpr[Cpu.RCX] & 0xFFFFFFFFL;
        }
        cpu.cpl = 3;
        cpu.stateChanged();
    }

    /** SWAPGS (SDM Vol. 2): 64-bit mode, CPL 0; exchanges GS.base with IA32_KERNEL_GS_BASE. */
    public void swapgs() {
        if (cpu.mode != Mode.LONG64) throw CpuFault.ud();
        requireCpl0();
        Segment gs = cpu.seg[Segment.GS];
        long t = gs.base;
        gs.setBase(cpu.kernelGsBase);
        cpu.kernelGsBase = t;
    }
}
