package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The run loop: stop reasons, retired-instruction accounting, decoded-block cache behaviour. */
class RunLoopTest {

    @Test
    void loopSumsAndHalts() {
        // mov ecx,10; xor eax,eax; l: add eax,ecx; dec ecx; jnz l; hlt
        Guest g = Guest.long64().code("b90a00000031c001c8ffc975faf4");
        g.runToHalt();
        assertEquals(55, g.reg(Cpu.RAX));
        assertEquals(0, g.reg(Cpu.RCX));
        assertEquals(2 + 3 * 10 + 1, g.cpu.instructionsRetired);
        assertEquals(Guest.CODE + 14, g.cpu.rip, "HLT leaves RIP after itself");
    }

    @Test
    void aRepThatYieldsDoesNotLetTheRestOfItsBlockRun() {
        // rep stosb with 10000 iterations (more than one yield chunk); mov ebx,1; hlt
        Guest g = Guest.long64().code("f3aabb01000000f4");
        g.cpu.gpr[Cpu.RCX] = 10000;
        g.cpu.gpr[Cpu.RDI] = Guest.DATA;
        g.cpu.gpr[Cpu.RAX] = 0x5A;
        assertEquals(StopReason.INSTRUCTION_LIMIT, g.cpu.run(1));
        assertEquals(Guest.CODE, g.cpu.rip, "the REP is still in progress");
        assertEquals(0, g.reg(Cpu.RBX), "the MOV after it has not run");
        g.runToHalt();
        assertEquals(0, g.reg(Cpu.RCX));
        assertEquals(1, g.reg(Cpu.RBX));
        assertEquals(0x5A, g.ram.b(Guest.DATA + 9999) & 0xFF);
        assertEquals(Guest.DATA + 10000, g.reg(Cpu.RDI));
    }

    @Test
    void aFaultStormEndsAtTheInstructionLimit() {
        // #PF handler in an unmapped page: every delivery faults again at the handler's first fetch,
        // and no instruction ever retires. The deliveries consume the budget.
        Guest g = Guest.long64WithIdt();
        long handler = 0x4000_0000L;   // beyond the identity-mapped GiB
        g.ram.q(Guest.IDT + 16 * 14, (handler & 0xFFFF) | (0x08L << 16) | (0x8EL << 40) | ((handler >>> 16) & 0xFFFF) << 48);
        g.ram.q(Guest.IDT + 16 * 14 + 8, handler >>> 32);
        g.cpu.rip = handler;
        assertEquals(StopReason.INSTRUCTION_LIMIT, g.cpu.run(1000));
        assertEquals(0, g.cpu.instructionsRetired);
        assertEquals(handler, g.cpu.rip);
        assertEquals(handler, g.cpu.cr2);
    }
}
