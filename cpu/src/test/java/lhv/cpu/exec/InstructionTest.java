package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Whole instructions in small guest programs: stack and control transfer, strings, the three code
 * sizes, and the faults instructions raise (vector, error code, RIP left at the instruction).
 * Machine code comes from nasm; the source is in each comment.
 */
class InstructionTest {

    @Test
    void callPushPopAndRet() {
        // mov rax,5; push rax; call f; pop rbx; hlt; f: mov rcx,[rsp+8]; ret
        Guest g = Guest.long64().code("b80500000050e8020000005bf4488b4c2408c3").runToHalt();
        assertEquals(5, g.reg(Cpu.RCX), "the pushed value sits above the return address");
        assertEquals(5, g.reg(Cpu.RBX));
        assertEquals(Guest.STACK_TOP, g.reg(Cpu.RSP));
        assertEquals(Guest.CODE + 11, g.ram.q(Guest.STACK_TOP - 16), "return address = next instruction");
    }

    @Test
    void enterAndLeave() {
        // enter 16,0; mov rax,rbp; leave; hlt
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RBP] = 0x1234;
        g.code("c81000004889e8c9f4").runToHalt();
        assertEquals(Guest.STACK_TOP - 8, g.reg(Cpu.RAX), "frame pointer = RSP after pushing RBP");
        assertEquals(0x1234, g.reg(Cpu.RBP));
        assertEquals(Guest.STACK_TOP, g.reg(Cpu.RSP));
    }

    @Test
    void pushfClearsRfAndVmInTheImage() {
        // stc; pushfq; pop rax; hlt
        Guest g = Guest.long64();
        g.code("f99c58f4").runToHalt();
        assertEquals(Rflags.FIXED1 | Rflags.CF, g.reg(Cpu.RAX));
    }

    @Test
    void selfModifyingStoreIntoTheRunningBlockTakesEffect() {
        // lea rbx,[rel p]; mov word [rbx],0x9090; p: inc eax; inc eax; hlt
        Guest g = Guest.long64().code("488d1d05000000 66c7039090 ffc0 ffc0 f4").runToHalt();
        assertEquals(1, g.reg(Cpu.RAX), "the first INC was overwritten by two NOPs before it ran");
    }

    @Test
    void instructionCrossingAPageBoundaryRuns() {
        long at = Guest.CODE + 0x1000 - 3;                 // mov eax, 0x11223344 spans two pages
        Guest g = Guest.long64().codeAt(at, "b844332211f4");
        g.cpu.rip = at;
        g.runToHalt();
        assertEquals(0x11223344, g.reg(Cpu.RAX));
    }

    @Test
    void runStopsAtTheInstructionLimitAndResumes() {
        // mov ecx,3; l: loop l; hlt
        Guest g = Guest.long64().code("b903000000e2fef4");
        assertEquals(StopReason.INSTRUCTION_LIMIT, g.cpu.run(2));
        assertEquals(2, g.cpu.instructionsRetired);
        assertEquals(2, g.reg(Cpu.RCX));
        g.runToHalt();
        assertEquals(5, g.cpu.instructionsRetired);
    }

    @Test
    void repStosWithDirectionFlagDown() {
        // mov rdi,0x200000; mov rcx,100; mov eax,0x41; std; rep stosb; cld; hlt
        Guest g = Guest.long64().code("bf00002000b964000000b841000000fdf3aafcf4").runToHalt();
        assertEquals(0, g.reg(Cpu.RCX));
        assertEquals(0x200000 - 100, g.reg(Cpu.RDI));
        assertEquals(0x41, g.ram.b(0x200000));
        assertEquals(0x41, g.ram.b(0x200000 - 99));
        assertEquals(0, g.ram.b(0x200000 - 100));
        assertEquals(0, g.cpu.getRflags() & Rflags.DF);
    }

    @Test
    void longRepYieldsAndResumesBeforeTheNextInstruction() {
        // mov edi,200000h; mov ecx,10000; rep stosb; inc eax; hlt
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RAX] = 0x100;
        g.code("bf00002000b910270000f3aaffc0f4").runToHalt();
        assertEquals(0x101, g.reg(Cpu.RAX), "INC ran once, after the whole REP STOSB");
        assertEquals(0x200000 + 10000, g.reg(Cpu.RDI));
        assertEquals(0, g.reg(Cpu.RCX));
    }

    @Test
    void thirtyTwoBitRepMovsd() {
        // mov esi,0x200000; mov edi,0x200100; mov ecx,4; rep movsd; hlt
        Guest g = Guest.flat32();
        g.ram.q(0x200000, 0x1122334455667788L);
        g.ram.q(0x200008, 0x99AABBCCDDEEFF00L);
        g.code("be00002000bf00012000b904000000f3a5f4").runToHalt();
        assertEquals(0x1122334455667788L, g.ram.q(0x200100));
        assertEquals(0x99AABBCCDDEEFF00L, g.ram.q(0x200108));
        assertEquals(0x200110, g.reg(Cpu.RDI));
    }

    @Test
    void realModeSixteenBitAddressingAndStack() {
        // mov ax,0x1234; mov bx,0x100; mov si,2; mov [bx+si],ax; mov cx,[0x102]; push cx; pop dx; hlt
        Guest g = Guest.real16().code("b83412bb0001be020089008b0e0201515af4").runToHalt();
        assertEquals(0x1234, g.ram.b(0x102) | g.ram.b(0x103) << 8);
        assertEquals(0x1234, g.reg(Cpu.RCX));
        assertEquals(0x0009_1234, g.reg(Cpu.RDX), "a 16-bit POP keeps bits 63:16 (reset value of EDX)");
        assertEquals(0x7000, g.reg(Cpu.RSP));
    }

    @Test
    void pushadPopadRoundTrip() {
        // mov eax..edi (not esp) to 1,2,3,4,6,7,8; pushad; xor eax,eax; xor ecx,ecx; popad; hlt
        Guest g = Guest.flat32().code("b801000000b902000000ba03000000bb04000000bd06000000be07000000bf08000000"
                + "6031c031c961f4").runToHalt();
        assertEquals(1, g.reg(Cpu.RAX));
        assertEquals(2, g.reg(Cpu.RCX));
        assertEquals(8, g.reg(Cpu.RDI));
        assertEquals(Guest.STACK_TOP, g.reg(Cpu.RSP));
        assertEquals(Guest.STACK_TOP, g.ram.d(Guest.STACK_TOP - 5 * 4) & 0xFFFFFFFFL, "PUSHAD stores the original ESP");
    }

    @Test
    void btsWithNegativeBitOffsetAddressesBelowTheOperand() {
        // mov rbx,0x200010; mov rcx,-9; bts [rbx],rcx; hlt  -> bit 55 of the qword at 0x200008
        Guest g = Guest.long64().code("bb1000200048c7c1f7ffffff480fab0bf4").runToHalt();
        assertEquals(1L << 55, g.ram.q(0x200008));
    }

    @Test
    void lockedIncAndXadd() {
        // mov eax,0x200000; lock inc dword [rax]; xadd [rax],ecx; hlt
        Guest g = Guest.long64();
        g.ram.d(0x200000, 41);
        g.cpu.gpr[Cpu.RCX] = 100;
        g.code("b800002000f0ff000fc108f4").runToHalt();
        assertEquals(142, g.ram.d(0x200000));
        assertEquals(42, g.reg(Cpu.RCX));
    }

    @Test
    void tzcntIsBsfWhenTheModelHasNoBmi1() {
        // tzcnt eax, ebx (F3 0F BC C3); hlt
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RBX] = 0;
        g.cpu.gpr[Cpu.RAX] = 77;
        g.cpu.interpreter.setExtensions(false, true, true, true, true, true);
        g.code("f30fbcc3f4").runToHalt();
        assertEquals(77, g.reg(Cpu.RAX), "BSF leaves the destination alone for a zero source");
        Guest h = Guest.long64();
        h.cpu.interpreter.setExtensions(true, true, true, true, true, true);
        h.code("f30fbcc3f4").runToHalt();
        assertEquals(32, h.reg(Cpu.RAX), "TZCNT of zero is the operand width");
    }

    @Test
    void stringAndPlainPortIo() {
        // mov esi,200000h; mov dx,0E9h; mov ecx,3; rep outsb; mov edi,200010h; mov ecx,2; rep insw;
        // in eax,dx; out dx,ax; hlt
        Guest g = Guest.long64();
        StringBuilder log = new StringBuilder();
        int[] next = {0x1111};
        g.cpu.io = new lhv.cpu.bus.PortIo() {
            @Override public int in(int port, int size) {
                log.append(String.format("in %x/%d;", port, size));
                return next[0]++;
            }
            @Override public void out(int port, int size, int value) {
                log.append(String.format("out %x/%d=%x;", port, size, value));
            }
        };
        g.ram.b(0x200000, 'a');
        g.ram.b(0x200001, 'b');
        g.ram.b(0x200002, 'c');
        g.code("be0000200066bae900b903000000f36ebf10002000b902000000f3666ded66eff4").runToHalt();
        assertEquals("out e9/1=61;out e9/1=62;out e9/1=63;in e9/2;in e9/2;in e9/4;out e9/2=1113;", log.toString());
        assertEquals(0x1111, g.ram.b(0x200010) | g.ram.b(0x200011) << 8);
        assertEquals(0x1112, g.ram.b(0x200012) | g.ram.b(0x200013) << 8);
        assertEquals(0x200014, g.reg(Cpu.RDI));
        assertEquals(0x1113, g.reg(Cpu.RAX), "IN EAX zero-extends into RAX");
    }

    // ---- faults ----

    @Test
    void divideByZeroIsDe() {
        // xor ecx,ecx; mov eax,1; div ecx; hlt
        Guest g = Guest.long64().code("31c9b801000000f7f1f4");
        CpuFault f = g.runToFault();
        assertEquals(0, f.vector);
        assertEquals(Guest.CODE + 7, g.cpu.rip, "RIP stays at the DIV");
        assertEquals(2, g.cpu.instructionsRetired);
    }

    @Test
    void idivQuotientOverflowIsDe() {
        // mov eax,0x80000000; cdq; mov ecx,-1; idiv ecx; hlt
        assertEquals(0, Guest.long64().code("b80000008099b9fffffffff7f9f4").runToFault().vector);
    }

    @Test
    void nonCanonicalJumpTargetIsGpAtTheJump() {
        // mov rax,0x0000800000000000; jmp rax
        Guest g = Guest.long64().code("48b80000000000800000ffe0");
        CpuFault f = g.runToFault();
        assertEquals(13, f.vector);
        assertEquals(0, f.errorCode);
        assertEquals(Guest.CODE + 10, g.cpu.rip);
    }

    @Test
    void nonCanonicalDataIsGpAndStackReferenceIsSs() {
        // mov rax,0x0000800000000000; mov rbx,[rax]
        assertEquals(13, Guest.long64().code("48b80000000000800000488b18f4").runToFault().vector);
        // mov rbp,0x0000800000000000; mov rbx,[rbp]
        assertEquals(12, Guest.long64().code("48bd0000000000800000488b5d00f4").runToFault().vector);
    }

    @Test
    void ud2AndInvalidLockAreUd() {
        assertEquals(6, Guest.long64().code("0f0b").runToFault().vector);
        assertEquals(6, Guest.long64().code("f08906").runToFault().vector);     // lock mov [rsi], eax
    }

    @Test
    void overlongInstructionIsGp() {
        CpuFault f = Guest.long64().code("666666666666666666666666666666 90").runToFault();
        assertEquals(13, f.vector);
        assertEquals(0, f.errorCode);
    }

    @Test
    void privilegedInstructionsAtCpl3AreGp() {
        Guest g = Guest.long64().code("0f20d8f4");                              // mov rax, cr3
        g.cpu.cpl = 3;
        assertEquals(13, g.runToFault().vector);
        Guest h = Guest.long64().code("f4");                                    // hlt
        h.cpu.cpl = 3;
        assertEquals(13, h.runToFault().vector);
    }

    @Test
    void repStosFaultMidwayLeavesRegistersDescribingTheRest() {
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RDI] = 0x00007FFFFFFFFFFEL;
        g.cpu.gpr[Cpu.RCX] = 4;
        g.code("f3aaf4");                                                        // rep stosb
        // 0x7FFFFFFFFFFE is canonical but not mapped by the 1 GiB identity map: #PF on the first store.
        CpuFault f = g.runToFault();
        assertEquals(14, f.vector);
        assertEquals(4, g.reg(Cpu.RCX));
        assertEquals(0x00007FFFFFFFFFFEL, g.reg(Cpu.RDI));
    }

    @Test
    void repMovsFaultAfterSomeIterationsKeepsProgress() {
        // rsi walks up to the end of the identity map (1 GiB): the copy faults when rsi reaches it
        Guest g = Guest.long64();
        g.cpu.gpr[Cpu.RSI] = 0x40000000L - 2;
        g.cpu.gpr[Cpu.RDI] = 0x200000;
        g.cpu.gpr[Cpu.RCX] = 5;
        g.code("f3a4f4");                                                        // rep movsb
        CpuFault f = g.runToFault();
        assertEquals(14, f.vector);
        assertEquals(3, g.reg(Cpu.RCX), "two bytes were copied before the fault");
        assertEquals(0x40000000L, g.reg(Cpu.RSI));
        assertEquals(0x200002, g.reg(Cpu.RDI));
        assertEquals(Guest.CODE, g.cpu.rip);
    }

    @Test
    void sseStopsTheRunAsNotImplemented() {
        // nop; addps xmm0, xmm1; hlt
        Guest g = Guest.long64().code("900f58c1f4");
        assertEquals(StopReason.NOT_IMPLEMENTED, g.run());
        assertEquals("not implemented: SSE/MMX (opcode 0F 58) at 0x100001", g.cpu.notImplementedMessage);
        assertEquals(Guest.CODE + 1, g.cpu.rip);
        assertEquals(1, g.cpu.instructionsRetired);
    }
}
