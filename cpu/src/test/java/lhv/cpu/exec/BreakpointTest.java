package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Debug-register breakpoints (SDM Vol. 3A 18.2.4-18.3.1): instruction breakpoints are faults that
 * RFLAGS.RF suppresses, data and I/O breakpoints are traps after the instruction; DR6 reports which
 * breakpoint matched. Each guest's IDT handler for vector v is "mov al, v; hlt".
 */
class BreakpointTest {
    private static final long FRAME = Guest.STACK_TOP - 40;
    /** DR7 enable bits L0..L3 and the R/W, LEN fields of breakpoint n (SDM Figure 18-1). */
    private static long local(int n) { return 1L << 2 * n; }
    private static long rwLen(int n, int rw, int len) { return (long) (rw | len << 2) << 16 + 4 * n; }

    private static Guest guest(String code) {
        return Guest.long64WithIdt().code(code);
    }

    // ---- instruction breakpoints: faults ----

    @Test
    void instructionBreakpointFaultsBeforeTheInstruction() {
        Guest g = guest("9090f4");                                 // nop; nop; hlt
        g.cpu.sys.writeDr(0, Guest.CODE + 1);
        g.cpu.sys.writeDr(7, local(0));
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        assertEquals(Guest.CODE + 1, g.ram.q(FRAME), "fault: RIP of the instruction at the breakpoint");
        assertEquals(1, g.cpu.dr[6] & 0xF, "B0");
        assertEquals(1, g.cpu.instructionsRetired - 2, "only the first NOP ran before the handler");
    }

    @Test
    void resumeFlagSuppressesTheInstructionBreakpointOnce() {
        Guest g = guest("90f4");                                   // nop; hlt, entered with RF=1 at the breakpoint
        g.cpu.sys.writeDr(0, Guest.CODE);
        g.cpu.sys.writeDr(7, local(0));
        g.cpu.setRflags(Rflags.RF);
        g.runToHalt();
        assertEquals(Guest.CODE + 2, g.cpu.rip, "ran to its own HLT");
        assertEquals(0, g.cpu.dr[6] & 0xF);
        assertEquals(0, g.cpu.getRflags() & Rflags.RF, "RF cleared after the instruction");
    }

    @Test
    void disabledBreakpointNeverMatches() {
        Guest g = guest("9090f4");
        g.cpu.sys.writeDr(0, Guest.CODE + 1);
        g.cpu.sys.writeDr(7, rwLen(1, 0, 0));                      // fields set, no enable bit
        g.runToHalt();
        assertEquals(Guest.CODE + 3, g.cpu.rip);
        assertFalse(g.cpu.breakpointsArmed);
    }

    // ---- data breakpoints: traps ----

    @Test
    void dataWriteBreakpointTrapsAfterTheWrite() {
        Guest g = guest("890390f4");                               // mov [rbx], eax; nop; hlt
        g.cpu.gpr[Cpu.RBX] = Guest.DATA + 6;                      // bytes 6..9 overlap the breakpoint's 4..7
        g.cpu.gpr[Cpu.RAX] = 0x11223344;
        g.cpu.sys.writeDr(1, Guest.DATA + 4);
        g.cpu.sys.writeDr(7, local(1) | rwLen(1, 1, 3));           // write, 4 bytes
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        assertEquals(Guest.CODE + 2, g.ram.q(FRAME), "trap: RIP after the MOV");
        assertEquals(0x11223344, g.ram.d(Guest.DATA + 6), "the write completed");
        assertEquals(2, g.cpu.dr[6] & 0xF, "B1");
    }

    @Test
    void dataWriteBreakpointIgnoresReadsAndNonOverlappingWrites() {
        Guest g = guest("8b03894b0cf4");                           // mov eax, [rbx]; mov [rbx+12], ecx; hlt
        g.cpu.gpr[Cpu.RBX] = Guest.DATA;
        g.cpu.sys.writeDr(1, Guest.DATA);
        g.cpu.sys.writeDr(7, local(1) | rwLen(1, 1, 2));           // write, 8 bytes: DATA..DATA+7
        g.runToHalt();
        assertEquals(Guest.CODE + 6, g.cpu.rip, "no #DB");
        assertEquals(0, g.cpu.dr[6] & 0xF);
    }

    @Test
    void readWriteBreakpointTrapsOnAReadToo() {
        Guest g = guest("8b03f4");                                 // mov eax, [rbx]; hlt
        g.cpu.gpr[Cpu.RBX] = Guest.DATA + 1;
        g.cpu.sys.writeDr(3, Guest.DATA);
        g.cpu.sys.writeDr(7, local(3) | rwLen(3, 3, 1));           // read/write, 2 bytes
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        assertEquals(8, g.cpu.dr[6] & 0xF, "B3");
    }

    @Test
    void aFaultingInstructionReportsNoDataBreakpoint() {
        // mov [rbx], eax with RBX non-canonical: #GP, the access never happened
        Guest g = guest("8903f4");
        g.cpu.gpr[Cpu.RBX] = 0x8000_0000_0000_0000L;
        g.cpu.sys.writeDr(0, 0x8000_0000_0000_0000L);
        g.cpu.sys.writeDr(7, local(0) | rwLen(0, 1, 3));
        g.runToHalt();
        assertEquals(13, g.reg(Cpu.RAX) & 0xFF, "#GP, not #DB");
        assertEquals(0, g.cpu.pendingDebugExceptions);
    }

    // ---- I/O breakpoints (CR4.DE) ----

    @Test
    void ioBreakpointTrapsWithCr4De() {
        Guest g = guest("e680f4");                                 // out 0x80, al; hlt
        g.cpu.setCr4(g.cpu.cr4 | Cr.CR4_DE);
        g.cpu.sys.writeDr(2, 0x80);
        g.cpu.sys.writeDr(7, local(2) | rwLen(2, 2, 0));
        g.runToHalt();
        assertEquals(1, g.reg(Cpu.RAX) & 0xFF, "#DB");
        assertEquals(Guest.CODE + 2, g.ram.q(FRAME));
        assertEquals(4, g.cpu.dr[6] & 0xF, "B2");
    }

    @Test
    void ioBreakpointNeedsCr4De() {
        Guest g = guest("e680f4");
        g.cpu.sys.writeDr(2, 0x80);
        g.cpu.sys.writeDr(7, local(2) | rwLen(2, 2, 0));
        g.runToHalt();
        assertEquals(Guest.CODE + 3, g.cpu.rip, "no #DB");
    }
}
