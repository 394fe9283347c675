package lhv.hypervisor.config;

import lhv.hypervisor.config.VmConfig.MsrEntry;
import lhv.hypervisor.config.VmConfig.PortRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    private static VmConfig yaml(String text) {
        return ConfigLoader.parse("vm.yaml", text, Path.of("."));
    }

    private static VmConfig json(String text) {
        return ConfigLoader.parse("vm.json", text, Path.of("."));
    }

    @Test
    void emptyFileKeepsTheSeedDefaults() {
        VmConfig c = yaml("");
        VmConfig d = VmConfig.defaults();
        assertEquals(d.cr3Targets(), c.cr3Targets());
        assertEquals(List.of(0x200000L, 0x300000L, 0x400000L, 0x500000L), c.cr3Targets());
        assertEquals(1L << 31, c.cr0().mask());
        assertEquals(1L << 20, c.cr4().mask());
        assertNull(c.cr0().shadow());
        assertEquals(List.of(0x174), c.msrReadTraps());
        assertEquals(16L << 20, c.memorySize());
    }

    @Test
    void everyItemByName() {
        VmConfig c = yaml("""
                memory: 32M
                controls:
                  primary: [HLT exiting, use I/O bitmaps]
                io-traps: [0x60, {from: 0x8000, to: 0x8003}]
                msr-traps: {read: [IA32_SYSENTER_CS, 0xC0000080], write: [IA32_LSTAR]}
                cr0: {mask: 0x80000001, shadow: 0x10}
                exceptions: [PF, "#GP", 3]
                stop-on-exceptions: [GP]
                page-fault: {mask: 2, match: 2}
                cr3-targets: [0x1000]
                msr-areas:
                  exit-store: [IA32_SYSENTER_ESP]
                  entry-load: [{msr: IA32_SYSENTER_CS, value: 0x10}]
                cpuid: {expose-vmx: true}
                preemption-timer: 1000
                seed-mistakes: [control-formula]
                """);
        assertEquals(32L << 20, c.memorySize());
        assertEquals(List.of("HLT exiting", "use I/O bitmaps"), c.controls().primary().stream().map(VmConfig.Named::name).toList());
        assertEquals(3, c.controls().primary().get(0).position().line());
        assertEquals(List.of(PortRange.of(0x60), new PortRange(0x8000, 0x8003)), c.ioTraps());
        assertTrue(c.trapsPort(0x8002));
        assertFalse(c.trapsPort(0x8004));
        assertEquals(List.of(0x174, 0xC0000080), c.msrReadTraps());
        assertEquals(List.of(0xC0000082), c.msrWriteTraps());
        assertEquals(0x80000001L, c.cr0().mask());
        assertEquals(0x10L, c.cr0().shadow());
        assertEquals((1 << 14) | (1 << 13) | (1 << 3), c.exceptionBitmap());
        assertEquals(1 << 13, c.stopOnExceptions());
        assertEquals(2, c.pageFaultErrorCodeMask());
        assertEquals(List.of(0x1000L), c.cr3Targets());
        assertEquals(List.of(new MsrEntry(0x175, 0)), c.exitMsrStore());
        assertEquals(List.of(new MsrEntry(0x174, 0x10)), c.entryMsrLoad());
        assertTrue(c.exposeVmx());
        assertEquals(1000, c.preemptionTimer());
        assertEquals(List.of(VmConfig.SeedMistake.CONTROL_FORMULA), c.seedMistakes());
    }

    @Test
    void jsonWorksToo() {
        VmConfig c = json("{\"io-traps\": [96, \"0x61\"], \"exceptions\": [\"UD\"]}");
        assertEquals(List.of(PortRange.of(96), PortRange.of(0x61)), c.ioTraps());
        assertEquals(1 << 6, c.exceptionBitmap());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            port out of range        | io-traps: [0x3F8, 0x10000]                    | vm.yaml:1:19: port 0x10000 is outside 0-0xFFFF
            port range reversed      | 'io-traps: [{from: 9, to: 3}]'                | vm.yaml:1:26: port range ends before it starts
            unknown key              | 'memroy: 16M'                                 | vm.yaml:1:1: unknown key 'memroy'
            unknown nested key       | 'cr0: {mask: 1, shadw: 2}'                    | vm.yaml:1:16: unknown key 'cr0.shadw'
            five CR3 targets         | 'cr3-targets: [1, 2, 3, 4, 5]'                | vm.yaml:1:27: at most 4 CR3-target values (SDM 25.6.7), found 5
            unknown exception        | 'exceptions: [PF, PX]'                        | vm.yaml:1:18: unknown exception mnemonic 'PX'
            unknown MSR              | 'msr-traps: {read: [IA32_SYSENTER_SC]}'       | vm.yaml:1:20: unknown MSR name 'IA32_SYSENTER_SC'
            wrong type               | 'exceptions: PF'                              | vm.yaml:1:13: exceptions must be a list, found a string
            bad memory               | 'memory: 3M'                                  | vm.yaml:1:9: memory must be a multiple of 4 KiB
            unknown mistake          | 'seed-mistakes: [typo]'                       | vm.yaml:1:17: unknown seed mistake 'typo'
            syntax                   | 'io-traps: [1, 2'                             | vm.yaml:1:
            """)
    void configErrorsAreOneLineWithThePosition(String what, String text, String expectedStart) {
        ConfigError e = assertThrows(ConfigError.class, () -> yaml(text));
        assertTrue(e.line().startsWith(expectedStart), () -> what + ": " + e.line());
        assertFalse(e.line().contains("\n"), e.line());
    }

    @Test
    void jsonErrorsCarryLineAndColumn() {
        ConfigError e = assertThrows(ConfigError.class, () -> json("{\n  \"io-traps\": [\n    70000\n  ]\n}"));
        assertEquals("vm.json:3:5: port 0x11170 is outside 0-0xFFFF (the I/O address space, SDM Vol. 1 19.2)", e.line());
    }

    @Test
    void msrNamesComeFromTheProcessorTable() {
        assertEquals(0x174, MsrNames.index("ia32_sysenter_cs"));
        assertEquals("IA32_EFER", MsrNames.name(0xC0000080));
        assertEquals("0x1234", MsrNames.name(0x1234));
    }
}
