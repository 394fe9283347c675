package lhv.hypervisor.vm;

import lhv.hypervisor.config.VmConfig;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One configuration per seed feature (the files of examples/), run with the demo guest; each asserts
 * the exact exit sequence of the trace (the demo's own exit-counting hypercalls left out).
 */
class FeatureConfigTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            seed.yaml             | CPUID CPUID MSR_READ CR_ACCESS CR_ACCESS CR_ACCESS VMCALL HLT
            io-bitmaps.yaml       | CPUID CPUID IO_INSTRUCTION IO_INSTRUCTION IO_INSTRUCTION VMCALL HLT
            msr-bitmap.yaml       | CPUID CPUID MSR_WRITE MSR_READ VMCALL HLT
            cr-masks.yaml         | CPUID CPUID CR_ACCESS CR_ACCESS VMCALL HLT
            cr3-targets.yaml      | CPUID CPUID CR_ACCESS VMCALL HLT
            exception-bitmap.yaml | CPUID CPUID EXCEPTION_NMI VMCALL HLT
            msr-areas.yaml        | CPUID CPUID VMCALL HLT
            cpuid-vmx-visible.yaml| CPUID CPUID IO_INSTRUCTION IO_INSTRUCTION IO_INSTRUCTION MSR_WRITE MSR_READ CR_ACCESS CR_ACCESS CR_ACCESS EXCEPTION_NMI VMCALL HLT
            minimal.json          | CPUID CPUID IO_INSTRUCTION IO_INSTRUCTION IO_INSTRUCTION MSR_WRITE MSR_READ CR_ACCESS CR_ACCESS CR_ACCESS EXCEPTION_NMI VMCALL HLT
            complete.yaml         | CPUID CPUID IO_INSTRUCTION IO_INSTRUCTION IO_INSTRUCTION MSR_WRITE MSR_READ CR_ACCESS CR_ACCESS CR_ACCESS EXCEPTION_NMI VMCALL HLT
            """)
    void exactExitSequence(String example, String expected) throws Exception {
        Runs r = Runs.run(Runs.example(example));
        assertEquals(0, r.result.status(), r.errors);
        assertEquals(Arrays.asList(expected.split(" ")), r.namesWithoutCounting());
        assertEquals(0, r.result.regionsLeft());
    }

    @Test
    void seedConfigTrapsOnlyReadsOfSysenterCs() throws Exception {
        Runs r = Runs.run(Runs.example("seed.yaml"));
        // WRMSR runs natively; the trapped RDMSR returns the guest's real value from the VMCS.
        assertTrue(r.uart.contains("IA32_SYSENTER_CS (in the MSR bitmap): wrote 0x10, read 0x10  exits=1"), r.uart);
        assertTrue(r.uart.contains("(PG masked, from the shadow): 0x50033  exits=0"), r.uart);
    }

    @Test
    void withoutMasksTheGuestSeesTheRealCrs() throws Exception {
        Runs r = Runs.run(Runs.example("io-bitmaps.yaml"));
        assertTrue(r.uart.contains("cr0       read (PG masked, from the shadow): 0x80050033  exits=0"), r.uart);
        assertTrue(r.uart.contains("cr3       write of non-target value 0x"), r.uart);
        assertTrue(r.uart.contains("UART scratch): wrote 0x5a, read 0x5a  exits=2"), r.uart);
    }

    @Test
    void vmxVisibleOnlyWhenAsked() throws Exception {
        Runs r = Runs.run(Runs.example("cpuid-vmx-visible.yaml"));
        assertTrue(r.uart.contains("CPUID.1:ECX.VMX as seen = 0x1"), r.uart);
    }

    @Test
    void msrAreasGetAddressesAndCounts() throws Exception {
        long[] f = new long[6];
        Runs r = Runs.run(Runs.example("msr-areas.yaml"), o -> o.withAfterSetup(v -> {
            f[0] = v.read(VmcsField.VM_EXIT_MSR_STORE_COUNT);
            f[1] = v.read(VmcsField.VM_EXIT_MSR_LOAD_COUNT);
            f[2] = v.read(VmcsField.VM_ENTRY_MSR_LOAD_COUNT);
            f[3] = v.read(VmcsField.VM_EXIT_MSR_STORE_ADDR);
            f[4] = v.read(VmcsField.VM_EXIT_MSR_LOAD_ADDR);
            f[5] = v.read(VmcsField.VM_ENTRY_MSR_LOAD_ADDR);
            return true;
        }));
        assertEquals(0, r.result.status(), r.errors);
        assertEquals(List.of(2L, 1L, 1L), List.of(f[0], f[1], f[2]));
        for (int i = 3; i < 6; i++) assertEquals(0, f[i] & 0xF, "16-byte aligned (SDM 27.2.1.2)");
        // The entry-load area sets IA32_SYSENTER_CS = 0x10 on every entry; the guest writes 0x10 too.
        assertTrue(r.uart.contains("wrote 0x10, read 0x10  exits=0"), r.uart);
    }

    @Test
    void preemptionTimerEndsTheRun() throws Exception {
        Runs r = Runs.run(Runs.example("preemption-timer.yaml"));
        assertEquals(6, r.result.status());
        assertEquals("PREEMPTION_TIMER", r.names().getLast());
        assertEquals(52, r.trace.getLast().get("reason").asInt());
        assertEquals(0, r.result.regionsLeft());
        assertTrue(r.console.contains("VMXOFF operation succeeded!"), r.console);
    }

    @Test
    void defaultsAreTheSeedsChoicesPlusTheDemoTraps() throws Exception {
        VmConfig d = VmConfig.defaults();
        VmConfig complete = Runs.example("complete.yaml");
        assertEquals(d.ioTraps(), complete.ioTraps());
        assertEquals(d.cr3Targets(), complete.cr3Targets());
        assertEquals(d.exitMsrStore(), complete.exitMsrStore());
        assertEquals(d.exceptionBitmap(), complete.exceptionBitmap());
    }
}
