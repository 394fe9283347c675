package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Instruction-boundary behaviour of the run loop with real event delivery (through the system
 * unit and an IDT): software interrupts, IRETQ, the RFLAGS.TF single-step trap and the interrupt
 * shadows of STI and MOV SS (SDM Vol. 3A 6.8.3, 18.3.1.4).
 */
class EventBoundaryTest {

    @Test
    void intNReachesItsHandlerWithTheReturnAddressPushed() {
        Guest g = Guest.long64WithIdt().code("cd30f4");           // int 0x30; hlt
        g.runToHalt();
        assertEquals(0x30, g.reg(Cpu.RAX) & 0xFF);
        assertEquals(Guest.CODE + 2, g.ram.q(Guest.STACK_TOP - 40), "pushed RIP = next instruction");
    }

    @Test
    void faultsAreDeliveredWithRipOfTheFaultingInstruction() {
        Guest g = Guest.long64WithIdt().code("0f0b");             // ud2
        g.runToHalt();
        assertEquals(6, g.reg(Cpu.RAX) & 0xFF);
        assertEquals(Guest.CODE, g.ram.q(Guest.STACK_TOP - 40));
    }

    @Test
    void iretqReturnsToTheFrame() {
        // mov rax,rsp; push 0x10; push rax; pushfq; push 0x08; lea rax,[rel t]; push rax; iretq; nop; t: mov ebx,7; hlt
        Guest g = Guest.long64WithIdt().code("4889e06a10509c6a08488d05040000005048cf90bb07000000f4").runToHalt();
        assertEquals(7, g.reg(Cpu.RBX));
        assertEquals(Guest.STACK_TOP, g.reg(Cpu.RSP));
    }

    @Test
    void singleStepTrapsAfterTheInstructionFollowingPopfThatSetTf() {
        // pushfq; or qword [rsp],0x100; popfq; nop; nop; hlt
        Guest g = Guest.long64WithIdt().code("9c48810c24000100009d9090f4").runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        long frame = Guest.STACK_TOP - 40;
        assertEquals(Guest.CODE + 11, g.ram.q(frame), "trap after the first NOP: RIP of the second");
        assertNotEquals(0, g.ram.q(frame + 16) & Rflags.TF, "TF set in the pushed RFLAGS");
        assertNotEquals(0, g.cpu.dr[6] & (1 << 14), "DR6.BS");
    }

    @Test
    void stiShadowCoversExactlyTheNextInstruction() {
        Guest g = Guest.long64WithIdt().code("fb9090f4");         // sti; nop; nop; hlt
        assertEquals(StopReason.INSTRUCTION_LIMIT, g.cpu.run(1));
        assertEquals(1, g.cpu.interruptShadow);
        g.cpu.run(1);
        assertEquals(0, g.cpu.interruptShadow);
        assertNotEquals(0, g.cpu.getRflags() & Rflags.IF);
    }

    @Test
    void stiWithInterruptsAlreadyEnabledHasNoShadow() {
        Guest g = Guest.long64WithIdt().code("fb9090f4");
        g.cpu.setRflags(Rflags.IF);
        g.cpu.run(1);
        assertEquals(0, g.cpu.interruptShadow);
    }

    @Test
    void movSsDefersTheSingleStepTrapPastTheNextInstruction() {
        // mov ax,ss; mov ss,ax; nop; hlt  -- entered at MOV SS with TF=1
        Guest g = Guest.long64WithIdt().code("668cd08ed090f4");
        g.cpu.gpr[Cpu.RAX] = 0x10;
        g.cpu.rip = Guest.CODE + 3;
        g.cpu.setRflags(Rflags.TF);
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        assertEquals(Guest.CODE + 6, g.ram.q(Guest.STACK_TOP - 40), "no trap after MOV SS, one after the NOP");
        assertEquals(2, g.cpu.instructionsRetired - 2, "MOV SS and NOP retired before the handler's two");
    }
}
