package lhv.vmx;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.decode.Insn;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.Virtualization;
import lhv.cpu.intercept.VmxInstruction;
import java.util.List;
import lhv.vmx.caps.FeatureControl;
import lhv.vmx.entry.CheckFailure;
import lhv.vmx.entry.EntryChecks;
import lhv.vmx.entry.EntryContext;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.caps.VmxMsrs;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.insn.Vmclear;
import lhv.vmx.insn.VmFail;
import lhv.vmx.insn.VmlaunchVmresume;
import lhv.vmx.insn.Vmptrld;
import lhv.vmx.insn.VmreadVmwrite;
import lhv.vmx.insn.Vmxoff;
import lhv.vmx.insn.Vmxon;
import lhv.vmx.insn.X86VmxInstructions;
import lhv.vmx.nonroot.Intercepts;
import lhv.vmx.transition.VmEntry;
import lhv.vmx.transition.VmExit;
import lhv.vmx.vmcs.Vmcs;
import lhv.vmx.vmcs.VmcsField;

/**
 * The VMX unit of one logical processor (SDM Vol. 3C chapters 24-31): VMX operation state (VMXON
 * pointer, current VMCS), the VMX instructions, VM entry, non-root intercepts and VM exits.
 *
 * <p>Context: installed as {@link Cpu#vmx}. The interpreter calls {@link #execute} for VMX
 * instructions (guest x86 code, root or non-root), {@link #intercept} for sensitive actions in VMX
 * non-root operation and {@link #atBoundary} between instructions while {@link Cpu#boundaryWork}
 * is set. The hosted hypervisor (Java VMX root software) uses the Java API below instead of x86
 * instructions; each call behaves as the instruction executed at CPL 0 in the processor's current
 * state (faults are thrown as {@link CpuFault}).
 *
 * <p>Hosted semantics of VMLAUNCH/VMRESUME: a successful entry leaves the processor in VMX non-root
 * operation; the caller runs it with {@link Cpu#run}, which returns {@code StopReason.VM_EXIT}
 * after a VM exit (host state loaded, exit information readable with {@link #vmread}). An entry
 * that fails after the control and host-state checks returns {@link VmxResult.EntryFailed}: the
 * resulting exit (reason 33/34) has already happened and no run is needed.
 *
 * <p>A hosted hypervisor uses it in the seed's order:
 * <ol>
 *   <li>{@code Vmx vmx = Vmx.attach(cpu, VmxCapabilities.skylakeClient())}; set CR4.VMXE (and the CR0/CR4
 *       bits IA32_VMX_CR0/CR4_FIXED0 require) and lock IA32_FEATURE_CONTROL with "VMXON outside SMX".</li>
 *   <li>Write the revision identifier ({@code caps.revisionId()}) to a 4 KiB VMXON region and call
 *       {@link #vmxon}; do the same for a VMCS region, then {@link #vmclear} and {@link #vmptrld} it.</li>
 *   <li>{@link #vmwrite} controls, host state and guest state ({@link #diagnoseCurrentVmcs} lists every
 *       entry check the VMCS would fail).</li>
 *   <li>{@link #vmlaunch}, then {@code cpu.run(n)} until it returns {@code StopReason.VM_EXIT}; read the
 *       exit with {@link #vmread}, handle it, {@link #vmresume} and run again.</li>
 *   <li>{@link #vmclear} and {@link #vmxoff} to tear down.</li>
 * </ol>
 */
public final class Vmx implements Virtualization {
    public static final long INVALID_POINTER = -1L;

    public final Cpu cpu;
    public final VmxCapabilities caps;
    /** IA32_FEATURE_CONTROL of this processor (served by {@link #msrs}). */
    public final FeatureControl featureControl;
    /** The VMX capability MSRs and IA32_FEATURE_CONTROL, registered with the processor's RDMSR/WRMSR. */
    public final VmxMsrs msrs;

    // ---- VMX operation state (SDM 24.x, 25.1) ----
    /** In VMX operation (after VMXON, before VMXOFF); root or non-root per {@link Cpu#nonRoot}. */
    public boolean inVmxOperation;
    public long vmxonPointer = INVALID_POINTER;
    /** The current VMCS (cached); its pointer is the current-VMCS pointer. */
    public final Vmcs vmcs = new Vmcs();
    /**
     * IA32_PERF_GLOBAL_CTRL as VM entries and exits load it ("load IA32_PERF_GLOBAL_CTRL" controls).
     * The processor has no performance counters; the value is kept so the controls behave (QUIRKS).
     */
    public long perfGlobalCtrl;
    /** True when the VMX root software of the running guest is Java (entry came through the Java API). */
    public boolean hostIsJava;

    public final VmEntry entry;
    public final VmExit exit;
    public final Intercepts intercepts;
    private final X86VmxInstructions x86;

    private Vmx(Cpu cpu, VmxCapabilities caps) {
        this.cpu = cpu;
        this.caps = caps;
        this.featureControl = FeatureControl.atReset();
        this.msrs = new VmxMsrs(caps, featureControl);
        this.entry = new VmEntry(this);
        this.exit = new VmExit(this);
        this.intercepts = new Intercepts(this);
        this.x86 = new X86VmxInstructions(this);
    }

    /** Gives {@code cpu} VMX with the capabilities {@code caps} and installs it as {@link Cpu#vmx}. */
    public static Vmx attach(Cpu cpu, VmxCapabilities caps) {
        Vmx vmx = new Vmx(cpu, caps);
        cpu.vmx = vmx;
        cpu.addMsrProvider(vmx.msrs, false);
        return vmx;
    }

    /**
     * RESET (SDM Vol. 3A 10.1): the processor leaves VMX operation. A guest is abandoned without a
     * VM exit; the current VMCS is written back to its region (its contents are undefined on
     * silicon) and forgotten, like the VMXON region. IA32_FEATURE_CONTROL keeps its value (the
     * firmware-set lock survives a RESET of this model; on hardware only power-up clears it).
     */
    @Override
    public void reset(Cpu cpu) {
        if (cpu.nonRoot) intercepts.leaveNonRoot();
        if (hasCurrentVmcs()) vmcs.flush(cpu.mem);
        inVmxOperation = false;
        vmxonPointer = INVALID_POINTER;
        hostIsJava = false;
    }

    /** Width of the physical addresses VMX accepts for its regions (SDM A.1: 32 when IA32_VMX_BASIC[48] is set). */
    public int vmxAddressWidth() {
        return caps.limitsAddressesTo32Bits() ? 32 : cpu.mmu.maxPhysAddr();
    }

    /** What the VM-entry checks need besides the VMCS (SDM 27.2.4: IA-32e mode at the time of entry). */
    public EntryContext entryContext() {
        EntryContext c = entryContext;
        int width = cpu.mmu.maxPhysAddr();
        boolean lma = (cpu.efer & Cr.EFER_LMA) != 0;
        long pointer = vmcs.pointer();
        if (c == null || c.physicalAddressWidth() != width || c.memory() != cpu.mem || c.hostIa32eMode() != lma
                || c.currentVmcsPointer() != pointer) {
            c = entryContext = EntryContext.of(caps, width, cpu.mem, lma, pointer);
        }
        return c;
    }

    /** The last context built (immutable; rebuilt when an input changes, not on every VM entry). */
    private EntryContext entryContext;

    /**
     * Every VM-entry check the current VMCS fails, in SDM order (diagnose mode, for {@code hv check});
     * empty when VMLAUNCH/VMRESUME would enter. Throws IllegalStateException without a current VMCS.
     */
    public List<CheckFailure> diagnoseCurrentVmcs() {
        if (!hasCurrentVmcs()) throw new IllegalStateException("no current VMCS");
        return EntryChecks.all(vmcs.snapshot(), entryContext());
    }

    /** The current-VMCS pointer, or {@link #INVALID_POINTER}. */
    public long currentVmcsPointer() {
        return vmcs.pointer();
    }

    public boolean hasCurrentVmcs() {
        return vmcs.isLoaded();
    }

    // ---- field access for the VMX units (current VMCS) ----
    public long read(VmcsField f) {
        return vmcs.read(f);
    }

    public int read32(VmcsField f) {
        return (int) vmcs.read(f);
    }

    public void write(VmcsField f, long value) {
        vmcs.write(f, value);
    }

    // ---- Virtualization (called by the interpreter) ----
    @Override
    public void execute(Cpu cpu, VmxInstruction which, Insn insn) {
        x86.execute(which, insn);
    }

    @Override
    public boolean executeEnds(Cpu cpu, VmxInstruction which, Insn insn) {
        if (which != VmxInstruction.VMCALL || !cpu.nonRoot) {
            x86.execute(which, insn);
            return false;
        }
        // a hypercall: its exit may end the instruction through the run loop (VmExit.allowReturn)
        boolean exited;
        exit.allowReturn();
        try {
            x86.execute(which, insn);
        } finally {
            exited = exit.disallowReturn();
        }
        return exited;
    }

    @Override
    public long intercept(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
        return intercepts.intercept(what, insn, a, b);
    }

    @Override
    public boolean interceptEnds(Cpu cpu, Sensitive what, Insn insn, long a, long b) {
        boolean exited;
        exit.allowReturn();
        try {
            intercepts.intercept(what, insn, a, b);
        } finally {
            exited = exit.disallowReturn();
        }
        return exited;
    }

    @Override
    public void atBoundary(Cpu cpu) {
        intercepts.atBoundary();
    }

    // ---- Java API for the hosted hypervisor (VMX root software in Java) ----

    /** Mode checks every VMX instruction makes first (#UD outside protected mode, in v8086 or compatibility mode). */
    private void requireRootJavaCaller(boolean needVmxOperation) {
        // one test on the exit loop's path (every VMRESUME); the cold method below tells the cases apart
        if (cpu.nonRoot || (cpu.cr0 & Cr.CR0_PE) == 0 || cpu.mode == Mode.VIRTUAL_8086 || cpu.mode == Mode.COMPATIBILITY
                || needVmxOperation && !inVmxOperation) {
            rootJavaCallerRefused(needVmxOperation);
        }
    }

    /** Why {@link #requireRootJavaCaller} refuses: non-root operation first, then the #UD cases. */
    private void rootJavaCallerRefused(boolean needVmxOperation) {
        if (cpu.nonRoot) throw new IllegalStateException("VMX instruction from Java while the processor is in VMX non-root operation");
        if ((cpu.cr0 & Cr.CR0_PE) == 0 || cpu.mode == Mode.VIRTUAL_8086 || cpu.mode == Mode.COMPATIBILITY) throw CpuFault.ud();
        if (needVmxOperation && !inVmxOperation) throw CpuFault.ud();
        throw new AssertionError("requireRootJavaCaller refused without a reason");
    }

    /** VMXON with the VMXON pointer {@code pa} (SDM 31.3 VMXON). */
    public VmxResult vmxon(long pa) {
        requireRootJavaCaller(false);
        if ((cpu.cr4 & Cr.CR4_VMXE) == 0) throw CpuFault.ud();
        if (inVmxOperation) return VmFail.of(this, VmInstructionError.VMXON_IN_VMX_ROOT_OPERATION);
        Vmxon.precheck(this);
        return Vmxon.execute(this, pa);
    }

    public VmxResult vmxoff() {
        requireRootJavaCaller(true);
        return Vmxoff.execute(this);
    }

    public VmxResult vmclear(long pa) {
        requireRootJavaCaller(true);
        return Vmclear.execute(this, pa);
    }

    public VmxResult vmptrld(long pa) {
        requireRootJavaCaller(true);
        return Vmptrld.execute(this, pa);
    }

    /** VMPTRST: the current-VMCS pointer (FFFFFFFF_FFFFFFFFH when there is none). */
    public long vmptrst() {
        requireRootJavaCaller(true);
        return vmcs.pointer();
    }

    public VmReadResult vmread(VmcsField field) {
        return vmread(field.encoding);
    }

    public VmReadResult vmread(long encoding) {
        requireRootJavaCaller(true);
        return VmreadVmwrite.vmread(this, encoding);
    }

    public VmxResult vmwrite(VmcsField field, long value) {
        return vmwrite(field.encoding, value);
    }

    public VmxResult vmwrite(long encoding, long value) {
        requireRootJavaCaller(true);
        return VmreadVmwrite.vmwrite(this, encoding, value);
    }

    /**
     * True when VMREAD of {@code field} from Java would succeed now: root operation at CPL 0 in a
     * mode where VMX instructions run, in VMX operation, a current VMCS, and a field this processor
     * supports (the checks of {@link #vmread}, without building a result). The hosted hypervisor then
     * reads the value with {@link #read}; when false, {@link #vmread} gives the exact failure.
     */
    public boolean vmreadSucceeds(VmcsField field) {
        return inVmxOperation && !cpu.nonRoot && (cpu.cr0 & Cr.CR0_PE) != 0 && cpu.mode != Mode.VIRTUAL_8086
                && cpu.mode != Mode.COMPATIBILITY && vmcs.isLoaded() && caps.supports(field);
    }

    /**
     * True when VMWRITE of {@code field} from Java would succeed now: the checks of
     * {@link #vmreadSucceeds}, and the field is writable (not a read-only exit-information field, or
     * IA32_VMX_MISC[29] allows it). The value is then stored with {@link #write}.
     */
    public boolean vmwriteSucceeds(VmcsField field) {
        return vmreadSucceeds(field) && (!field.isReadOnly() || caps.vmwriteAnyField());
    }

    public VmxResult vmlaunch() {
        requireRootJavaCaller(true);
        return VmlaunchVmresume.execute(this, true, true);
    }

    public VmxResult vmresume() {
        requireRootJavaCaller(true);
        return VmlaunchVmresume.execute(this, false, true);
    }

    /** The RFLAGS effect of a VMX instruction result (SDM 31.2): used by the x86 instruction path. */
    public void applyToRflags(VmxResult r) {
        long f = cpu.getRflags() & ~Rflags.STATUS;
        if (r instanceof VmxResult.FailInvalid) f |= Rflags.CF;
        else if (r instanceof VmxResult.FailValid) f |= Rflags.ZF;
        cpu.setRflags(f);
    }
}
