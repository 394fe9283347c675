package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.Mode;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import lhv.cpu.mmu.TestRam;
import lhv.cpu.model.CpuModel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The system side end to end, driven by the interpreter: hand-written programs (modes.asm,
 * prot32.asm, vm86.asm; their assembled bytes in the .bin files next to them) boot from real mode
 * into 64-bit mode, 32-bit paged protected mode or virtual-8086 mode, take interrupts and faults,
 * switch privilege and halt.
 */
class SystemProgramTest {

    /** A processor in real mode at 0000:7C00 with the named program loaded there. */
    static Cpu boot(String program) throws IOException {
        TestRam ram = new TestRam(8 << 20);
        Cpu cpu = new Cpu(CpuModel.withVmx(), ram);
        byte[] bytes;
        try (InputStream in = SystemProgramTest.class.getResourceAsStream(program)) {
            bytes = in.readAllBytes();
        }
        for (int i = 0; i < bytes.length; i++) ram.b(0x7C00 + i, bytes[i]);
        cpu.codeMap.writtenRange(0x7C00, bytes.length);
        for (Segment s : cpu.seg) s.loadReal(0);
        cpu.rip = 0x7C00;
        cpu.gpr[Cpu.RSP] = 0x7000;
        cpu.stateChanged();
        return cpu;
    }

    @Test
    void realModeToLongModeWithInterruptsPageFaultAndSystemCalls() throws IOException {
        Cpu cpu = boot("modes.bin");
        TestRam ram = TestRam.of(cpu);
        assertEquals(StopReason.HALTED, cpu.run(100_000));

        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals(0, cpu.cpl, "SYSCALL returned to CPL 0");
        assertEquals(2, cpu.gpr[15], "INT 0x80 taken twice");
        assertEquals(0x1234, cpu.gpr[8]);
        assertEquals(0x5678, cpu.gpr[9], "user code ran");
        assertEquals(0, cpu.gpr[10], "#PF error code: not present, supervisor read");
        assertEquals(0x40000000L, cpu.gpr[12], "CR2");
        assertEquals(0x3B, cpu.gpr[13], "second INT 0x80 came from CPL 3 (CS 0x3B)");
        assertEquals(0x33, cpu.gpr[14], "saved SS of the user stack");
        assertEquals(0x70000, cpu.gpr[Cpu.RSP], "SYSCALL keeps the user RSP");
        assertEquals(0x40, cpu.tr.selector);
        assertEquals(0x8B, ram.b(cpu.gdtrBase + 0x40 + 5), "TSS descriptor marked busy");
    }

    @Test
    void protectedModeWith4MibPagesUserModeAndTssStackSwitch() throws IOException {
        Cpu cpu = boot("prot32.bin");
        assertEquals(StopReason.HALTED, cpu.run(100_000));
        assertEquals(Mode.PROTECTED, cpu.mode);
        assertEquals(0, cpu.cpl);
        assertEquals(0x5678, cpu.gpr[Cpu.RBP], "user code ran");
        assertEquals(7, cpu.gpr[Cpu.RSI], "#PF error code: present, write, user");
        assertEquals(0x400000, cpu.gpr[Cpu.RDI], "CR2");
        assertEquals(0x1B, cpu.gpr[Cpu.RCX], "INT 0x30 came from CPL 3");
        assertEquals(0x23, cpu.gpr[Cpu.RDX], "user SS saved on the ring-0 stack");
        assertEquals(0x80000 - 20, cpu.gpr[Cpu.RSP], "ring-0 stack from TSS.ESP0");
        assertEquals(0, TestRam.of(cpu).d(0x400000), "the read-only page was not written");
    }

    @Test
    void virtual8086ModeAndItsMonitor() throws IOException {
        Cpu cpu = boot("vm86.bin");
        assertEquals(StopReason.HALTED, cpu.run(100_000));
        assertEquals(Mode.PROTECTED, cpu.mode, "the #GP left virtual-8086 mode");
        assertEquals(0x1234, cpu.gpr[Cpu.RBP] & 0xFFFF, "8086 code ran with its own segments");
        assertEquals(0x1234, TestRam.of(cpu).d(0x9010) & 0xFFFF, "DS 0900:0010 is linear 0x9010");
        assertEquals(0, cpu.gpr[Cpu.RSI], "#GP(0) for INT n with IOPL < 3");
        assertEquals(0x0C, cpu.gpr[Cpu.RAX], "saved IP of the INT instruction (a fault)");
        assertEquals(0x0800, cpu.gpr[Cpu.RBX], "saved CS");
        assertNotEquals(0, cpu.gpr[Cpu.RCX] & lhv.cpu.Rflags.VM, "saved EFLAGS has VM");
        assertEquals(0x0A00, cpu.gpr[Cpu.RDX], "saved ES");
        assertEquals(0x0900, cpu.gpr[Cpu.RDI], "saved DS");
    }
}
