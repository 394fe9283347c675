package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;
import lhv.vmx.Vmx;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.VmcsField;

import static lhv.vmx.vmcs.VmcsField.*;

/**
 * The reference for {@link SlotTransitionsTest}: saving guest state (SDM 28.3), loading host state
 * (28.5) and loading guest state (27.3.2) field by field through {@link Vmx#read}/{@link Vmx#write},
 * which look each field up by its enum constant and truncate every value to the field's width — the
 * procedures as they were before {@link VmExit} and {@link VmEntry} indexed the VMCS by slot.
 *
 * <p>Context: tests only, on a processor in VMX operation with a current VMCS.
 */
final class FieldByFieldTransitions {
    private final Vmx vmx;
    private final Cpu cpu;

    FieldByFieldTransitions(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
    }

    void saveGuestState(int reason) {
        int exitControls = vmx.read32(VM_EXIT_CONTROLS);
        vmx.write(GUEST_CR0, cpu.cr0);
        vmx.write(GUEST_CR3, cpu.cr3);
        vmx.write(GUEST_CR4, cpu.cr4);
        if (ExitControl.SAVE_DEBUG_CONTROLS.isSet(exitControls)) {
            vmx.write(GUEST_DR7, cpu.dr[7]);
            vmx.write(GUEST_IA32_DEBUGCTL, cpu.debugCtl);
        }
        vmx.write(GUEST_SYSENTER_CS, cpu.sysenterCs);
        vmx.write(GUEST_SYSENTER_ESP, cpu.sysenterEsp);
        vmx.write(GUEST_SYSENTER_EIP, cpu.sysenterEip);
        if (ExitControl.SAVE_IA32_PAT.isSet(exitControls)) vmx.write(GUEST_IA32_PAT, cpu.pat);
        if (ExitControl.SAVE_IA32_EFER.isSet(exitControls)) vmx.write(GUEST_IA32_EFER, cpu.efer);
        if (vmx.caps.storesLmaOnExit()) {
            // IA32_VMX_MISC[5]: the exit stores EFER.LMA into the "IA-32e mode guest" entry control (SDM 28.2, A.6)
            long entry = vmx.read(VM_ENTRY_CONTROLS) & ~(long) EntryControl.IA32E_MODE_GUEST.mask();
            vmx.write(VM_ENTRY_CONTROLS, (cpu.efer & Cr.EFER_LMA) != 0 ? entry | EntryControl.IA32E_MODE_GUEST.mask() : entry);
        }
        for (int s = 0; s < 6; s++) saveSegment(s, cpu.seg[s]);
        saveSegment(6, cpu.ldtr);
        saveSegment(7, cpu.tr);
        vmx.write(GUEST_GDTR_BASE, cpu.gdtrBase);
        vmx.write(GUEST_GDTR_LIMIT, cpu.gdtrLimit);
        vmx.write(GUEST_IDTR_BASE, cpu.idtrBase);
        vmx.write(GUEST_IDTR_LIMIT, cpu.idtrLimit);
        vmx.write(GUEST_RIP, cpu.rip);
        vmx.write(GUEST_RSP, cpu.gpr[Cpu.RSP]);
        vmx.write(GUEST_RFLAGS, cpu.getRflags());
        // SDM 28.3.4: interruptibility (STI/MOV SS blocking, NMI or virtual-NMI blocking) and activity
        int interruptibility = cpu.interruptShadow & 3;
        if (vmx.intercepts.nmiBlockedForSave()) interruptibility |= 1 << 3;
        vmx.write(GUEST_INTERRUPTIBILITY_INFO, interruptibility);
        vmx.write(GUEST_ACTIVITY_STATE, cpu.activityState);
        vmx.write(GUEST_PENDING_DBG_EXCEPTIONS, vmx.exit.pendingDebugExceptions(reason));
        if (ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.isSet(exitControls)
                && PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER.isSet(vmx.read32(PIN_BASED_VM_EXEC_CONTROL))) {
            vmx.write(VMX_PREEMPTION_TIMER_VALUE, reason == ExitReason.PREEMPTION_TIMER.number ? 0 : vmx.intercepts.preemptionTimerRemaining());
        }
    }
    private void saveSegment(int s, Segment seg) {
        vmx.write(VmExit.GUEST_SELECTOR[s], seg.selector);
        vmx.write(VmExit.GUEST_BASE[s], seg.base);
        vmx.write(VmExit.GUEST_LIMIT[s], seg.limit & 0xFFFF_FFFFL);
        vmx.write(VmExit.GUEST_AR[s], seg.attributes & 0x1F0FF);
    }
    void loadHostState(boolean nmiExit) {
        int exitControls = vmx.read32(VM_EXIT_CONTROLS);
        boolean host64 = ExitControl.HOST_ADDRESS_SPACE_SIZE.isSet(exitControls);
        // control registers: fixed bits stay as VMX operation requires
        long cr0Fixed = vmx.caps.cr0Fixed0 | ~vmx.caps.cr0Fixed1;
        long keep0 = VmExit.CR0_UNMODIFIED | cr0Fixed;
        cpu.setCr0((cpu.cr0 & keep0) | (vmx.read(HOST_CR0) & ~keep0));
        cpu.setCr3(vmx.read(HOST_CR3) & ((1L << cpu.mmu.maxPhysAddr()) - 1));
        long cr4Fixed = vmx.caps.cr4Fixed0 | ~vmx.caps.cr4Fixed1;
        long cr4 = (cpu.cr4 & cr4Fixed) | (vmx.read(HOST_CR4) & ~cr4Fixed);
        if (host64) cr4 |= Cr.CR4_PAE; else cr4 &= ~Cr.CR4_PCIDE;
        cpu.setCr4(cr4);
        cpu.dr[7] = 0x400;
        cpu.setDebugCtl(0);
        cpu.setSysenterCs(vmx.read(HOST_IA32_SYSENTER_CS));
        cpu.setSysenterEsp(vmx.read(HOST_IA32_SYSENTER_ESP));
        cpu.setSysenterEip(vmx.read(HOST_IA32_SYSENTER_EIP));
        if (ExitControl.LOAD_IA32_PAT.isSet(exitControls)) cpu.setPat(vmx.read(HOST_IA32_PAT));
        if (ExitControl.LOAD_IA32_PERF_GLOBAL_CTRL.isSet(exitControls)) vmx.perfGlobalCtrl = vmx.read(HOST_IA32_PERF_GLOBAL_CTRL);
        if (ExitControl.LOAD_IA32_EFER.isSet(exitControls)) {
            cpu.setEfer(vmx.read(HOST_IA32_EFER));
        } else {
            long lm = Cr.EFER_LMA | Cr.EFER_LME;
            cpu.setEfer(host64 ? cpu.efer | lm : cpu.efer & ~lm);
        }
        // SDM 28.5.2: segment registers with the fixed attributes of host segments
        int codeAr = 0xB | Segment.AR_S | Segment.AR_P | Segment.AR_G | (host64 ? Segment.AR_L : Segment.AR_DB);
        cpu.seg[Segment.CS].set((int) vmx.read(HOST_CS_SELECTOR), 0, -1, codeAr);
        loadHostData(Segment.SS, HOST_SS_SELECTOR, 0);
        loadHostData(Segment.DS, HOST_DS_SELECTOR, 0);
        loadHostData(Segment.ES, HOST_ES_SELECTOR, 0);
        loadHostData(Segment.FS, HOST_FS_SELECTOR, vmx.read(HOST_FS_BASE));
        loadHostData(Segment.GS, HOST_GS_SELECTOR, vmx.read(HOST_GS_BASE));
        cpu.tr.set((int) vmx.read(HOST_TR_SELECTOR), vmx.read(HOST_TR_BASE), 0x67, 0xB | Segment.AR_P);
        cpu.ldtr.set(0, 0, 0, Segment.AR_UNUSABLE);
        cpu.setGdtr(vmx.read(HOST_GDTR_BASE), cpu.gdtrLimit);
        cpu.setGdtr(cpu.gdtrBase, 0xFFFF);
        cpu.setIdtr(vmx.read(HOST_IDTR_BASE), cpu.idtrLimit);
        cpu.setIdtr(cpu.idtrBase, 0xFFFF);
        // SDM 28.5.3: RIP, RSP, RFLAGS (all flags cleared but bit 1)
        cpu.rip = vmx.read(HOST_RIP);
        cpu.gpr[Cpu.RSP] = vmx.read(HOST_RSP);
        cpu.setRflags(Rflags.FIXED1);
        cpu.cpl = 0;
        cpu.interruptShadow = 0;
        cpu.activityState = 0;
        if (nmiExit) cpu.nmiBlocked = true;
        cpu.nonRoot = false;
        vmx.intercepts.leaveNonRoot();
        cpu.stateChanged();
        // without VPIDs a VM exit invalidates all linear mappings (SDM 29.4.3.1); the MMU keeps a
        // translation set only where that cannot be told apart from the flush (Mmu.vmTransition)
        cpu.mmu.vmTransition();
        // SDM 28.6: VM-exit MSR-load area
        int failed = MsrAreas.load(cpu, vmx.read(VM_EXIT_MSR_LOAD_ADDR), vmx.read32(VM_EXIT_MSR_LOAD_COUNT));
        if (failed != 0) vmx.exit.abort(VmExit.ABORT_LOADING_HOST_MSRS);
    }
    private void loadHostData(int s, VmcsField selectorField, long base) {
        int selector = (int) vmx.read(selectorField);
        int ar = selector == 0 ? Segment.AR_UNUSABLE : 3 | Segment.AR_S | Segment.AR_P | Segment.AR_DB | Segment.AR_G;
        cpu.seg[s].set(selector, base, -1, ar);
    }
    void loadGuestState() {
        int entryControls = vmx.read32(VM_ENTRY_CONTROLS);
        boolean ia32e = EntryControl.IA32E_MODE_GUEST.isSet(entryControls);
        // 27.3.2.1 control registers, debug registers, MSRs
        long keep = VmExit.CR0_UNMODIFIED;
        cpu.setCr0((cpu.cr0 & keep) | (vmx.read(GUEST_CR0) & ~keep));
        cpu.setCr3(vmx.read(GUEST_CR3));
        cpu.setCr4(vmx.read(GUEST_CR4));
        if (EntryControl.LOAD_DEBUG_CONTROLS.isSet(entryControls)) {
            cpu.dr[7] = (vmx.read(GUEST_DR7) & ~(1L << 12 | 3L << 14)) | 0x400; // bits 12, 15:14 read 0, bit 10 reads 1
            cpu.setDebugCtl(vmx.read(GUEST_IA32_DEBUGCTL));
        }
        cpu.setSysenterCs(vmx.read(GUEST_SYSENTER_CS));
        cpu.setSysenterEsp(vmx.read(GUEST_SYSENTER_ESP));
        cpu.setSysenterEip(vmx.read(GUEST_SYSENTER_EIP));
        if (EntryControl.LOAD_IA32_PAT.isSet(entryControls)) cpu.setPat(vmx.read(GUEST_IA32_PAT));
        if (EntryControl.LOAD_IA32_PERF_GLOBAL_CTRL.isSet(entryControls)) vmx.perfGlobalCtrl = vmx.read(GUEST_IA32_PERF_GLOBAL_CTRL);
        if (EntryControl.LOAD_IA32_EFER.isSet(entryControls)) {
            cpu.setEfer(vmx.read(GUEST_IA32_EFER));
        } else {
            // LMA follows "IA-32e mode guest"; LME too when the guest has paging on
            cpu.setEfer(ia32e ? cpu.efer | Cr.EFER_LMA : cpu.efer & ~Cr.EFER_LMA);
            if ((cpu.cr0 & Cr.CR0_PG) != 0) cpu.setEfer(ia32e ? cpu.efer | Cr.EFER_LME : cpu.efer & ~Cr.EFER_LME);
        }
        // 27.3.2.2 segment and descriptor-table registers (unusable segments keep the unusable bit)
        for (int s = 0; s < 6; s++) loadSegment(s, cpu.seg[s]);
        loadSegment(6, cpu.ldtr);
        loadSegment(7, cpu.tr);
        cpu.setGdtr(vmx.read(GUEST_GDTR_BASE), cpu.gdtrLimit);
        cpu.setGdtr(cpu.gdtrBase, vmx.read32(GUEST_GDTR_LIMIT));
        cpu.setIdtr(vmx.read(GUEST_IDTR_BASE), cpu.idtrLimit);
        cpu.setIdtr(cpu.idtrBase, vmx.read32(GUEST_IDTR_LIMIT));
        // 27.3.2.3 RIP, RSP, RFLAGS
        cpu.rip = vmx.read(GUEST_RIP);
        cpu.gpr[Cpu.RSP] = vmx.read(GUEST_RSP);
        cpu.setRflags(vmx.read(GUEST_RFLAGS));
        // the CPL is SS.DPL (SDM 27.3.2.2)
        cpu.cpl = cpu.seg[Segment.SS].dpl();
        // 27.3.2.5 non-register state: interruptibility and activity
        int interruptibility = vmx.read32(GUEST_INTERRUPTIBILITY_INFO);
        cpu.interruptShadow = interruptibility & 3;
        vmx.intercepts.loadNmiBlocking((interruptibility & 1 << 3) != 0);
        cpu.activityState = vmx.read32(GUEST_ACTIVITY_STATE);
        cpu.pendingDebugExceptions = vmx.entry.pendingDebugExceptions();
        cpu.stateChanged();
        // SDM 27.3.2.4: PAE paging outside IA-32e mode loads the PDPTEs (the checks validated them)
        if ((cpu.cr0 & Cr.CR0_PG) != 0 && (cpu.cr4 & Cr.CR4_PAE) != 0 && (cpu.efer & Cr.EFER_LMA) == 0) {
            cpu.mmu.loadPdptes(cpu.cr3);
        }
        // without VPIDs a VM entry invalidates all linear mappings (SDM 29.4.3.1); the MMU keeps a
        // translation set only where that cannot be told apart from the flush (Mmu.vmTransition)
        cpu.mmu.vmTransition();
    }
    private void loadSegment(int s, Segment seg) {
        seg.set((int) vmx.read(VmExit.GUEST_SELECTOR[s]), vmx.read(VmExit.GUEST_BASE[s]),
                (int) vmx.read(VmExit.GUEST_LIMIT[s]), (int) vmx.read(VmExit.GUEST_AR[s]) & 0x1F0FF);
    }
}
