package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Msr;
import lhv.cpu.StopReason;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;
import lhv.vmx.vmcs.VmcsSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Instruction VM exits that return through the run loop instead of throwing VmExitSignal
 * (Virtualization.interceptEnds): the same guest run twice, once with returning exits and once
 * with every exit thrown, must leave the same trail — after every Cpu.run: the stop reason, the
 * general registers, RIP, RFLAGS, the retired-instruction count, control registers, and every VMCS
 * field. Covers each instruction that may return (CPUID, HLT, RDMSR, WRMSR, PAUSE, IN, OUT,
 * VMCALL), the single-step path (TF, STI shadow, monitor trap flag), budgets that end around the
 * exit, a stop request raised during the exit, and the VMX-abort case, which still throws.
 */
class ReturningExitTest {
    /** One scenario: guest code and the controls it needs. */
    record Scenario(String name, int[] code, Consumer<VmxTestbed> setup) { }

    static final int[] CPUID_LOOP = {
            0x41, 0xB8, 5, 0, 0, 0,   // mov r8d, 5
            0x31, 0xC0,               // L: xor eax, eax
            0x31, 0xC9,               // xor ecx, ecx
            0x0F, 0xA2,               // cpuid
            0x41, 0xFF, 0xC8,         // dec r8d
            0x75, 0xF5,               // jnz L
            0xF4};                    // hlt

    static List<Scenario> scenarios() {
        return List.of(
                new Scenario("cpuid loop", CPUID_LOOP, t -> t.primary(PrimaryProcessorControl.HLT_EXITING)),
                new Scenario("vmcall", new int[] {0x0F, 0x01, 0xC1, 0x0F, 0x01, 0xC1, 0xF4},
                        t -> t.primary(PrimaryProcessorControl.HLT_EXITING)),
                new Scenario("hlt without exiting", new int[] {0x0F, 0xA2, 0xF4}, t -> { }),
                new Scenario("rdmsr wrmsr", new int[] {0xB9, 0x74, 0x01, 0, 0, 0x0F, 0x32, 0x0F, 0x30, 0x0F, 0x32, 0xF4},   // ecx=0x174
                        t -> t.primary(PrimaryProcessorControl.HLT_EXITING)),
                new Scenario("pause", new int[] {0xF3, 0x90, 0xF3, 0x90, 0x0F, 0xA2},
                        t -> t.primary(PrimaryProcessorControl.PAUSE_EXITING)),
                new Scenario("in out", new int[] {0xE4, 0x80, 0xE6, 0x80, 0x66, 0xBA, 0x00, 0x80, 0xEC, 0xEE, 0x0F, 0xA2},
                        t -> t.primary(PrimaryProcessorControl.UNCONDITIONAL_IO_EXITING)),
                new Scenario("single-step cpuid", CPUID_LOOP, t -> {
                    t.primary(PrimaryProcessorControl.HLT_EXITING);
                    t.w(GUEST_RFLAGS, 0x102);
                    t.w(EXCEPTION_BITMAP, 1 << 1);   // each single-step #DB exits too
                }),
                new Scenario("sti shadow", new int[] {0xFB, 0x0F, 0xA2, 0x0F, 0xA2, 0xF4}, t -> t.primary(PrimaryProcessorControl.HLT_EXITING)),
                new Scenario("monitor trap flag", CPUID_LOOP,
                        t -> t.primary(PrimaryProcessorControl.MONITOR_TRAP_FLAG, PrimaryProcessorControl.HLT_EXITING)),
                // a stop request raised during the exit itself (the VM-exit MSR-store area reads an MSR
                // whose read asks the run loop to stop, as a board device can): the run must end with
                // VM_EXIT first and the stop must stay pending for the next run, as with the signal
                new Scenario("stop request pending", new int[] {0x0F, 0xA2, 0x0F, 0xA2, 0xF4}, t -> {
                    t.primary(PrimaryProcessorControl.HLT_EXITING);
                    t.w(VM_EXIT_MSR_STORE_ADDR, MSR_AREA);
                    t.w(VM_EXIT_MSR_STORE_COUNT, 1);
                    t.mem.write(MSR_AREA, 8, 0x1FF0);
                    t.cpu.addMsrProvider(new lhv.cpu.model.MsrProvider() {
                        @Override public boolean handles(int index) { return index == 0x1FF0; }
                        @Override public long read(Cpu cpu, int index) {
                            cpu.requestStop(StopReason.REQUESTED);
                            return 0;
                        }
                        @Override public void write(Cpu cpu, int index, long value) { }
                    }, false);
                }),
                new Scenario("vmx abort", new int[] {0x0F, 0xA2}, t -> {
                    t.w(VM_EXIT_MSR_STORE_ADDR, MSR_AREA);
                    t.w(VM_EXIT_MSR_STORE_COUNT, 1);
                    t.mem.write(MSR_AREA, 8, 0x4000_0000L);   // RDMSR of it is #GP: abort 1 (SDM 28.7)
                }),
                new Scenario("msr areas", CPUID_LOOP, t -> {
                    t.primary(PrimaryProcessorControl.HLT_EXITING);
                    for (VmcsField[] f : new VmcsField[][] {{VM_EXIT_MSR_STORE_ADDR, VM_EXIT_MSR_STORE_COUNT},
                            {VM_EXIT_MSR_LOAD_ADDR, VM_EXIT_MSR_LOAD_COUNT}, {VM_ENTRY_MSR_LOAD_ADDR, VM_ENTRY_MSR_LOAD_COUNT}}) {
                        t.w(f[0], MSR_AREA);
                        t.w(f[1], 1);
                    }
                    t.mem.write(MSR_AREA, 8, Msr.IA32_SYSENTER_CS);
                }));
    }

    /** Runs a scenario with a budget per Cpu.run, handling each exit by skipping the instruction. */
    static List<String> trail(Scenario s, boolean returning, long budget) {
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
        t.vmx.exit.setReturningExits(returning);
        for (int k = 0; k < s.code().length; k++) t.mem.write(GUEST_RIP0 + k, 1, s.code()[k]);
        s.setup().accept(t);
        t.launch();
        List<String> trail = new ArrayList<>();
        for (int round = 0; round < 40; round++) {
            StopReason r = t.cpu.run(budget);
            trail.add(state(t, r));
            if (r == StopReason.VM_EXIT) {
                long reason = t.r(VM_EXIT_REASON) & 0xFFFF;
                if (reason == 12) break;   // HLT: the end
                // exception and MTF exits are not instructions to skip (the #DB trap and MTF follow one)
                if (reason != 0 && reason != 37) t.w(GUEST_RIP, t.r(GUEST_RIP) + t.r(VM_EXIT_INSTRUCTION_LEN));
                lhv.vmx.VmxResult resumed = t.vmx.vmresume();
                if (!resumed.succeeded()) {   // the same in both modes, or the trails differ
                    trail.add("resume: " + resumed);
                    break;
                }
            } else if (r != StopReason.INSTRUCTION_LIMIT && r != StopReason.REQUESTED) {
                break;
            }
        }
        RETURNED[returning ? 1 : 0] += t.vmx.exit.returnedExits;
        return trail;
    }

    /** Exits that returned, per mode (0 thrown, 1 returning), summed over the runs of a test. */
    static final long[] RETURNED = new long[2];

    static String state(VmxTestbed t, StopReason r) {
        Cpu c = t.cpu;
        StringBuilder b = new StringBuilder(r.toString());
        for (long g : c.gpr) b.append(' ').append(Long.toHexString(g));
        b.append(" rip ").append(Long.toHexString(c.rip)).append(" rflags ").append(Long.toHexString(c.getRflags()))
                .append(" retired ").append(c.instructionsRetired).append(" cr0 ").append(Long.toHexString(c.cr0))
                .append(" cr3 ").append(Long.toHexString(c.cr3)).append(" cr4 ").append(Long.toHexString(c.cr4))
                .append(" nonroot ").append(c.nonRoot).append(" activity ").append(c.activityState)
                .append(" shadow ").append(c.interruptShadow).append(" pendingDbg ").append(c.pendingDebugExceptions);
        VmcsSnapshot v = t.vmx.vmcs.snapshot();
        for (VmcsField f : VmcsField.values()) b.append(' ').append(f.name()).append('=').append(Long.toHexString(v.get(f)));
        return b.toString();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 7, 64, 1000})
    void returningExitsLeaveTheSameTrailAsThrownOnes(long budget) {
        RETURNED[0] = RETURNED[1] = 0;
        for (Scenario s : scenarios()) {
            List<String> thrown = trail(s, false, budget), returned = trail(s, true, budget);
            assertEquals(thrown.size(), returned.size(), s.name() + ": number of runs");
            for (int i = 0; i < thrown.size(); i++) assertEquals(thrown.get(i), returned.get(i), s.name() + ", run " + i);
        }
        assertEquals(0, RETURNED[0], "with returning exits disabled every exit throws");
        assertTrue(RETURNED[1] > 0, "the returning path was taken");
    }

    @Test
    void everyScenarioResumesAfterEachExit() {
        for (Scenario s : scenarios()) {
            for (String run : trail(s, true, 1000)) assertFalse(run.startsWith("resume"), s.name() + ": " + run);
        }
    }

    @Test
    void aPendingStopRequestComesAfterTheExit() {
        Scenario s = scenarios().stream().filter(x -> x.name().equals("stop request pending")).findFirst().orElseThrow();
        List<String> runs = trail(s, true, 1000);
        assertTrue(runs.get(0).startsWith("VM_EXIT"), runs.get(0));
        assertTrue(runs.get(1).startsWith("REQUESTED"), runs.get(1));
    }

    /**
     * The testbed's guest shares the host's control registers, CS and SS: once the MMU keeps its
     * translation set across transitions (from the second round trip on: the first transitions start
     * watching table pages and issue the set), the interpreter's block chain survives every CPUID
     * round trip (a VM exit to Java and the VMRESUME), interpreted or translated, so no run looks its
     * first block up afresh.
     */
    @Test
    void theBlockChainSurvivesTheRoundTrips() {
        for (boolean translated : new boolean[] {false, true}) {
            VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
            if (translated) t.cpu.interpreter.setTranslationThreshold(0);
            for (int k = 0; k < CPUID_LOOP.length; k++) t.mem.write(GUEST_RIP0 + k, 1, CPUID_LOOP[k]);
            t.primary(PrimaryProcessorControl.HLT_EXITING);
            t.launch();
            long exits = 0, lookupsAfterThirdRun = -1;
            for (StopReason r = t.cpu.run(1000); r == StopReason.VM_EXIT; r = t.cpu.run(1000)) {
                exits++;
                if (exits == 3) lookupsAfterThirdRun = t.cpu.interpreter.fullLookups();
                if ((t.r(VM_EXIT_REASON) & 0xFFFF) == 12) break;
                t.w(GUEST_RIP, t.r(GUEST_RIP) + t.r(VM_EXIT_INSTRUCTION_LEN));
                t.ok(t.vmx.vmresume());
            }
            assertEquals(6, exits, "five CPUID exits and the HLT exit");
            assertEquals(lookupsAfterThirdRun, t.cpu.interpreter.fullLookups(), "translated " + translated);
        }
    }

    @Test
    void theCpuidLoopExitsOncePerIterationAndTheBlockPathReturns() {
        List<String> returned = trail(scenarios().get(0), true, 1000);
        assertEquals(6, returned.size(), "five CPUID exits and the HLT exit");
        for (String run : returned) assertTrue(run.startsWith("VM_EXIT"), run);
    }
}
