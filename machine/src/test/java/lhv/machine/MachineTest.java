package lhv.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import lhv.cpu.model.CpuModel;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.LoadException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/** Runs tiny hand-assembled 64-bit flat binaries (bytes from nasm, listed beside each) to each way a run ends. */
class MachineTest {
    @TempDir Path dir;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    Machine machine(byte[] code) throws Exception {
        Path p = dir.resolve("flat.bin");
        Files.write(p, code);
        Machine m = Machine.builder().memory(16L << 20).console(console).build();
        m.boot(new BootImage(p, "flat.bin", "", List.of(), OptionalLong.of(0x100000)));
        return m;
    }

    static byte[] b(int... v) {
        byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++) r[i] = (byte) v[i];
        return r;
    }

    @Test
    void guestReadsFwCfgSignatureAndExitsWithA32BitWrite() throws Exception {
        // mov dx,0x510; xor eax,eax; out dx,ax; mov ecx,4; l: mov dx,0x511; in al,dx; mov dx,0x3f8; out dx,al;
        // dec ecx; jnz l; mov eax,0x42; out 0xf4,eax; hlt
        byte[] code = b(0x66, 0xba, 0x10, 0x05, 0x31, 0xc0, 0x66, 0xef, 0xb9, 0x04, 0x00, 0x00,
                0x00, 0x66, 0xba, 0x11, 0x05, 0xec, 0x66, 0xba, 0xf8, 0x03, 0xee, 0xff,
                0xc9, 0x75, 0xf2, 0xb8, 0x42, 0x00, 0x00, 0x00, 0xe7, 0xf4, 0xf4);
        try (Machine m = machine(code)) {
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            assertEquals(0x85, r.exitStatus());
            assertEquals("QEMU", console.toString());
            assertEquals("debug-exit, status 133 (value 0x42)", r.summary().substring(4, r.summary().indexOf(';')));
        }
    }

    /** A minimal ELF64 x86-64 executable: one PT_LOAD segment holding {@code code} at {@code addr}. */
    static byte[] elf64(long addr, byte[] code) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 + 56 + code.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, addr).putLong(32, 64)
                .putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putInt(68, 5).putLong(72, 120).putLong(80, addr).putLong(88, addr)
                .putLong(96, code.length).putLong(104, code.length).putLong(112, 0x1000);
        b.put(120, code);
        return b.array();
    }

    @Test
    void plainElf64RunsIn64BitModeWithIdentityPaging() throws Exception {
        // mov rax, [0x2000] (the PML4 entry, read through the identity map); out 0xf4, al
        byte[] code = b(0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x00, 0x00, 0xe6, 0xf4);
        Path p = dir.resolve("k.elf");
        Files.write(p, elf64(0x200000, code));
        try (Machine m = Machine.builder().memory(16L << 20).console(console).build()) {
            m.boot(BootImage.of(p));
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            // PML4[0] = PDPT | P | RW as loaded, plus the accessed flag the page walk set (SDM 4.8).
            assertEquals(0x3023, m.cpu().gpr[0]);
            assertEquals(0x23, m.debugExit().value());
            assertEquals(lhv.cpu.Mode.LONG64, m.cpu().mode);
        }
    }

    @Test
    void guestEchoesConsoleInputThroughTheUart() throws Exception {
        // next: mov dx,0x3fd; poll: in al,dx; test al,1; jz poll; mov dx,0x3f8; in al,dx; out dx,al;
        // cmp al,10; jne next; mov al,7; out 0xf4,al
        byte[] code = b(0x66, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xfb, 0x66, 0xba, 0xf8,
                0x03, 0xec, 0xee, 0x3c, 0x0a, 0x75, 0xed, 0xb0, 0x07, 0xe6, 0xf4);
        Path p = dir.resolve("echo.bin");
        Files.write(p, code);
        java.util.ArrayDeque<Integer> typed = new java.util.ArrayDeque<>();
        for (char c : "echo me\n".toCharArray()) typed.add((int) c);
        try (Machine m = Machine.builder().memory(16L << 20).console(console)
                .input(() -> typed.isEmpty() ? -1 : typed.poll()).build()) {
            m.boot(new BootImage(p, "echo.bin", "", List.of(), OptionalLong.of(0x100000)));
            RunResult r = m.run(new RunLimits(1_000_000, null));
            assertEquals(15, r.exitStatus(), r.summary());
            assertEquals("echo me\n", console.toString());
        }
    }

    @Test
    void guestLoadsAndStoresReachAnMmioWindow() throws Exception {
        // mov ebx,0xfee00020; mov dword [rbx+0x10],0x1234; mov eax,[rbx]; out 0xf4,al
        byte[] code = b(0xbb, 0x20, 0x00, 0xe0, 0xfe, 0xc7, 0x43, 0x10, 0x34, 0x12, 0x00, 0x00,
                0x8b, 0x03, 0xe6, 0xf4);
        List<String> accesses = new java.util.ArrayList<>();
        try (Machine m = machine(code)) {
            m.memory().mmio().register(0xFEE0_0000L, 0x1000, new lhv.platform.memory.MmioDevice() {
                @Override public long read(long offset, int size) { accesses.add("r" + offset + "/" + size); return 0x5A; }
                @Override public void write(long offset, int size, long value) { accesses.add("w" + offset + "/" + size + "=" + Long.toHexString(value)); }
            });
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            assertEquals(0x5A, m.debugExit().value());
            assertEquals(List.of("w48/4=1234", "r32/4"), accesses);
        }
    }

    @Test
    void mmioWindowInsideRamTakesPrecedence() throws Exception {
        // mov ebx,0xb8020; mov dword [rbx+0x10],0x1234; mov eax,[rbx]; out 0xf4,al
        byte[] code = b(0xbb, 0x20, 0x80, 0x0b, 0x00, 0xc7, 0x43, 0x10, 0x34, 0x12, 0x00, 0x00,
                0x8b, 0x03, 0xe6, 0xf4);
        List<String> accesses = new java.util.ArrayList<>();
        try (Machine m = machine(code)) {
            m.memory().mmio().register(0xB8000L, 0x8000, new lhv.platform.memory.MmioDevice() {
                @Override public long read(long offset, int size) { accesses.add("r" + offset + "/" + size); return 0x5A; }
                @Override public void write(long offset, int size, long value) { accesses.add("w" + offset + "/" + size + "=" + Long.toHexString(value)); }
            });
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            assertEquals(List.of("w48/4=1234", "r32/4"), accesses);
            assertEquals(0x5A, m.debugExit().value());
            assertEquals(0, m.memory().get32(0xB8030), "RAM behind the window untouched");
        }
    }

    @Test
    void hltWithInterruptsDisabledEndsWithStatusZero() throws Exception {
        try (Machine m = machine(b(0xfa, 0xf4))) { // cli; hlt
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.HALTED, r.outcome());
            assertEquals(0, r.exitStatus());
            assertEquals(2, r.instructions());
            assertTrue(r.summary().contains("HLT with interrupts disabled"), r.summary());
        }
    }

    @Test
    void hltWithInterruptsEnabledAlsoEndsTheRun() throws Exception {
        try (Machine m = machine(b(0xfb, 0xf4))) { // sti; hlt
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.HALTED, r.outcome());
            assertTrue(r.summary().contains("nothing on this board raises interrupts"), r.summary());
        }
    }

    @Test
    void tripleFaultIsAShutdown() throws Exception {
        try (Machine m = machine(b(0x0f, 0x0b))) { // ud2 with no IDT: #UD -> #GP -> #DF -> shutdown
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.SHUTDOWN, r.outcome());
            assertEquals(4, r.exitStatus());
        }
    }

    @Test
    void instructionLimitAcrossSlices() throws Exception {
        try (Machine m = machine(b(0xeb, 0xfe))) { // jmp $
            long n = Machine.SLICE * 2 + 5;
            RunResult r = m.run(new RunLimits(n, null));
            assertEquals(Outcome.INSTRUCTION_LIMIT, r.outcome());
            assertEquals(n, r.instructions());
            assertEquals(6, r.exitStatus());
        }
    }

    @Test
    void debugExitOnTheLastInstructionOfTheBudgetStillCounts() throws Exception {
        try (Machine m = machine(b(0xb0, 0x05, 0xe6, 0xf4, 0xeb, 0xfe))) { // mov al,5; out 0xf4,al; jmp $
            RunResult r = m.run(new RunLimits(2, null));
            assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary());
            assertEquals(11, r.exitStatus());
            assertEquals(2, r.instructions());
        }
    }

    @Test
    void wallClockTimeout() throws Exception {
        try (Machine m = machine(b(0xeb, 0xfe))) {
            RunResult r = m.run(new RunLimits(0, Duration.ofMillis(200)));
            assertEquals(Outcome.TIMEOUT, r.outcome());
            assertEquals(8, r.exitStatus());
            assertTrue(r.nanos() >= 200_000_000L);
        }
    }

    @Test
    void unimplementedInstructionIsReportedWithItsAddress() throws Exception {
        try (Machine m = machine(b(0xd9, 0xe8))) { // fld1 (x87)
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.NOT_IMPLEMENTED, r.outcome(), r.summary());
            assertEquals(10, r.exitStatus());
            assertTrue(r.detail().startsWith("not implemented: "), r.detail());
            assertTrue(r.detail().contains("0x100000"), r.detail());
        }
    }

    @Test
    void unclaimedPortsAreLoggedWhenAsked() throws Exception {
        Path p = dir.resolve("io.bin");
        Files.write(p, b(0xe4, 0x99, 0xfa, 0xf4)); // in al,0x99; cli; hlt
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (Machine m = Machine.builder().memory(16L << 20).logUnhandledIo(new PrintStream(log, true)).build()) {
            m.boot(new BootImage(p, "io.bin", "", List.of(), OptionalLong.of(0x100000)));
            m.run(RunLimits.NONE);
            assertEquals(0xFF, m.cpu().gpr[0] & 0xFF);
        }
        assertEquals("hv: unhandled I/O: inb port 0x0099", log.toString().trim());
    }

    @Test
    void failedLoadLeavesTheProcessorAtReset() throws Exception {
        try (Machine m = Machine.builder().memory(16L << 20).build()) {
            assertThrows(LoadException.class, () -> m.boot(BootImage.of(dir.resolve("missing"))));
            assertEquals(0xFFF0, m.cpu().rip);
            assertNull(m.bootState());
        }
    }

    @Test
    void stateDumpHasRegistersControlRegistersAndSelectors() throws Exception {
        try (Machine m = machine(b(0xfa, 0xf4))) {
            m.run(RunLimits.NONE);
            Path out = dir.resolve("state.json");
            StateDump.write(m.cpu(), out);
            JsonNode j = new ObjectMapper().readTree(out.toFile());
            assertEquals("0x100002", j.get("rip").asText());
            assertEquals("0x80000", j.get("rsp").asText());
            assertEquals("0x2", j.get("rflags").asText());
            assertEquals("0x2000", j.get("cr3").asText());
            assertEquals("0x500", j.get("efer").asText());
            assertEquals("0x8", j.get("selectors").get("cs").asText());
            assertEquals("0x10", j.get("selectors").get("ss").asText());
            assertEquals("LONG64", j.get("mode").asText());
            for (String k : List.of("rax", "r15", "cr0", "cr2", "cr4")) assertTrue(j.has(k), k);
            for (String k : List.of("es", "ds", "fs", "gs", "ldtr", "tr")) assertTrue(j.get("selectors").has(k), k);
        }
    }

    @Test
    void builderRejectsBadMemorySizesAndKnowsVmx() {
        assertThrows(IllegalArgumentException.class, () -> Machine.builder().memory(1000).build());
        try (Machine m = Machine.builder().memory(16L << 20).cpuModel(CpuModel.withoutVmx()).vmx(true).build()) {
            assertFalse(m.vmxEnabled());
            assertSame(lhv.cpu.intercept.Virtualization.NONE, m.cpu().vmx);
        }
        try (Machine m = Machine.builder().memory(16L << 20).build()) {
            assertTrue(m.vmxEnabled());
            assertSame(m.vmx(), m.cpu().vmx, "Vmx.attach installed the VMX unit in the processor");
        }
        try (Machine m = Machine.builder().memory(16L << 20).vmx(false).build()) {
            assertFalse(m.vmxEnabled());
        }
    }

    @Test
    void boardDevicesAnswerOnTheirPorts() {
        try (Machine m = Machine.builder().memory(16L << 20).build()) {
            assertEquals(0x60, m.ports().in(0x3FD, 1), "UART LSR");
            m.ports().out(0x70, 1, 0x15);
            assertEquals(640 & 0xFF, m.ports().in(0x71, 1), "CMOS base memory low byte");
            m.ports().out(0x21, 1, 0xFB);
            assertEquals(0xFB, m.ports().in(0x21, 1), "PIC mask");
            assertEquals(0xFF, m.ports().in(0x80, 1), "POST port");
            m.ports().out(0x510, 2, 3);
            assertEquals(0, m.ports().in(0x511, 1), "16 MiB = 0x01000000: low byte 0");
        }
    }

    @Test
    void aFaultStormEndsAtTheInstructionLimit() throws Exception {
        // mov rax,0x100000000; lidt [0x100100]; jmp rax -- the page above 4 GiB is not mapped, and the
        // #PF handler is there too: every delivery faults again at its first fetch, nothing retires.
        byte[] code = new byte[0x2000];
        byte[] insns = b(0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                0x0f, 0x01, 0x1c, 0x25, 0x00, 0x01, 0x10, 0x00, 0xff, 0xe0);
        System.arraycopy(insns, 0, code, 0, insns.length);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(code).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.putShort(0x100, (short) 0xFFF).putLong(0x102, 0x101000);
        // IDT[14]: 64-bit interrupt gate, selector 0x08, offset 0x1_0000_0000
        bb.putLong(0x1000 + 16 * 14, (0x08L << 16) | (0x8EL << 40)).putLong(0x1000 + 16 * 14 + 8, 1);
        try (Machine m = machine(code)) {
            RunResult r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                    () -> m.run(new RunLimits(5_000, null)));   // the stack lasts ~13000 deliveries
            assertEquals(Outcome.INSTRUCTION_LIMIT, r.outcome(), r.summary());
            assertEquals(3, r.instructions());
            assertEquals(0x1_0000_0000L, m.cpu().rip);
        }
    }

    @Test
    void anEmulatorDefectEndsTheRunWithAnInternalErrorReport() throws Exception {
        // nop; out 0x99,al -- the port device fails with an unexpected Java exception
        try (Machine m = machine(b(0x90, 0xe6, 0x99, 0xf4))) {
            m.ports().register(0x99, 1, lhv.platform.io.PortBus.BYTE, new lhv.platform.io.PortDevice() {
                @Override public int in(int port, int size) { return 0; }
                @Override public void out(int port, int size, int value) { throw new IllegalStateException("device defect"); }
            });
            RunResult r = m.run(RunLimits.NONE);
            assertEquals(Outcome.INTERNAL_ERROR, r.outcome());
            assertEquals(12, r.exitStatus());
            assertEquals(0x100001, m.cpu().rip, "RIP names the instruction that was executing");
            assertTrue(r.summary().startsWith("hv: internal error (java.lang.IllegalStateException: device defect at rip 0x100001)"), r.summary());
        }
    }
}
