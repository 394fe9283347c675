package lhv.vmx.nonroot;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.cpu.decode.Insn;
import lhv.cpu.sys.SystemUnit;
import lhv.cpu.intercept.Sensitive;
import lhv.vmx.Vmx;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.exit.ExitQualification;
import lhv.vmx.exit.ExitQualification.CrAccess;
import lhv.vmx.exit.ExitQualification.DrAccess;
import lhv.vmx.exit.ExitQualification.IoAccess;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.exit.InstructionInformation;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * VMX non-root operation: which sensitive actions cause VM exits (SDM Vol. 3C 26.1 instructions,
 * 26.2 other causes) and how the others behave differently (26.3: CR read shadows, host-owned CR
 * bits, TSC offsetting, RDTSCP enable), plus the work at instruction boundaries: delivering the event
 * VM entry injects (27.6), the monitor trap flag (26.5.2), the VMX-preemption timer (26.5.1) and
 * the interrupt and NMI windows (26.2).
 *
 * <p>Context: guest execution in VMX non-root operation, called by the interpreter and the
 * system unit through {@link lhv.cpu.intercept.Virtualization}. The VM-execution controls cannot
 * change while the guest runs (there is no VMWRITE in non-root operation), so they are read from
 * the VMCS once per VM entry into fields.
 */
public final class Intercepts {
    private final Vmx vmx;
    private final Cpu cpu;

    // controls, cached at VM entry
    private int pin, primary, secondary, exceptionBitmap, pfecMask, pfecMatch, cr3TargetCount;
    private long cr0Mask, cr0Shadow, cr4Mask, cr4Shadow, ioBitmapA, ioBitmapB, msrBitmap, tscOffset;
    private final long[] cr3Targets = new long[4];
    private boolean tprShadow;
    private long virtualApic;
    private int tprThreshold;
    private boolean tprBelowThresholdPending;

    // non-root event state
    private boolean virtualNmiBlocked;
    private int injection;          // VM-entry interruption information still to deliver (0 = none)
    private boolean injecting;      // the injected event is being delivered (not subject to exits)
    private boolean mtfPendingAfterInjection;
    private long mtfArmedAt;
    /** An event not injected by VM entry went to the guest IDT since the last MTF exit check. */
    private boolean deliveredWithoutExit;
    private boolean timerActive;
    private long timerStartTsc;
    private long timerValue;

    public Intercepts(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
    }

    private boolean primary(PrimaryProcessorControl c) { return (primary & c.mask()) != 0; }
    private boolean secondary(SecondaryProcessorControl c) { return (secondary & c.mask()) != 0; }
    private boolean pin(PinBasedControl c) { return (pin & c.mask()) != 0; }

    // ---- entering and leaving non-root operation ----

    /** {@link lhv.vmx.vmcs.Vmcs#controlStores} when the controls were last read, or -1. */
    private long controlsReadAt = -1;

    /** Called at the end of a successful VM entry: caches the controls and arms the boundary work. */
    public void enterNonRoot() {
        // the controls are read again only when a store changed one since (VMWRITE, VMPTRLD, ...)
        long stores = vmx.vmcs.controlStores();
        if (stores != controlsReadAt) {
            readControls();
            controlsReadAt = stores;
        }
        tprBelowThresholdPending = false;
        enterNonRootEvents();
    }

    private void readControls() {
        pin = vmx.read32(PIN_BASED_VM_EXEC_CONTROL);
        primary = vmx.read32(CPU_BASED_VM_EXEC_CONTROL);
        secondary = primary(PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS) ? vmx.read32(SECONDARY_VM_EXEC_CONTROL) : 0;
        exceptionBitmap = vmx.read32(EXCEPTION_BITMAP);
        pfecMask = vmx.read32(PAGE_FAULT_ERROR_CODE_MASK);
        pfecMatch = vmx.read32(PAGE_FAULT_ERROR_CODE_MATCH);
        cr0Mask = vmx.read(CR0_GUEST_HOST_MASK);
        cr0Shadow = vmx.read(CR0_READ_SHADOW);
        cr4Mask = vmx.read(CR4_GUEST_HOST_MASK);
        cr4Shadow = vmx.read(CR4_READ_SHADOW);
        cr3TargetCount = vmx.read32(CR3_TARGET_COUNT);
        cr3Targets[0] = vmx.read(CR3_TARGET_VALUE0);
        cr3Targets[1] = vmx.read(CR3_TARGET_VALUE1);
        cr3Targets[2] = vmx.read(CR3_TARGET_VALUE2);
        cr3Targets[3] = vmx.read(CR3_TARGET_VALUE3);
        ioBitmapA = vmx.read(IO_BITMAP_A);
        ioBitmapB = vmx.read(IO_BITMAP_B);
        msrBitmap = vmx.read(MSR_BITMAP);
        tscOffset = primary(PrimaryProcessorControl.USE_TSC_OFFSETTING) ? vmx.read(TSC_OFFSET) : 0;
        tprShadow = primary(PrimaryProcessorControl.USE_TPR_SHADOW);
        virtualApic = tprShadow ? vmx.read(VIRTUAL_APIC_PAGE_ADDR) : 0;
        tprThreshold = tprShadow ? vmx.read32(TPR_THRESHOLD) & 0xF : 0;
    }

    /** The per-entry part: the event to inject, MTF, the preemption timer, the boundary work. */
    private void enterNonRootEvents() {
        int info = vmx.read32(VM_ENTRY_INTR_INFO_FIELD);
        injection = info < 0 ? info : 0;
        injecting = false;
        mtfPendingAfterInjection = false;
        if (injection != 0 && (injection >>> 8 & 7) == 7) {
            // type 7 (other event), vector 0: only an MTF VM exit pending before the first instruction (SDM 27.6.2)
            injection = 0;
            mtfPendingAfterInjection = true;
        } else if (injection != 0) {
            cpu.interruptShadow = 0; // a vectoring entry leaves no blocking by STI or MOV SS (SDM 27.7.1)
        }
        deliveredWithoutExit = false;
        mtfArmedAt = cpu.instructionsRetired;
        timerActive = pin(PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER);
        if (timerActive) {
            timerStartTsc = cpu.tsc();
            timerValue = vmx.read32(VMX_PREEMPTION_TIMER_VALUE) & 0xFFFF_FFFFL;
        }
        if (injection != 0 && cpu.activityState == 1) cpu.activityState = 0; // injecting an event leaves the HLT state (SDM 27.7.2)
        // SDM 26.5.2: with MTF and no injection, a REP string instruction right after entry exits after its first iteration
        cpu.repIterationLimit = primary(PrimaryProcessorControl.MONITOR_TRAP_FLAG) && injection == 0 ? 1 : 0;
        cpu.boundaryWork = injection != 0 || mtfPendingAfterInjection || timerActive
                || (primary & (PrimaryProcessorControl.MONITOR_TRAP_FLAG.mask() | PrimaryProcessorControl.INTERRUPT_WINDOW_EXITING.mask()
                | PrimaryProcessorControl.NMI_WINDOW_EXITING.mask())) != 0;
    }

    /** Called by every VM exit, which clears the valid bit of the VM-entry interruption-information field (SDM 28.2). */
    public void leaveNonRoot() {
        cpu.boundaryWork = false;
        cpu.repIterationLimit = 0;
        injection = 0;
        injecting = false;
        if (!vmx.hasCurrentVmcs()) return;
        int info = vmx.read32(VM_ENTRY_INTR_INFO_FIELD);
        if (info < 0) vmx.write(VM_ENTRY_INTR_INFO_FIELD, info & 0x7FFF_FFFFL);   // clear already: the store would change nothing
    }

    /** Loads the NMI-blocking bit of the guest interruptibility state (virtual-NMI blocking with "virtual NMIs"). */
    public void loadNmiBlocking(boolean blocked) {
        if (PinBasedControl.VIRTUAL_NMIS.isSet(vmx.read32(PIN_BASED_VM_EXEC_CONTROL))) virtualNmiBlocked = blocked;
        else cpu.nmiBlocked = blocked;
    }

    /** The NMI-blocking bit a VM exit saves. */
    public boolean nmiBlockedForSave() {
        return pin(PinBasedControl.VIRTUAL_NMIS) ? virtualNmiBlocked : cpu.nmiBlocked;
    }

    /** The VMX-preemption timer value a VM exit saves: the start value minus elapsed ticks (TSC >> rate). */
    public long preemptionTimerRemaining() {
        long elapsed = (cpu.tsc() >>> vmx.caps.preemptionTimerRate()) - (timerStartTsc >>> vmx.caps.preemptionTimerRate());
        return Math.max(0, timerValue - elapsed);
    }

    // ---- the exits ----

    private void exitForInstruction(ExitReason reason, Insn insn, long qualification) {
        vmx.exit.instructionExit(reason.number, qualification, insn == null ? 0 : insn.length, 0, -1);
    }

    private void exitForInstruction(ExitReason reason, Insn insn, long qualification, int info, long linear) {
        vmx.exit.instructionExit(reason.number, qualification, insn == null ? 0 : insn.length, info, linear);
    }

    /**
     * The sensitive action {@code what}; see {@link Sensitive} for a and b. CPUID, the most frequent
     * exit of all (every exit benchmark and hypervisor probe), is decided here before the large
     * switch of {@link #interceptOther}: this method stays small enough for the JIT to inline into
     * the interpreter's call, and the CPUID path does not pass through the switch.
     */
    public long intercept(Sensitive what, Insn insn, long a, long b) {
        // SDM 26.1.2: CPUID causes a VM exit unconditionally
        if (what == Sensitive.CPUID) {
            exitForInstruction(ExitReason.CPUID, insn, 0);
            return b;
        }
        return interceptOther(what, insn, a, b);
    }

    /** {@link #intercept} for every action but CPUID. */
    private long interceptOther(Sensitive what, Insn insn, long a, long b) {
        switch (what) {
            // SDM 26.1.2: instructions that cause VM exits unconditionally (CPUID: decided in intercept)
            case GETSEC -> exitForInstruction(ExitReason.GETSEC, insn, 0);
            case INVD -> exitForInstruction(ExitReason.INVD, insn, 0);
            case XSETBV -> exitForInstruction(ExitReason.XSETBV, insn, 0);
            // SDM 26.1.3: instructions that cause VM exits conditionally
            case HLT -> { if (primary(PrimaryProcessorControl.HLT_EXITING)) exitForInstruction(ExitReason.HLT, insn, 0); }
            case PAUSE -> { if (primary(PrimaryProcessorControl.PAUSE_EXITING)) exitForInstruction(ExitReason.PAUSE_INSTRUCTION, insn, 0); }
            case RDPMC -> { if (primary(PrimaryProcessorControl.RDPMC_EXITING)) exitForInstruction(ExitReason.RDPMC, insn, 0); }
            case MONITOR -> { if (primary(PrimaryProcessorControl.MONITOR_EXITING)) exitForInstruction(ExitReason.MONITOR_INSTRUCTION, insn, 0); }
            // SDM 28.2.1: MWAIT's qualification bit 0 says whether address-range monitoring is armed
            case MWAIT -> {
                if (primary(PrimaryProcessorControl.MWAIT_EXITING)) exitForInstruction(ExitReason.MWAIT_INSTRUCTION, insn, cpu.monitorArmed ? 1 : 0);
            }
            case WBINVD -> { if (secondary(SecondaryProcessorControl.WBINVD_EXITING)) exitForInstruction(ExitReason.WBINVD, insn, 0); }
            case RDRAND -> {
                if (secondary(SecondaryProcessorControl.RDRAND_EXITING)) {
                    exitForInstruction(ExitReason.RDRAND, insn, 0, InstructionInformation.rdrandRdseed(insn.rm, insn.opSize), -1);
                }
            }
            case RDSEED -> {
                if (secondary(SecondaryProcessorControl.RDSEED_EXITING)) {
                    exitForInstruction(ExitReason.RDSEED, insn, 0, InstructionInformation.rdrandRdseed(insn.rm, insn.opSize), -1);
                }
            }
            case RDTSC -> {
                if (primary(PrimaryProcessorControl.RDTSC_EXITING)) exitForInstruction(ExitReason.RDTSC, insn, 0);
                return a + tscOffset; // SDM 26.3 TSC offsetting
            }
            case RDTSCP -> {
                // RDTSCP is #UD unless "enable RDTSCP" is set (SDM 26.3); then RDTSC exiting governs it
                if (!secondary(SecondaryProcessorControl.ENABLE_RDTSCP)) throw CpuFault.ud();
                if (primary(PrimaryProcessorControl.RDTSC_EXITING)) exitForInstruction(ExitReason.RDTSCP, insn, 0);
                return a + tscOffset;
            }
            case INVLPG -> {
                if (primary(PrimaryProcessorControl.INVLPG_EXITING)) {
                    long linear = cpu.mode == Mode.LONG64 ? a : a & 0xFFFF_FFFFL; // bits 63:32 cleared outside 64-bit mode
                    exitForInstruction(ExitReason.INVLPG, insn, linear);
                }
            }
            case CR_WRITE -> { return crWrite((int) a, b, insn); }
            case CR_READ -> { return crRead((int) a, b, insn); }
            case CLTS -> {
                if (ControlRegisterShadowing.cltsExits(cr0Mask, cr0Shadow)) exitForInstruction(ExitReason.CR_ACCESS, insn, CrAccess.clts().encode());
                return ControlRegisterShadowing.cltsClearsTs(cr0Mask) ? 1 : 0;
            }
            case LMSW -> {
                int source = (int) a & 0xFFFF;
                if (ControlRegisterShadowing.lmswExits(cr0Mask, cr0Shadow, source)) {
                    boolean memory = b != -1;
                    exitForInstruction(ExitReason.CR_ACCESS, insn, CrAccess.lmsw(memory, source).encode(), 0, memory ? b : -1);
                }
                return ControlRegisterShadowing.lmswApplied(cr0Mask, cpu.cr0, source);
            }
            case SMSW -> { return ControlRegisterShadowing.read(cr0Mask, cr0Shadow, b); }
            case MOV_DR -> {
                if (primary(PrimaryProcessorControl.MOV_DR_EXITING)) {
                    exitForInstruction(ExitReason.DR_ACCESS, insn, new DrAccess((int) a, b == 1, insn.rm).encode());
                }
            }
            case IO -> io((int) a, (int) b, insn);
            case RDMSR -> {
                if (MsrBitmaps.exits(cpu.mem, primary(PrimaryProcessorControl.USE_MSR_BITMAPS), msrBitmap, (int) a, false)) {
                    exitForInstruction(ExitReason.MSR_READ, insn, 0);
                }
            }
            case WRMSR -> {
                if (MsrBitmaps.exits(cpu.mem, primary(PrimaryProcessorControl.USE_MSR_BITMAPS), msrBitmap, (int) a, true)) {
                    exitForInstruction(ExitReason.MSR_WRITE, insn, 0);
                }
            }
            case DESCRIPTOR_TABLE -> {
                if (secondary(SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING)) {
                    exitForInstruction(ExitReason.GDTR_IDTR, insn, ExitQualification.displacement(insn, cpu.rip),
                            InstructionInformation.descriptorTable(insn, (int) a), -1);
                }
            }
            case LDTR_TR -> {
                if (secondary(SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING)) {
                    exitForInstruction(ExitReason.LDTR_TR, insn, ExitQualification.displacement(insn, cpu.rip),
                            InstructionInformation.ldtrTr(insn, (int) a), -1);
                }
            }
            case EVENT -> event((int) a, (int) b);
            case IRET -> { return iret(); }
            case TASK_SWITCH -> {
                // SDM 26.4.2: task switches always exit. From CALL/JMP/IRET the exit is fault-like and reports the
                // instruction's length; through an IDT task gate it happens during event delivery.
                long q = new ExitQualification.TaskSwitch((int) a, ExitQualification.TaskSwitchSource.values()[(int) b & 3]).encode();
                if (b == 3) taskGateExit(q);
                else vmx.exit.instructionExit(ExitReason.TASK_SWITCH.number, q, (int) (cpu.rip - cpu.instructionStart), 0, -1);
            }
            // SDM 26.2: triple fault and INIT always exit
            case TRIPLE_FAULT -> eventExit(ExitReason.TRIPLE_FAULT, 0, 0, 0);
            case INIT -> vmx.exit.exit(ExitReason.INIT_SIGNAL.number, 0, 0, 0);
        }
        return b;
    }

    /** MOV to CR0/CR3/CR4/CR8 (SDM 26.1.3); returns the value to write (host-owned bits kept, SDM 26.3). */
    private long crWrite(int cr, long value, Insn insn) {
        switch (cr) {
            case 0 -> {
                if (ControlRegisterShadowing.movToCrExits(cr0Mask, cr0Shadow, value)) crExit(CrAccess.movToCr(0, insn.rm), insn);
                return ControlRegisterShadowing.written(cr0Mask, cpu.cr0, value);
            }
            case 4 -> {
                if (ControlRegisterShadowing.movToCrExits(cr4Mask, cr4Shadow, value)) crExit(CrAccess.movToCr(4, insn.rm), insn);
                return ControlRegisterShadowing.written(cr4Mask, cpu.cr4, value);
            }
            case 3 -> {
                if (ControlRegisterShadowing.cr3LoadExits(primary(PrimaryProcessorControl.CR3_LOAD_EXITING), cr3Targets,
                        cr3TargetCount, value)) crExit(CrAccess.movToCr(3, insn.rm), insn);
            }
            case 8 -> {
                if (primary(PrimaryProcessorControl.CR8_LOAD_EXITING)) crExit(CrAccess.movToCr(8, insn.rm), insn);
                if (tprShadow) return writeVirtualTpr(value);
            }
            default -> { }
        }
        return value;
    }

    /** VTPR, offset 80H of the virtual-APIC page (SDM 30.1); CR8 reads and writes it under "use TPR shadow". */
    private static final int VTPR = 0x80;

    /**
     * MOV to CR8 with "use TPR shadow" (SDM 30.3): bits 3:0 of the source go to VTPR[7:4], the rest of
     * VTPR is cleared, CR8 itself is untouched (the returned value is its current one); a VTPR below
     * the TPR threshold causes a trap-like TPR-below-threshold VM exit after the instruction (30.1.2).
     */
    private long writeVirtualTpr(long value) {
        int priority = (int) value & 0xF;
        cpu.mem.write(virtualApic + VTPR, 4, priority << 4);
        cpu.codeMap.writtenRange(virtualApic + VTPR, 4);
        if (priority < tprThreshold) {
            tprBelowThresholdPending = true;
            cpu.boundaryWork = true;
        }
        return cpu.cr8;
    }

    /** MOV from CR (SDM 26.1.3, 26.3): CR3/CR8 store exiting; CR0/CR4 reads see the read shadow in host-owned bits. */
    private long crRead(int cr, long value, Insn insn) {
        switch (cr) {
            case 0 -> { return ControlRegisterShadowing.read(cr0Mask, cr0Shadow, value); }
            case 4 -> { return ControlRegisterShadowing.read(cr4Mask, cr4Shadow, value); }
            case 3 -> { if (primary(PrimaryProcessorControl.CR3_STORE_EXITING)) crExit(CrAccess.movFromCr(3, insn.rm), insn); }
            case 8 -> {
                if (primary(PrimaryProcessorControl.CR8_STORE_EXITING)) crExit(CrAccess.movFromCr(8, insn.rm), insn);
                if (tprShadow) return cpu.mem.read(virtualApic + VTPR, 4) >>> 4 & 0xF; // SDM 30.3: VTPR[7:4]
            }
            default -> { }
        }
        return value;
    }

    private void crExit(CrAccess q, Insn insn) {
        exitForInstruction(ExitReason.CR_ACCESS, insn, q.encode());
    }

    /** IN/OUT/INS/OUTS (SDM 26.1.3 with the I/O bitmaps); string forms also report the guest-linear address and, as IA32_VMX_BASIC[54] says, instruction information. */
    private void io(int port, int flags, Insn insn) {
        int size = flags & 7;
        if (!IoBitmaps.exits(cpu.mem, primary(PrimaryProcessorControl.USE_IO_BITMAPS),
                primary(PrimaryProcessorControl.UNCONDITIONAL_IO_EXITING), ioBitmapA, ioBitmapB, port, size)) return;
        boolean in = (flags & 0x100) != 0, string = (flags & 0x200) != 0, rep = (flags & 0x400) != 0;
        boolean immediate = insn != null && (insn.opcode & 0xFC) == 0xE4; // IN/OUT with imm8 (E4-E7)
        long q = new IoAccess(size, in, string, rep, immediate, port).encode();
        if (!string) {
            exitForInstruction(ExitReason.IO_INSTRUCTION, insn, q);
            return;
        }
        // INS writes ES:(E/R)DI, OUTS reads seg:(E/R)SI (SDM 28.2.1 guest-linear address)
        int segment = in ? Segment.ES : insn.seg;
        long offset = cpu.gpr[in ? Cpu.RDI : Cpu.RSI];
        long mask = insn.addrSize == 8 ? -1L : (1L << (insn.addrSize * 8)) - 1;
        long linear = cpu.seg[segment].base + (offset & mask);
        if (cpu.mode != Mode.LONG64) linear &= 0xFFFF_FFFFL;
        int info = vmx.caps.reportsInsOutsInfo() ? InstructionInformation.insOuts(insn.addrSize, in ? Segment.ES : insn.seg) : 0;
        exitForInstruction(ExitReason.IO_INSTRUCTION, insn, q, info, linear);
    }

    /**
     * An event about to be delivered through the guest IDT (SDM 26.2): NMIs with "NMI exiting",
     * external interrupts with "external-interrupt exiting", exceptions selected by the exception
     * bitmap (with the #PF error-code mask/match). Software interrupts (INT n) never exit. The event
     * VM entry injects is exempt (SDM 27.6.1). When this event arose while another was being
     * delivered, the system unit reports that one as IDT-vectoring information (SDM 28.2.4).
     */
    private void event(int vectorAndType, int errorCode) {
        if (injecting) {
            injecting = false;
            return;
        }
        int vector = vectorAndType & 0xFF, type = vectorAndType >>> 8 & 7;
        int info = vector | type << 8 | (errorCode >= 0 ? 1 << 11 : 0) | 1 << 31;
        // SDM 26.5.2: an event delivered without an exit (a fault, an interrupt, a pending #DB) is
        // followed by an MTF exit on the boundary after its delivery; INT n retires and exits anyway
        if (type != 4 && type != 5 && type != 6) deliveredWithoutExit = true;
        switch (type) {
            case 0 -> {
                if (pin(PinBasedControl.EXTERNAL_INTERRUPT_EXITING)) {
                    // the vector is reported only when the exit acknowledges the interrupt (SDM 28.2.2)
                    boolean ack = ExitControl.ACKNOWLEDGE_INTERRUPT_ON_EXIT.isSet(vmx.read32(VM_EXIT_CONTROLS));
                    eventExit(ExitReason.EXTERNAL_INTERRUPT, 0, ack ? vector | 1 << 31 : 0, 0);
                }
            }
            case 2 -> {
                if (pin(PinBasedControl.NMI_EXITING)) eventExit(ExitReason.EXCEPTION_NMI, 0, info, 0);
            }
            case 3, 5, 6 -> {
                if (vector < 32 && ExceptionBitmap.exits(exceptionBitmap, vector, errorCode, pfecMask, pfecMatch)) {
                    // #PF: the faulting linear address; #DB: the bits that would have gone to DR6 (SDM 28.2.1,
                    // Table 28-1). The exception leaves CR2 and DR6 unchanged (SDM 28.1); INT1/ICEBP reports 0.
                    long qualification = type != 3 ? 0 : vector == 14 ? cpu.sys.eventData()
                            : vector == 1 ? cpu.sys.eventData() & DEBUG_QUALIFICATION_BITS : 0;
                    if (type != 3) {
                        // INT1/INT3/INTO: the saved RIP is the instruction's, and its length is reported (SDM 28.2.4)
                        vmx.write(VM_EXIT_INSTRUCTION_LEN, cpu.rip - cpu.instructionStart);
                        cpu.rip = cpu.instructionStart;
                    } else {
                        // SDM 28.3.3: RF as the exception's RFLAGS image would have had it (1 for faults)
                        if (SystemUnit.faultSetsRf(vector, cpu.sys.eventData())) cpu.rflags |= Rflags.RF;
                        // SDM 28.2.2 bit 12: a fault of an IRET that had ended (virtual-)NMI blocking, not
                        // during event delivery and not #DF
                        if (vector != 8 && iretUnblockedNmisAt == cpu.instructionsRetired && cpu.sys.vectoringInfo() == 0) {
                            info |= 1 << 12;
                        }
                    }
                    eventExit(ExitReason.EXCEPTION_NMI, qualification, info, errorCode);
                }
            }
            default -> { }
        }
    }

    /**
     * A task switch through a task gate in the IDT: the exit happens during delivery of that event,
     * which is reported as IDT-vectoring information (SDM 28.2.4), and RF is saved as it would have
     * been saved in the old TSS (set for a fault, SDM 28.3.3).
     */
    private void taskGateExit(long qualification) {
        int delivering = cpu.sys.deliveringEventInfo();
        int vector = delivering & 0xFF, type = delivering >>> 8 & 7;
        if (type == 3 && SystemUnit.faultSetsRf(vector, cpu.sys.eventData())) cpu.rflags |= Rflags.RF;
        vmx.exit.vectoringInfo = delivering;
        vmx.exit.vectoringErrorCode = cpu.sys.deliveringEventErrorCode();
        rewindSoftwareEvent(delivering);
        vmx.exit.exit(ExitReason.TASK_SWITCH.number, qualification, 0, 0);
    }

    /**
     * IRET in VMX non-root operation (SDM 26.3): with "NMI exiting" = 0 it ends the blocking of NMIs as
     * usual; with "NMI exiting" = 1 it leaves that blocking alone and ends virtual-NMI blocking when
     * "virtual NMIs" = 1. Either blocking ends before a fault of the IRET can exit (SDM 28.1); whether
     * it was in effect is remembered for bit 12 of the exit interruption information (SDM 28.2.2).
     */
    private long iret() {
        boolean wasBlocked;
        long unblocksRealNmis;
        if (pin(PinBasedControl.NMI_EXITING)) {
            wasBlocked = pin(PinBasedControl.VIRTUAL_NMIS) && virtualNmiBlocked;
            virtualNmiBlocked = false;
            unblocksRealNmis = 0;
        } else {
            wasBlocked = cpu.nmiBlocked;
            unblocksRealNmis = 1;
        }
        iretUnblockedNmisAt = wasBlocked ? cpu.instructionsRetired : -1;
        return unblocksRealNmis;
    }

    /** instructionsRetired while the IRET that ended (virtual-)NMI blocking executes, else -1. */
    private long iretUnblockedNmisAt = -1;

    /** B0-B3, BD, BS and RTM: the DR6 bits a #DB exit qualification reports (SDM Table 28-1). */
    private static final long DEBUG_QUALIFICATION_BITS = 0xF | 1L << 13 | 1L << 14 | 1L << 16;

    private void eventExit(ExitReason reason, long qualification, int interruptionInfo, int errorCode) {
        int vectoring = cpu.sys.vectoringInfo();
        vmx.exit.vectoringInfo = vectoring;
        vmx.exit.vectoringErrorCode = cpu.sys.vectoringErrorCode();
        rewindSoftwareEvent(vectoring);
        vmx.exit.exit(reason.number, qualification, interruptionInfo, errorCode);
    }

    private void rewindSoftwareEvent(int vectoring) {
        int vectoringType = vectoring >>> 8 & 7;
        if (vectoring < 0 && vectoringType >= 4 && vectoringType <= 6 && cpu.rip != cpu.instructionStart) {
            // during delivery of INT n/INT3/INTO/INT1: the saved RIP is the instruction's and its length is
            // reported, so the VMM can re-inject the event (SDM 28.2.4, 28.3.3)
            vmx.write(VM_EXIT_INSTRUCTION_LEN, cpu.rip - cpu.instructionStart);
            cpu.rip = cpu.instructionStart;
        }
    }

    // ---- instruction boundaries ----

    public void atBoundary() {
        if (!cpu.nonRoot) {
            cpu.boundaryWork = false;
            return;
        }
        // the injected event is delivered first; exits pending "before the first instruction" follow it
        if (injection != 0) inject();
        if (tprBelowThresholdPending) {
            tprBelowThresholdPending = false;
            vmx.exit.exit(ExitReason.TPR_BELOW_THRESHOLD.number, 0, 0, 0);
        }
        if (mtfPendingAfterInjection) {
            mtfPendingAfterInjection = false;
            vmx.exit.exit(ExitReason.MONITOR_TRAP_FLAG.number, 0, 0, 0);
        }
        // SDM 26.5.2: an MTF VM exit follows the completion of a guest instruction
        if (primary(PrimaryProcessorControl.MONITOR_TRAP_FLAG) && (cpu.instructionsRetired != mtfArmedAt || deliveredWithoutExit)) {
            vmx.exit.exit(ExitReason.MONITOR_TRAP_FLAG.number, 0, 0, 0);
        }
        deliveredWithoutExit = false;
        // Debug traps of the previous instruction come after an MTF exit (which saves them, SDM 28.3.4)
        // and before the preemption timer and the NMI/interrupt windows (SDM 6.9 priority 4, 26.7).
        if (cpu.pendingDebugExceptions != 0 && (cpu.interruptShadow & 2) == 0) {
            cpu.sys.deliverPendingDebugExceptions();
            // the boundary after that delivery is this one: the MTF exit comes before the handler runs (SDM 26.5.2)
            if (primary(PrimaryProcessorControl.MONITOR_TRAP_FLAG)) vmx.exit.exit(ExitReason.MONITOR_TRAP_FLAG.number, 0, 0, 0);
            deliveredWithoutExit = false;
        }
        if (timerActive && preemptionTimerRemaining() == 0) {
            vmx.exit.exit(ExitReason.PREEMPTION_TIMER.number, 0, 0, 0);
        }
        boolean movSsOrSti = cpu.interruptShadow != 0;
        if (primary(PrimaryProcessorControl.NMI_WINDOW_EXITING) && !virtualNmiBlocked && (cpu.interruptShadow & 2) == 0) {
            vmx.exit.exit(ExitReason.NMI_WINDOW.number, 0, 0, 0);
        }
        if (primary(PrimaryProcessorControl.INTERRUPT_WINDOW_EXITING) && (cpu.getRflags() & Rflags.IF) != 0 && !movSsOrSti) {
            vmx.exit.exit(ExitReason.INTERRUPT_WINDOW.number, 0, 0, 0);
        }
        if (timerActive && cpu.activityState == 1) {
            // The timer keeps counting in the HLT state (SDM 26.5.1). Virtual time only advances with
            // retired instructions, so a halted guest skips ahead to the expiry: the TSC moves to the
            // tick at which the timer reaches 0 and the exit happens with the guest still halted.
            int rate = vmx.caps.preemptionTimerRate();
            long expiryTick = (timerStartTsc >>> rate) + timerValue;
            long now = cpu.tsc();
            if ((now >>> rate) < expiryTick) cpu.tscBase += (expiryTick << rate) - now;
            vmx.exit.exit(ExitReason.PREEMPTION_TIMER.number, 0, 0, 0);
        }
        cpu.boundaryWork = timerActive || injection != 0
                || (primary & (PrimaryProcessorControl.MONITOR_TRAP_FLAG.mask() | PrimaryProcessorControl.INTERRUPT_WINDOW_EXITING.mask()
                | PrimaryProcessorControl.NMI_WINDOW_EXITING.mask())) != 0;
    }

    /**
     * Delivers the event of the VM-entry interruption-information field through the guest IDT
     * (SDM 27.6.1): as if it had occurred right after entry, without exception-bitmap exits for
     * itself. Software interrupts and exceptions push the RIP that follows the instruction
     * (VM-entry instruction length).
     */
    private void inject() {
        int info = injection;
        injection = 0;
        int vector = info & 0xFF, type = info >>> 8 & 7;
        int errorCode = (info & 1 << 11) != 0 ? vmx.read32(VM_ENTRY_EXCEPTION_ERROR_CODE) : -1;
        if (primary(PrimaryProcessorControl.MONITOR_TRAP_FLAG) && type != 4 && type != 5 && type != 6) {
            mtfPendingAfterInjection = true; // SDM 27.7, monitor trap flag: MTF exit right after delivery of a non-software event
        }
        mtfArmedAt = cpu.instructionsRetired;
        injecting = true;
        cpu.boundaryWork = true;
        if (type == 2 && pin(PinBasedControl.VIRTUAL_NMIS)) virtualNmiBlocked = true;
        // software interrupts and exceptions return past the instruction that would have raised them
        if (type == 4 || type == 5 || type == 6) cpu.rip += vmx.read32(VM_ENTRY_INSTRUCTION_LEN);
        cpu.sys.deliverEvent(vector, type, errorCode);
        injecting = false;
    }
}
