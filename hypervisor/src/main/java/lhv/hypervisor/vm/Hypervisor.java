package lhv.hypervisor.vm;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Msr;
import lhv.cpu.NotImplemented;
import lhv.cpu.StopReason;
import lhv.cpu.intercept.Sensitive;
import lhv.cpu.intercept.VmExitSignal;
import lhv.cpu.model.CpuModel;
import lhv.hypervisor.config.ConfigError;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.exits.ExitAction;
import lhv.hypervisor.exits.ExitDispatch;
import lhv.hypervisor.exits.MsrFile;
import lhv.hypervisor.exits.Vcpu;
import lhv.hypervisor.exits.VmExit;
import lhv.hypervisor.setup.CheckedVmcs;
import lhv.hypervisor.setup.ControlSelection;
import lhv.hypervisor.setup.ControlSelection.Controls;
import lhv.hypervisor.setup.GuestImage;
import lhv.hypervisor.setup.HostEnvironment;
import lhv.hypervisor.setup.MachineRegions;
import lhv.hypervisor.setup.MachineRegions.Region;
import lhv.hypervisor.setup.VmcsBuilder;
import lhv.hypervisor.setup.VmxFailure;
import lhv.hypervisor.trace.Console;
import lhv.hypervisor.trace.ExitRecord;
import lhv.hypervisor.trace.ExitStats;
import lhv.hypervisor.trace.ExitTrace;
import lhv.hypervisor.trace.GuestState;
import lhv.vmx.Vmx;
import lhv.vmx.VmxResult;
import lhv.vmx.caps.FeatureControl;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.vmcs.VmcsField;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The seed's hypervisor, start to end, in the order of its hyp_init: detect VMX, enable VMX
 * operation (CR4.VMXE, IA32_FEATURE_CONTROL, CR0/CR4 fixed bits), VMXON region, VMCS region
 * (VMCLEAR, VMPTRLD), control fields, bitmaps, masks and shadows, host and guest state, VMLAUNCH,
 * then the exit loop (read the exit information, dispatch to one handler per reason, VMRESUME)
 * until the guest ends; then VMXOFF and freeing every region — on success and on every failure.
 *
 * <p>Context: Java host acting as VMX root software. It drives the processor only through the VMX
 * Java API ({@link Vmx}) and the processor's own instructions' semantics (MOV CR, RDMSR/WRMSR
 * through the system unit), as the seed's module drives silicon.
 */
public final class Hypervisor {
    /** Where the allocator starts: below is left alone (real-mode IVT/BDA area on a PC). */
    static final long POOL_BASE = 0x10000;
    /** Guest memory starts here (the multiboot load address); host regions live below it. */
    static final long GUEST_BASE = 0x100000;
    /** Instructions per cpu.run slice when a wall-clock timeout has to be checked. */
    static final long SLICE = 1 << 20;

    private final Function<RunSetup, Board> boards;

    /** {@code boards} builds the machine for a run (memory size, processor model). */
    public Hypervisor(Function<RunSetup, Board> boards) {
        this.boards = boards;
    }

    /** What the board factory is asked for. */
    public record RunSetup(long memorySize, CpuModel model, java.io.PrintStream console) { }

    /** The built-in demo guest image (guests/demo/demo.bin, packaged in the jar). */
    public static byte[] demoImage() {
        return resource("/lhv/hypervisor/guests/demo/demo.bin");
    }

    public static byte[] resource(String path) {
        try (InputStream in = Hypervisor.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("missing resource " + path);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The processor model called {@code name} (null: the default model with VMX). */
    public static CpuModel model(String name) {
        if (name == null || name.equals(CpuModel.withVmx().name) || name.equals("default")) return CpuModel.withVmx();
        if (name.equals(CpuModel.withoutVmx().name) || name.equals("novmx")) return CpuModel.withoutVmx();
        throw new IllegalArgumentException("unknown CPU model '" + name + "' (known: " + CpuModel.withVmx().name
                + ", " + CpuModel.withoutVmx().name + ")");
    }

    /** Runs one VM as {@code options} say; never throws for guest or VMX failures, it reports them. */
    public RunResult run(RunOptions options) {
        return new Run(options).execute();
    }

    /** One run's state: what has been allocated so far, so every exit path frees exactly that. */
    private final class Run {
        final RunOptions o;
        final VmConfig config;
        final Console console;
        final CpuModel model;
        final VmxCapabilities caps;
        final ExitStats stats = new ExitStats();
        Board board;
        Cpu cpu;
        Vmx vmx;
        MachineRegions alloc;
        final List<Region> regions = new ArrayList<>();
        boolean vmxOn;
        CheckedVmcs vmcs;
        ExitTrace trace;
        GuestState finalState;

        Run(RunOptions o) {
            this.o = o;
            this.config = o.config();
            this.console = o.console();
            this.model = model(o.cpuModel());
            this.caps = VmxCapabilities.forModel(model);
        }

        RunResult execute() {
            ExitAction.End end;
            try {
                // Everything the config can get wrong is found before the machine exists.
                Controls controls = caps != null ? ControlSelection.select(config, caps) : null;
                byte[] image = o.image() != null ? Files.readAllBytes(o.image())
                        : config.guest().image() != null ? Files.readAllBytes(config.guest().image()) : demoImage();
                board = boards.apply(new RunSetup(config.memorySize(), model, console.guestOutput()));
                cpu = board.cpu();
                end = bringUpAndRun(controls, image);
            } catch (VmxFailure | MachineRegions.OutOfMachineMemory e) {
                end = ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, e.getMessage());
            } catch (GuestImage.BadImage e) {
                end = ExitAction.failed(ExitAction.STATUS_USAGE, e.getMessage());
            } catch (IOException e) {
                end = ExitAction.failed(ExitAction.STATUS_USAGE, "cannot read guest image: " + e.getMessage());
            } catch (CpuFault f) {
                end = ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, "the host faulted during VMX operation: " + f.getMessage());
            } catch (NotImplemented n) {
                end = ExitAction.failed(ExitAction.STATUS_NOT_IMPLEMENTED, "not implemented in this processor: " + n.getMessage());
            } catch (ConfigError e) {
                throw e;   // the user's configuration: reported by the caller with its file position
            } catch (RuntimeException | StackOverflowError e) {
                // The last line of defence: a defect of the emulator or the hypervisor, not a guest
                // event. Report it in one line and still tear down and free everything.
                end = ExitAction.failed(ExitAction.STATUS_INTERNAL_ERROR, internalError(e));
            } finally {
                if (trace != null) trace.close();
            }
            try {
                end = teardown(end);
            } catch (RuntimeException | StackOverflowError e) {
                end = worse(end, ExitAction.failed(ExitAction.STATUS_INTERNAL_ERROR, "during teardown: " + internalError(e)));
            }
            if (end.status() == ExitAction.STATUS_NO_VMX) console.error(end.why());   // the seed's own line
            else if (end.failure()) console.error("hv: " + end.why());
            else console.step("run ended: " + end.why());
            int left = alloc == null ? 0 : alloc.live().size();
            long allocated = alloc == null ? 0 : alloc.allocations();
            if (board != null) board.close();
            return new RunResult(end.status(), end.why(), end.failure(), stats, left, allocated);
        }

        String internalError(Throwable e) {
            String at = cpu == null ? "" : String.format(" at rip %#x%s", cpu.rip, cpu.nonRoot ? " (guest)" : "");
            return "internal error: " + e + at;
        }

        ExitAction.End bringUpAndRun(Controls controls, byte[] image) {
            // 1. VMX support: CPUID.1:ECX.VMX[bit 5] (SDM 24.6), executed on the processor as the seed does.
            cpu.gpr[Cpu.RAX] = 1;
            cpu.gpr[Cpu.RCX] = 0;
            cpu.sys.cpuid();
            if ((cpu.gpr[Cpu.RCX] & CpuModel.ECX1_VMX) == 0 || board.vmx() == null) {
                return ExitAction.failed(ExitAction.STATUS_NO_VMX, "VMX support not present");
            }
            console.seed("VMX support present! continuing...");
            vmx = board.vmx();
            alloc = new MachineRegions(board.memory(), POOL_BASE, board.memory().ramSize());

            // Guest memory first, at the addresses the guest expects; the host's regions go below it.
            regions.add(alloc.allocateAt("guest memory", GUEST_BASE, board.memory().ramSize() - GUEST_BASE));
            long entry = GuestImage.load(o.image() != null ? o.image().toString() : "guest image", image,
                    board.memory().ram(), GUEST_BASE, board.memory().ramSize(), config.guest().loadAddress(), config.guest().entry());
            console.step(String.format("guest image: %d bytes at %#x, entry %#x", image.length, config.guest().loadAddress(), entry));
            HostEnvironment host = new HostEnvironment(alloc, board.memory().ram(), board.memory().ramSize());
            regions.addAll(host.regions());
            host.enter(cpu);
            console.step(String.format("host context: 64-bit mode, CR3 %#x, GDT %#x, TSS %#x", host.pml4, host.gdtBase, host.tssBase));

            // 2. Enable VMX operation (SDM 24.7, 24.8).
            enableVmxOperation();
            // 3. VMXON region (SDM 25.11.5).
            Region vmxonRegion = region("VMXON region", caps.regionSize());
            board.memory().ram().set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, vmxonRegion.base(), revisionId());
            check("VMXON", vmx.vmxon(vmxonRegion.base()));
            vmxOn = true;
            console.seed("VMXON Region setup success");
            // 4. VMCS region: revision id, VMCLEAR, VMPTRLD (SDM 25.2, 25.11.3).
            Region vmcsRegion = region("VMCS region", caps.regionSize());
            board.memory().ram().set(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, vmcsRegion.base(), revisionId());
            check("VMCLEAR", vmx.vmclear(vmcsRegion.base()));
            check("VMPTRLD", vmx.vmptrld(vmcsRegion.base()));
            console.seed("VMCS Region setup success");
            vmcs = new CheckedVmcs(vmx);

            // 5-8. Control fields, bitmaps, masks, targets, MSR areas, host and guest state.
            VmcsBuilder b = new VmcsBuilder(vmcs, cpu, caps, alloc);
            try {
                b.controls(controls, config);
                console.step(String.format("controls: pin %#x primary %#x secondary %#x exit %#x entry %#x",
                        controls.pin(), controls.primary(), controls.secondary(), controls.exit(), controls.entry()));
                b.ioBitmaps(config);
                b.crMasksAndShadows(config);
                b.cr3Targets(config);
                b.msrBitmap(config);
                b.msrAreas(config);
                b.hostState(host);
                b.guestState();
                b.entryPoint(entry, config.guest().stackTop());
            } finally {
                regions.addAll(b.regions());
            }
            console.seed("VMCS control fields set successfully");
            if (!o.afterSetup().test(vmcs)) return ExitAction.guestEnded(0, "stopped after VMCS set-up");

            MsrFile msrs = new MsrFile();
            for (int msr : config.msrWriteTraps()) {
                try {
                    msrs.define(msr, cpu.sys.rdmsr(msr));
                } catch (CpuFault f) {
                    console.step("trapped MSR " + lhv.hypervisor.config.MsrNames.name(msr) + " is not implemented: accesses get #GP");
                }
            }
            Vcpu vcpu = new Vcpu(vmcs, cpu, board.memory(), board.ports(), board::hasDevice, board::debugExitStatus,
                    config, console, msrs, caps);
            if (o.trace() != null) trace = new ExitTrace(o.trace());
            return exitLoop(vcpu);
        }

        /** CR4.VMXE, the IA32_FEATURE_CONTROL lock and VMXON-outside-SMX bits, CR0/CR4 fixed bits. */
        void enableVmxOperation() {
            cpu.sys.writeCr(4, cpu.cr4 | Cr.CR4_VMXE);
            long required = FeatureControl.LOCK | FeatureControl.VMXON_OUTSIDE_SMX;
            long fc = cpu.sys.rdmsr(Msr.IA32_FEATURE_CONTROL);
            if ((fc & FeatureControl.LOCK) != 0 && (fc & required) != required) {
                throw new VmxFailure("Feature Control MSR is locked with incompatible settings (0x" + Long.toHexString(fc) + ")");
            }
            if ((fc & required) != required) {
                cpu.sys.wrmsr(Msr.IA32_FEATURE_CONTROL, fc | required);
                console.step("IA32_FEATURE_CONTROL: 0x" + Long.toHexString(fc) + " -> 0x" + Long.toHexString(fc | required));
            }
            long cr0 = (cpu.cr0 | cpu.sys.rdmsr(Msr.IA32_VMX_CR0_FIXED0)) & cpu.sys.rdmsr(Msr.IA32_VMX_CR0_FIXED1);
            cpu.sys.writeCr(0, cr0);
            long cr4 = ((cpu.cr4 | cpu.sys.rdmsr(Msr.IA32_VMX_CR4_FIXED0)) & cpu.sys.rdmsr(Msr.IA32_VMX_CR4_FIXED1)) | Cr.CR4_VMXE;
            cpu.sys.writeCr(4, cr4);
            console.step(String.format("CR0 %#x, CR4 %#x (VMX fixed bits applied)", cpu.cr0, cpu.cr4));
        }

        int revisionId() {
            return (int) (cpu.sys.rdmsr(Msr.IA32_VMX_BASIC) & 0x7FFFFFFF);
        }

        Region region(String name, long size) {
            Region r = alloc.allocate(name, Math.max(size, MachineRegions.PAGE));
            regions.add(r);
            console.step(name + " at 0x" + Long.toHexString(r.base()));
            return r;
        }

        void check(String what, VmxResult r) {
            if (!r.succeeded()) throw new VmxFailure(what + " failed: " + CheckedVmcs.describe(r));
        }

        /** VMLAUNCH, then run / read exit / dispatch / VMRESUME until a handler ends the run. */
        ExitAction.End exitLoop(Vcpu vcpu) {
            ExitDispatch dispatch = new ExitDispatch();
            VmExit exit = new VmExit(trace != null);
            long started = System.nanoTime();
            long startedCpu = ExitStats.threadCpuNanos();
            long startInsns = cpu.instructionsRetired;
            long deadline = o.timeoutMillis() > 0 ? started + o.timeoutMillis() * 1_000_000L : Long.MAX_VALUE;
            long spent = 0;   // instruction budget used (retired, or a whole budget a fault storm used up)
            ExitAction.End end = null;
            VmxResult entered = vmx.vmlaunch();
            String entryInstruction = "VMLAUNCH";
            // The loop keeps only the round trip (run, handle the exit, VMRESUME); every rarer outcome
            // is decided in a method of its own, so the loop's compiled code stays small and the same
            // whichever outcomes a run happened to reach first.
            while (end == null) {
                if (!entered.succeeded()) {
                    end = entryFailed(entered, entryInstruction, exit, vcpu);
                    break;
                }
                long budget = Long.MAX_VALUE;
                if (o.maxInstructions() > 0) budget = o.maxInstructions() - spent;
                if (deadline != Long.MAX_VALUE) budget = Math.min(budget, SLICE);
                long before = cpu.instructionsRetired;
                StopReason s = budget <= 0 ? StopReason.INSTRUCTION_LIMIT : cpu.run(budget);
                // A fault storm uses the budget without retiring instructions (Interpreter.loop).
                spent += s == StopReason.INSTRUCTION_LIMIT ? Math.max(budget, 0) : cpu.instructionsRetired - before;
                if (s == StopReason.VM_EXIT) {
                    end = handleExit(exit, vcpu, dispatch);
                    if (end == null && deadline != Long.MAX_VALUE && System.nanoTime() >= deadline) {
                        // an exit-heavy guest may never use up a slice: check the clock at exits too
                        end = timeout();
                    }
                    if (end == null) {
                        entered = vmx.vmresume();
                        entryInstruction = "VMRESUME";
                    }
                } else {
                    end = stopped(s, spent, deadline);
                }
            }
            long cpuNow = ExitStats.threadCpuNanos();
            stats.finish(cpu.instructionsRetired - startInsns, System.nanoTime() - started, cpuNow < 0 ? -1 : cpuNow - startedCpu);
            if (cpu.nonRoot) leaveNonRoot(exit, vcpu);
            if (!cpu.nonRoot && vmcs != null) finalState = guestState();
            return end;
        }

        /** VMLAUNCH/VMRESUME did not enter: a VM-entry failure (exit 33/34) or a VMfail. */
        ExitAction.End entryFailed(VmxResult entered, String entryInstruction, VmExit exit, Vcpu vcpu) {
            if (entered instanceof VmxResult.EntryFailed f) return entryFailure(f, exit, vcpu);
            return ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, entryInstruction + " failed: " + CheckedVmcs.describe(entered)
                    + diagnosis());
        }

        ExitAction.End timeout() {
            return ExitAction.failed(ExitAction.STATUS_TIMEOUT, "timeout after " + o.timeoutMillis() + " ms");
        }

        /** The run stopped other than by a VM exit: how the run ends, or null to run on (a slice used up). */
        ExitAction.End stopped(StopReason s, long spent, long deadline) {
            return switch (s) {
                case VM_EXIT -> throw new IllegalArgumentException("a VM exit is handled by the loop");
                case INSTRUCTION_LIMIT -> {
                    if (o.maxInstructions() > 0 && spent >= o.maxInstructions()) {
                        yield ExitAction.failed(ExitAction.STATUS_LIMIT, "instruction limit reached (" + o.maxInstructions() + " guest instructions)");
                    }
                    yield System.nanoTime() >= deadline ? timeout() : null;
                }
                case REQUESTED -> {
                    int status = board.debugExitStatus();
                    yield status >= 0 ? ExitAction.guestEnded(status, "the guest wrote the debug-exit port (status " + status + ")")
                            : ExitAction.failed(ExitAction.STATUS_LIMIT, "the machine asked to stop");
                }
                case SHUTDOWN -> ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "the processor shut down in VMX non-root operation");
                case HALTED -> ExitAction.guestEnded(0, "the guest halted");
                case NOT_IMPLEMENTED -> ExitAction.failed(ExitAction.STATUS_NOT_IMPLEMENTED,
                        "the guest used an instruction this processor does not implement (rip 0x" + Long.toHexString(cpu.rip) + ")");
            };
        }

        /** Reads the exit information, counts and traces the exit, prints the seed's line, dispatches. */
        ExitAction.End handleExit(VmExit exit, Vcpu vcpu, ExitDispatch dispatch) {
            readExit(exit, vcpu);
            if (o.atExit() > 0 && exit.seq == o.atExit()) {
                exit.readAll();   // the hook may write the VMCS: the trace records the exit as it happened
                o.atExitHook().accept(vmcs);
                writeTrace(exit);
                return ExitAction.guestEnded(0, "stopped at exit " + exit.seq);
            }
            ExitAction a = dispatch.dispatch(exit, vcpu);
            writeTrace(exit);
            vcpu.exitsHandled++;
            return a instanceof ExitAction.End e ? e : null;
        }

        void readExit(VmExit exit, Vcpu vcpu) {
            // the qualification and instruction length are read when first asked for (VmExit)
            int reason = vmcs.read32(VmcsField.VM_EXIT_REASON);
            long rip = vmcs.read(VmcsField.GUEST_RIP);
            exit.begin(vcpu.exitsHandled + 1, reason, rip, vmcs);
            stats.count(exit.basicReason(), VmExit::nameOf);
            if (!console.quiet()) {
                console.seed("VM exit reason is [" + exit.basicReason() + "] " + exit.name());
                console.step(String.format("exit %d at rip %#x, qualification %#x, length %d", exit.seq, rip,
                        exit.qualification(), exit.length()));
            }
        }

        void writeTrace(VmExit exit) {
            if (trace != null) {
                trace.write(new ExitRecord(exit.seq, exit.basicReason(), exit.name(), exit.qualification(), exit.rip, exit.length(), exit.decoded()));
            }
        }

        /** VM-entry failure (exit reason 33 or 34): host state is loaded, report the failed check. */
        ExitAction.End entryFailure(VmxResult.EntryFailed f, VmExit exit, Vcpu vcpu) {
            exit.begin(vcpu.exitsHandled + 1, f.exitReason(), f.qualification(), vmcs.read(VmcsField.GUEST_RIP), 0);
            stats.count(exit.basicReason(), VmExit::nameOf);
            console.seed("VM exit reason is [" + exit.basicReason() + "] " + exit.name() + " (VM-entry failure)");
            exit.note("entry_failure", true);
            exit.note("diagnosis", f.diagnosis());
            writeTrace(exit);
            return ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, "VM entry failed: " + f.diagnosis());
        }

        /** For VMfailValid 7/8: every failing check the VMX layer can name. */
        String diagnosis() {
            return EntryDiagnosis.lines(vmx);
        }

        /**
         * A run that ends without a VM exit (limit, timeout, untrapped debug-exit) leaves the processor
         * in VMX non-root operation, where VMXOFF cannot run. The host regains control as a real one
         * would: an INIT signal, which causes a VM exit unconditionally in VMX non-root operation
         * (SDM 26.2).
         */
        void leaveNonRoot(VmExit exit, Vcpu vcpu) {
            forceExit();
            if (!cpu.nonRoot) {
                readExit(exit, vcpu);
                writeTrace(exit);
            }
        }

        void forceExit() {
            try {
                cpu.vmx.intercept(cpu, Sensitive.INIT, null, 0, 0);
            } catch (VmExitSignal signal) {
                // the exit happened: host state is loaded
            } catch (RuntimeException e) {
                console.step("could not force a VM exit: " + e);
            }
        }

        GuestState guestState() {
            long[] gpr = cpu.gpr.clone();
            gpr[Cpu.RSP] = vmcs.read(VmcsField.GUEST_RSP);
            int[] sel = {
                    vmcs.read32(VmcsField.GUEST_ES_SELECTOR), vmcs.read32(VmcsField.GUEST_CS_SELECTOR),
                    vmcs.read32(VmcsField.GUEST_SS_SELECTOR), vmcs.read32(VmcsField.GUEST_DS_SELECTOR),
                    vmcs.read32(VmcsField.GUEST_FS_SELECTOR), vmcs.read32(VmcsField.GUEST_GS_SELECTOR),
                    vmcs.read32(VmcsField.GUEST_LDTR_SELECTOR), vmcs.read32(VmcsField.GUEST_TR_SELECTOR)};
            return new GuestState(gpr, vmcs.read(VmcsField.GUEST_RIP), vmcs.read(VmcsField.GUEST_RFLAGS),
                    vmcs.read(VmcsField.GUEST_CR0), cpu.cr2, vmcs.read(VmcsField.GUEST_CR3), vmcs.read(VmcsField.GUEST_CR4),
                    cpu.efer, sel);
        }

        /** 10. VMXOFF, then free every region, whatever happened before. */
        ExitAction.End teardown(ExitAction.End end) {
            if (finalState != null && o.dumpState() != null) {
                try (OutputStream out = Files.newOutputStream(o.dumpState())) {
                    finalState.writeJson(out);
                } catch (IOException e) {
                    console.error("hv: cannot write " + o.dumpState() + ": " + e.getMessage());
                }
            }
            if (vmxOn) {
                try {
                    if (cpu.nonRoot) forceExit();
                    if (cpu.nonRoot) {
                        end = worse(end, ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, "could not leave VMX non-root operation; VMXOFF skipped"));
                    } else {
                        VmxResult r = vmx.vmxoff();
                        if (r.succeeded()) console.seed("VMXOFF operation succeeded!");
                        else end = worse(end, ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, "VMXOFF failed: " + CheckedVmcs.describe(r)));
                    }
                } catch (CpuFault f) {
                    end = worse(end, ExitAction.failed(ExitAction.STATUS_VMX_FAILURE, "VMXOFF faulted: " + f.getMessage()));
                }
                vmxOn = false;
            }
            for (int i = regions.size() - 1; i >= 0; i--) {
                alloc.free(regions.get(i));
                console.step("freed " + regions.get(i));
            }
            regions.clear();
            return end;
        }

        ExitAction.End worse(ExitAction.End a, ExitAction.End b) {
            return a != null && a.failure() ? a : b;
        }
    }

}
