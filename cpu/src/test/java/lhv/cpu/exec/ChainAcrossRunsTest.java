package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.Segment;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The interpreter's block chain across runs ({@code Interpreter.chainValid}): after a run ends (as at
 * a VM exit to a Java host), the next run follows the chain only while nothing it stands on changed;
 * otherwise it looks the block up afresh and runs what the current translation, code and state say.
 * Each case runs one instruction at {@code CODE} ({@code mov eax, 1}), lets host code change one
 * thing, and runs the instruction at {@code CODE} again.
 *
 * <p>Context: unit test on the 64-bit {@link Guest}.
 */
class ChainAcrossRunsTest {
    private static final String MOV_EAX_1 = "B8 01 00 00 00 90", MOV_EAX_2 = "B8 02 00 00 00 90";
    /** The physical page linear CODE maps to once PD[0] points at the 2 MiB frame at 4 MiB. */
    private static final long REMAPPED = Guest.CODE + 0x400000;

    private static Guest firstRun() {
        Guest g = Guest.long64().code(MOV_EAX_1).codeAt(REMAPPED, MOV_EAX_2);
        assertEquals(StopReason.INSTRUCTION_LIMIT, g.cpu.run(1));
        assertEquals(1, g.reg(Cpu.RAX));
        return g;
    }

    /** Runs the instruction at CODE again after {@code change}; returns EAX and the full lookups the run made. */
    private static long[] again(Guest g, Consumer<Guest> change) {
        g.cpu.gpr[Cpu.RAX] = 0;
        g.cpu.rip = Guest.CODE;
        change.accept(g);
        long before = g.cpu.interpreter.fullLookups();
        g.cpu.run(1);
        return new long[] {g.reg(Cpu.RAX), g.cpu.interpreter.fullLookups() - before};
    }

    private static void remap(Guest g) {
        g.ram.q(Guest.PD, 0x400000L | 0x87);
    }

    @Test
    void nothingChangedFollowsTheChain() {
        long[] r = again(firstRun(), g -> { });
        assertEquals(1, r[0]);
        assertEquals(0, r[1], "the chain survived the end of the run");
    }

    @Test
    void invlpgOfTheCodePageEndsTheChain() {
        long[] r = again(firstRun(), g -> {
            remap(g);
            g.cpu.mmu.invalidatePage(Guest.CODE);
        });
        assertEquals(2, r[0], "the new translation is used");
        assertEquals(1, r[1]);
    }

    @Test
    void aFlushEndsTheChain() {
        long[] r = again(firstRun(), g -> {
            remap(g);
            g.cpu.mmu.flush(true);
        });
        assertEquals(2, r[0]);
    }

    /**
     * The page-table entry of the code page changes without INVLPG, and a data access to a linear
     * page with the same TLB index evicts the code page's execute entry: the next run walks afresh
     * (as a full lookup would), so the chain never keeps a translation the TLB no longer holds.
     */
    @Test
    void anEvictedExecuteEntryEndsTheChain() {
        long[] r = again(firstRun(), g -> {
            remap(g);
            g.cpu.mmu.read64(Segment.DS, 0x500000);   // vpn 0x500 shares the TLB slot of vpn 0x100
            assertEquals(REMAPPED, g.cpu.mmu.fetchPhysical(Guest.CODE) & ~0xFFFL, "a full lookup walks anew");
        });
        assertEquals(2, r[0]);
    }

    @Test
    void aCodeWriteEndsTheChain() {
        long[] r = again(firstRun(), g -> g.codeAt(Guest.CODE, "B8 03 00 00 00"));
        assertEquals(3, r[0]);
    }

    @Test
    void aChangeOfCsOrAControlRegisterEndsTheChain() {
        long[] cs = again(firstRun(), g -> g.cpu.seg[Segment.CS].set(0x18, 0, 0xFFFFFFFF, 0xA09B));
        assertEquals(1, cs[0]);
        assertEquals(1, cs[1], "a new CS: looked up afresh");
        long[] cr4 = again(firstRun(), g -> g.cpu.setCr4(g.cpu.cr4 | lhv.cpu.Cr.CR4_PGE));
        assertEquals(1, cr4[1], "another CR4: looked up afresh");
    }

    @Test
    void anotherCplEndsTheChain() {
        long[] r = again(firstRun(), g -> g.cpu.cpl = 3);
        assertEquals(1, r[1]);
    }
}
