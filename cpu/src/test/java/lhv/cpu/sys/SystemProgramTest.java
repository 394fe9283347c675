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
 * The system side end to end, driven by the interpreter: a hand-written program (modes.asm, its
 * assembled bytes in modes.bin next to it) goes from real mode through protected mode into 64-bit
 * mode, takes interrupts and a page fault, switches privilege with SYSRET/INT/SYSCALL and halts.
 */
class SystemProgramTest {

    @Test
    void realModeToLongModeWithInterruptsPageFaultAndSystemCalls() throws IOException {
        TestRam ram = new TestRam(8 << 20);
        Cpu cpu = new Cpu(CpuModel.withVmx(), ram);
        byte[] program;
        try (InputStream in = SystemProgramTest.class.getResourceAsStream("modes.bin")) {
            program = in.readAllBytes();
        }
        for (int i = 0; i < program.length; i++) ram.b(0x7C00 + i, program[i]);
        cpu.codeMap.writtenRange(0x7C00, program.length);
        for (Segment s : cpu.seg) s.loadReal(0);
        cpu.rip = 0x7C00;
        cpu.gpr[Cpu.RSP] = 0x7000;
        cpu.stateChanged();

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
}
