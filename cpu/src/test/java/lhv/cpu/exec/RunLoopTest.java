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
}
