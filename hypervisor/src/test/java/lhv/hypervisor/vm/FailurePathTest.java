package lhv.hypervisor.vm;

import lhv.cpu.model.CpuModel;
import lhv.hypervisor.config.ConfigError;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.exits.ExitAction;
import lhv.vmx.caps.FeatureControl;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way a run can end other than the demo's HLT, each with its status, its one-line report and
 * the proof that teardown freed every machine-memory region and closed the board.
 */
class FailurePathTest {
    /** jmp $ */
    static final int[] SPIN = {0xEB, 0xFE};
    /** ud2 */
    static final int[] UD2 = {0x0F, 0x0B};

    private static void cleanedUp(Runs r) {
        assertEquals(0, r.result.regionsLeft(), "every region freed");
        assertTrue(r.board == null || r.board.closed, "board closed");
    }

    @Test
    void processorWithoutVmx() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withCpuModel(CpuModel.withoutVmx().name));
        assertEquals(ExitAction.STATUS_NO_VMX, r.result.status());
        assertEquals("VMX support not present\n", r.errors.replace(System.lineSeparator(), "\n"));
        assertFalse(r.console.contains("VMX support present"));
        assertEquals(0, r.result.regionsAllocated());
        cleanedUp(r);
    }

    @Test
    void featureControlLockedWithoutVmxon() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o, b -> b.vmx.featureControl.write(FeatureControl.LOCK));
        assertEquals(ExitAction.STATUS_VMX_FAILURE, r.result.status());
        assertTrue(r.errors.contains("Feature Control MSR is locked with incompatible settings (0x1)"), r.errors);
        assertFalse(r.console.contains("VMXON Region setup success"));
        assertTrue(r.result.regionsAllocated() > 0);
        cleanedUp(r);
    }

    @Test
    void vmLaunchFailsValidOnTheSeedsMistakes() throws Exception {
        Runs r = Runs.run(Runs.example("seed-mistakes.yaml"));
        assertEquals(ExitAction.STATUS_VMX_FAILURE, r.result.status());
        assertTrue(r.errors.contains("VMLAUNCH failed: VMfailValid, VM-instruction error 7 (VM entry with invalid control field(s))"), r.errors);
        assertTrue(r.errors.contains("VM-entry check failed [SDM 27.2.1"), r.errors);
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        cleanedUp(r);
    }

    @Test
    void entryFailsOnAnMsrTheProcessorCannotLoad() throws Exception {
        Runs r = Runs.run(Runs.yaml("msr-areas: {entry-load: [{msr: 0x12345678, value: 1}]}"));
        assertEquals(ExitAction.STATUS_VMX_FAILURE, r.result.status());
        assertTrue(r.errors.contains("VM entry failed"), r.errors);
        assertEquals(34, r.trace.getFirst().get("reason").asInt());
        assertEquals("MSR_LOAD_FAIL", r.trace.getFirst().get("name").asText());
        assertEquals("0x1", r.trace.getFirst().get("qualification").asText(), "the 1-based index of the failing entry (SDM 27.4)");
        assertTrue(r.console.contains("VM exit reason is [34] MSR_LOAD_FAIL"), r.console);
        cleanedUp(r);
    }

    @Test
    void invalidGuestStateIsReportedWithTheFailedCheck() throws Exception {
        // L=1 with D=1 in the guest's CS access rights (SDM 27.3.1.2), written after set-up.
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withAfterSetup(v -> {
            v.write(lhv.vmx.vmcs.VmcsField.GUEST_CS_AR_BYTES, 0xE09B);
            return true;
        }));
        assertEquals(ExitAction.STATUS_VMX_FAILURE, r.result.status());
        assertEquals(33, r.trace.getFirst().get("reason").asInt());
        assertEquals("INVALID_STATE", r.trace.getFirst().get("name").asText());
        assertTrue(r.errors.contains("VM entry failed: VM-entry check failed [SDM 27.3.1.2]"), r.errors);
        assertTrue(r.console.contains("VM exit reason is [33] INVALID_STATE (VM-entry failure)"), r.console);
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        cleanedUp(r);
    }

    @Test
    void failedVmwriteNamesFieldAndErrorAndUnwinds() throws Exception {
        // This processor has no EPT, so the EPT pointer field does not exist (SDM Appendix B footnote).
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withAfterSetup(v -> {
            v.write(lhv.vmx.vmcs.VmcsField.EPT_POINTER, 0);
            return true;
        }));
        assertEquals(ExitAction.STATUS_VMX_FAILURE, r.result.status());
        assertEquals("hv: VMWRITE EPT_POINTER = 0x0 failed: VMfailValid, VM-instruction error 12"
                + " (VMREAD/VMWRITE from/to unsupported VMCS component)\n", r.errors.replace(System.lineSeparator(), "\n"));
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        assertTrue(r.trace.isEmpty());
        cleanedUp(r);
    }

    @Test
    void anEmulatorDefectStillTearsDown() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withAfterSetup(v -> {
            throw new IllegalStateException("defect");
        }));
        assertEquals(ExitAction.STATUS_INTERNAL_ERROR, r.result.status());
        assertTrue(r.errors.startsWith("hv: internal error: java.lang.IllegalStateException: defect at "), r.errors);
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        cleanedUp(r);
    }

    @Test
    void tripleFault() throws Exception {
        // #UD with the host's empty IDT: #NP on the gate, then #DF, then shutdown (SDM 6.15).
        Runs r = Runs.run(Runs.yaml("exceptions: []"), o -> o.withImage(path(UD2)));
        assertEquals(ExitAction.STATUS_GUEST_FAULT, r.result.status());
        assertEquals("TRIPLE_FAULT", r.names().getLast());
        assertTrue(r.errors.contains("guest triple fault at rip 0x100000"), r.errors);
        cleanedUp(r);
    }

    @Test
    void exceptionConfiguredToStop() throws Exception {
        Runs r = Runs.run(Runs.yaml("exceptions: [UD]\nstop-on-exceptions: [UD]"), o -> o.withImage(path(UD2)));
        assertEquals(ExitAction.STATUS_GUEST_FAULT, r.result.status());
        assertTrue(r.errors.contains("guest exception #UD at rip 0x100000 (configured to stop)"), r.errors);
        cleanedUp(r);
    }

    @Test
    void instructionLimitLeavesNonRootAndTearsDown() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(SPIN)).withLimits(1000, 0));
        assertEquals(ExitAction.STATUS_LIMIT, r.result.status());
        assertTrue(r.errors.contains("instruction limit reached (1000 guest instructions)"), r.errors);
        assertEquals("INIT_SIGNAL", r.names().getLast(), "the host takes the processor back with INIT");
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        cleanedUp(r);
    }

    @Test
    void timeout() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(SPIN)).withLimits(0, 100));
        assertEquals(ExitAction.STATUS_TIMEOUT, r.result.status());
        assertTrue(r.errors.contains("timeout after 100 ms"), r.errors);
        cleanedUp(r);
    }

    @Test
    void timeoutAlsoStopsAnExitHeavyGuest() throws Exception {
        // loop: cpuid; jmp loop  - every instruction pair is a VM exit
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(0x0F, 0xA2, 0xEB, 0xFC)).withLimits(0, 100));
        assertEquals(ExitAction.STATUS_TIMEOUT, r.result.status());
        assertEquals("CPUID", r.names().getLast());
        cleanedUp(r);
    }

    @Test
    void exitHypercallGivesTheStatus() throws Exception {
        // mov eax, 0; mov ebx, 42; vmcall
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(0xB8, 0, 0, 0, 0, 0xBB, 42, 0, 0, 0, 0x0F, 0x01, 0xC1)));
        assertEquals(42, r.result.status());
        assertFalse(r.result.failure());
        assertEquals("VMCALL", r.names().getLast());
        assertEquals(0, r.trace.getLast().get("hypercall").asInt());
        cleanedUp(r);
    }

    @Test
    void debugExitThroughTheBitmap() throws Exception {
        // mov al, 3; out 0xF4, al; jmp $  -> status (3 << 1) | 1
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(0xB0, 3, 0xE6, 0xF4, 0xEB, 0xFE)));
        assertEquals(7, r.result.status());
        assertEquals("IO_INSTRUCTION", r.names().getLast());
        assertEquals("0xf4", r.trace.getLast().get("port").asText());
        cleanedUp(r);
    }

    @Test
    void debugExitWithoutTrapStillEndsCleanly() throws Exception {
        Runs r = Runs.run(Runs.yaml("io-traps: []"), o -> o.withImage(path(0xB0, 3, 0xE6, 0xF4, 0xEB, 0xFE)));
        assertEquals(7, r.result.status());
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
        cleanedUp(r);
    }

    @Test
    void imageOutsideGuestMemory() throws Exception {
        Runs r = Runs.run(Runs.yaml("guest: {load-address: 0xFFFFF0}"), o -> o.withImage(path(SPIN[0], SPIN[1], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)));
        assertEquals(ExitAction.STATUS_USAGE, r.result.status());
        assertTrue(r.errors.contains("is outside guest memory"), r.errors);
        cleanedUp(r);
    }

    @Test
    void badElf() throws Exception {
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(0x7F, 'E', 'L', 'F', 1, 1)));
        assertEquals(ExitAction.STATUS_USAGE, r.result.status());
        assertTrue(r.errors.contains("not a little-endian ELF64 file"), r.errors);
        cleanedUp(r);
    }

    @Test
    void unknownControlIsAConfigErrorBeforeAnythingRuns() {
        ConfigError e = assertThrows(ConfigError.class, () -> Runs.run(Runs.yaml("controls:\n  primary: [HLT exitting]")));
        assertTrue(e.line().startsWith("test.yaml:2:13: unknown control 'HLT exitting' in controls.primary"), e.line());
    }

    @Test
    void controlTheProcessorCannotSetIsAConfigError() {
        ConfigError e = assertThrows(ConfigError.class, () -> Runs.run(Runs.yaml("controls:\n  pin: [process posted interrupts]")));
        assertEquals("test.yaml:2:9: control 'process posted interrupts' (pin-based VM-execution controls bit 7) is not allowed"
                + " by this processor: IA32_VMX_TRUE_PINBASED_CTLS allowed-1 bit 39 is 0 (SDM A.3)", e.line());
        ConfigError ept = assertThrows(ConfigError.class, () -> Runs.run(Runs.yaml("controls: {secondary: [enable EPT]}")));
        assertTrue(ept.line().startsWith("test.yaml:1:24: control 'enable EPT'"), ept.line());
    }

    private static Path path(int... bytes) {
        return Runs.guest(bytes);
    }

    @Test
    void anEmulatorDefectIsAnInternalErrorAndStillTearsDown() throws Exception {
        // nop; out 0x99,al (port not trapped: the access reaches the board from the interpreter)
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(path(new int[] {0x90, 0xE6, 0x99, 0xF4})), b -> {
            lhv.cpu.bus.PortIo board = b.cpu.io;
            b.cpu.io = new lhv.cpu.bus.PortIo() {
                @Override public int in(int port, int size) { return board.in(port, size); }
                @Override public void out(int port, int size, int value) {
                    if (port == 0x99) throw new IllegalStateException("device defect");
                    board.out(port, size, value);
                }
            };
        });
        assertEquals(ExitAction.STATUS_INTERNAL_ERROR, r.result.status());
        assertTrue(r.errors.contains("hv: internal error: java.lang.IllegalStateException: device defect at rip 0x100001 (guest)"), r.errors);
        assertEquals(1, r.errors.lines().count(), r.errors);
        cleanedUp(r);
    }
}
