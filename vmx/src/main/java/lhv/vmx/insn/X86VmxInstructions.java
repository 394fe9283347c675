package lhv.vmx.insn;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.VmxInstruction;
import lhv.vmx.Vmx;
import lhv.vmx.VmReadResult;
import lhv.vmx.VmxResult;
import lhv.vmx.exit.ExitQualification;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.exit.InstructionInformation;
import lhv.vmx.exit.VmInstructionError;

/**
 * The VMX instructions as x86 instructions (SDM Vol. 3C 31.3): the checks every one of them makes
 * in order — #UD (register operand where memory is required, outside VMX operation, CR0.PE = 0,
 * virtual-8086 mode, compatibility mode), the VM exit in VMX non-root operation, #GP(0) at CPL > 0 —
 * then operand access through the MMU, the operation (one class per instruction in this package) and
 * its RFLAGS result.
 *
 * <p>Context: guest instruction execution; cpu.rip already points to the next instruction and
 * {@code cpu.instructionStart} to this one.
 */
public final class X86VmxInstructions {
    private final Vmx vmx;
    private final Cpu cpu;

    public X86VmxInstructions(Vmx vmx) {
        this.vmx = vmx;
        this.cpu = vmx.cpu;
    }

    public void execute(VmxInstruction which, Insn insn) {
        switch (which) {
            case VMXON -> vmxon(insn);
            case VMCALL -> vmcall(insn);
            // EPT, VPID and VM functions are not offered (IA32_VMX_EPT_VPID_CAP reports no INVEPT/INVVPID,
            // "enable VM functions" cannot be set): the instructions are undefined (SDM 31.3 INVEPT, INVVPID, VMFUNC).
            case INVEPT, INVVPID, VMFUNC -> throw CpuFault.ud();
            default -> inVmxOperation(which, insn);
        }
    }

    private boolean badMode() {
        return (cpu.cr0 & Cr.CR0_PE) == 0 || cpu.mode == Mode.VIRTUAL_8086 || cpu.mode == Mode.COMPATIBILITY;
    }

    /** VMXON: #UD checks include CR4.VMXE; outside VMX operation its own #GP checks, inside it fails (15). */
    private void vmxon(Insn insn) {
        if (!insn.mem || (cpu.cr4 & Cr.CR4_VMXE) == 0 || badMode()) throw CpuFault.ud();
        if (!vmx.inVmxOperation) {
            if (cpu.cpl > 0) throw CpuFault.gp0();
            Vmxon.precheck(vmx);
            long pa = cpu.mmu.read64(insn.seg, effectiveAddress(insn));
            vmx.applyToRflags(Vmxon.execute(vmx, pa));
        } else if (cpu.nonRoot) {
            exitFor(ExitReason.VMON, insn);
        } else {
            if (cpu.cpl > 0) throw CpuFault.gp0();
            finish(VmFail.of(vmx, VmInstructionError.VMXON_IN_VMX_ROOT_OPERATION));
        }
    }

    /** VMCALL: #UD outside VMX operation; in non-root it exits before the mode checks (SDM 31.3 VMCALL). */
    private void vmcall(Insn insn) {
        if (!vmx.inVmxOperation) throw CpuFault.ud();
        if (cpu.nonRoot) {
            exitFor(ExitReason.VMCALL, insn);
            return;   // reached only when the exit returned instead of throwing (Vmx.executeEnds)
        }
        if (cpu.mode == Mode.VIRTUAL_8086 || cpu.mode == Mode.COMPATIBILITY) throw CpuFault.ud();
        if (cpu.cpl > 0) throw CpuFault.gp0();
        finish(Vmcall.inRoot(vmx));
    }

    private void inVmxOperation(VmxInstruction which, Insn insn) {
        boolean memoryOnly = which == VmxInstruction.VMCLEAR || which == VmxInstruction.VMPTRLD || which == VmxInstruction.VMPTRST;
        if ((memoryOnly && !insn.mem) || !vmx.inVmxOperation || badMode()) throw CpuFault.ud();
        if (cpu.nonRoot) exitFor(exitReason(which), insn);
        if (cpu.cpl > 0) throw CpuFault.gp0();
        switch (which) {
            case VMXOFF -> finish(Vmxoff.execute(vmx));
            case VMCLEAR -> finish(Vmclear.execute(vmx, cpu.mmu.read64(insn.seg, effectiveAddress(insn))));
            case VMPTRLD -> finish(Vmptrld.execute(vmx, cpu.mmu.read64(insn.seg, effectiveAddress(insn))));
            case VMPTRST -> {
                cpu.mmu.write64(insn.seg, effectiveAddress(insn), vmx.currentVmcsPointer());
                finish(VmxResult.SUCCEEDED);
            }
            case VMREAD -> vmread(insn);
            case VMWRITE -> vmwrite(insn);
            case VMLAUNCH, VMRESUME -> vmentry(which == VmxInstruction.VMLAUNCH);
            default -> throw new IllegalStateException(which.name());
        }
    }

    /** Outside 64-bit mode VMREAD/VMWRITE operands are 32 bits (SDM 31.3 VMREAD). */
    private boolean longMode() {
        return cpu.mode == Mode.LONG64;
    }

    /** VMREAD r/m, reg: the encoding is in ModRM.reg, the destination is r/m. */
    private void vmread(Insn insn) {
        long encoding = cpu.gpr[insn.reg];
        if (!longMode()) encoding &= 0xFFFF_FFFFL;
        VmReadResult r = VmreadVmwrite.vmread(vmx, encoding);
        if (r instanceof VmReadResult.Value(long value)) {
            if (insn.mem) {
                long ea = effectiveAddress(insn);
                if (longMode()) cpu.mmu.write64(insn.seg, ea, value); else cpu.mmu.write32(insn.seg, ea, (int) value);
            } else {
                cpu.gpr[insn.rm] = longMode() ? value : value & 0xFFFF_FFFFL;
            }
            finish(VmxResult.SUCCEEDED);
        } else {
            finish(((VmReadResult.Failed) r).failure());
        }
    }

    /** VMWRITE reg, r/m: the encoding is in ModRM.reg, the value in r/m. */
    private void vmwrite(Insn insn) {
        long value;
        if (insn.mem) {
            long ea = effectiveAddress(insn);
            value = longMode() ? cpu.mmu.read64(insn.seg, ea) : cpu.mmu.read32(insn.seg, ea) & 0xFFFF_FFFFL;
        } else {
            value = longMode() ? cpu.gpr[insn.rm] : cpu.gpr[insn.rm] & 0xFFFF_FFFFL;
        }
        long encoding = cpu.gpr[insn.reg];
        if (!longMode()) encoding &= 0xFFFF_FFFFL;
        finish(VmreadVmwrite.vmwrite(vmx, encoding, value));
    }

    private void vmentry(boolean launch) {
        VmxResult r = VmlaunchVmresume.execute(vmx, launch, false);
        // a successful entry (or a failed one that exited to the host) must not touch the flags it loaded
        if (r instanceof VmxResult.Succeeded || r instanceof VmxResult.EntryFailed) return;
        vmx.applyToRflags(r);
    }

    private void finish(VmxResult r) {
        vmx.applyToRflags(r);
    }

    private static ExitReason exitReason(VmxInstruction which) {
        return switch (which) {
            case VMXOFF -> ExitReason.VMOFF;
            case VMCLEAR -> ExitReason.VMCLEAR;
            case VMPTRLD -> ExitReason.VMPTRLD;
            case VMPTRST -> ExitReason.VMPTRST;
            case VMREAD -> ExitReason.VMREAD;
            case VMWRITE -> ExitReason.VMWRITE;
            case VMLAUNCH -> ExitReason.VMLAUNCH;
            case VMRESUME -> ExitReason.VMRESUME;
            default -> throw new IllegalStateException(which.name());
        };
    }

    /**
     * VM exit caused by a VMX instruction in non-root operation (SDM 26.1.2): qualification = the
     * displacement (SDM 28.2.1), instruction information for the instructions with an r/m operand
     * (SDM 28.2.5 Table 28-14).
     */
    private void exitFor(ExitReason reason, Insn insn) {
        long qualification = 0;
        int info = 0;
        switch (reason) {
            case VMCLEAR, VMPTRLD, VMPTRST, VMON, VMREAD, VMWRITE -> {
                qualification = ExitQualification.displacement(insn, cpu.rip);
                info = InstructionInformation.vmxInstruction(insn);
            }
            default -> { }
        }
        vmx.exit.instructionExit(reason.number, qualification, insn.length, info, 0);
    }

    /** Effective address (offset within insn.seg) of the memory operand (SDM Vol. 1 3.7.5). */
    private long effectiveAddress(Insn insn) {
        return lhv.cpu.exec.Operands.ea(cpu, insn);
    }
}
