package lhv.vmx.exit;

import lhv.cpu.decode.Insn;
import lhv.vmx.exit.ExitQualification.CrAccess;
import lhv.vmx.exit.ExitQualification.CrAccessType;
import lhv.vmx.exit.ExitQualification.DebugException;
import lhv.vmx.exit.ExitQualification.DrAccess;
import lhv.vmx.exit.ExitQualification.IoAccess;
import lhv.vmx.exit.ExitQualification.TaskSwitch;
import lhv.vmx.exit.ExitQualification.TaskSwitchSource;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The bit layouts of the exit qualifications (SDM Vol. 3C 28.2.1, Tables 28-1..28-5) and of the
 * VM-exit instruction-information field (SDM 28.2.5, Tables 28-8..28-14). Expected values are
 * written bit by bit from the SDM tables.
 */
class ExitInformationFormatsTest {

    @Test
    void controlRegisterAccess() {
        assertEquals(0x3 | 0 << 4 | 0xBL << 8, CrAccess.movToCr(3, 11).encode(), "MOV CR3, R11");
        assertEquals(0x8 | 1 << 4 | 0x2L << 8, CrAccess.movFromCr(8, 2).encode(), "MOV RDX, CR8");
        assertEquals(2 << 4, CrAccess.clts().encode());
        assertEquals(3 << 4 | 1 << 6 | 0xFFF1L << 16, CrAccess.lmsw(true, 0xFFF1).encode(), "LMSW m16");
        assertEquals(new CrAccess(4, CrAccessType.MOV_TO_CR, false, 7, 0), CrAccess.decode(0x704));
    }

    @Test
    void debugRegisterAccessAndIo() {
        assertEquals(7 | 1 << 4 | 5 << 8, new DrAccess(7, true, 5).encode());
        assertEquals(0 | 0 << 3 | 0x3F8L << 16, new IoAccess(1, false, false, false, false, 0x3F8).encode(), "OUT DX, AL");
        assertEquals(1 | 1 << 3 | 1 << 4 | 1 << 5 | 0x1F0L << 16, new IoAccess(2, true, true, true, false, 0x1F0).encode(), "REP INSW");
        assertEquals(3 | 1 << 6 | 0x80L << 16, new IoAccess(4, false, false, false, true, 0x80).encode(), "OUT 80h, EAX");
    }

    @Test
    void taskSwitchAndDebugException() {
        assertEquals(0x28 | 3L << 30, new TaskSwitch(0x28, TaskSwitchSource.IDT_TASK_GATE).encode());
        assertEquals(0x28 | 1L << 30, new TaskSwitch(0x28, TaskSwitchSource.IRET).encode());
        assertEquals(0b0101 | 1 << 14, new DebugException(0b0101, false, true, false).encode(), "B0, B2, BS");
    }

    @Property(tries = 300)
    void ioQualificationRoundTrips(@ForAll("sizes") int size, @ForAll boolean in, @ForAll boolean string, @ForAll boolean rep,
                                   @ForAll boolean immediate, @ForAll @IntRange(min = 0, max = 0xFFFF) int port) {
        IoAccess a = new IoAccess(size, in, string, rep, immediate, port);
        assertEquals(a, IoAccess.decode(a.encode()));
        assertEquals(0, a.encode() & 0xFFFF_FFFF_0000_FF80L, "reserved bits clear");
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> sizes() {
        return net.jqwik.api.Arbitraries.of(1, 2, 4);
    }

    @Property(tries = 300)
    void crAccessRoundTrips(@ForAll @IntRange(min = 0, max = 15) int cr, @ForAll @IntRange(min = 0, max = 3) int type,
                            @ForAll boolean memory, @ForAll @IntRange(min = 0, max = 15) int gpr,
                            @ForAll @IntRange(min = 0, max = 0xFFFF) int data) {
        CrAccess a = new CrAccess(cr, CrAccessType.values()[type], memory, gpr, data);
        assertEquals(a, CrAccess.decode(a.encode()));
    }

    private static Insn memoryOperand(int base, int index, int scale, int seg, int addrSize, long disp) {
        Insn i = new Insn();
        i.hasModrm = true;
        i.mem = true;
        i.base = base;
        i.index = index;
        i.scale = scale;
        i.seg = seg;
        i.addrSize = addrSize;
        i.disp = disp;
        i.opSize = 4;
        return i;
    }

    @Test
    void vmxInstructionInformationForMemoryOperand() {
        // [rbx + rsi*4 + 8] in DS with 64-bit addressing, reg2 = R9
        Insn i = memoryOperand(3, 6, 2, 3, 8, 8);
        i.reg = 9;
        int expected = 2 | 2 << 7 | 3 << 15 | 6 << 18 | 3 << 23 | 9 << 28;
        assertEquals(expected, InstructionInformation.vmxInstruction(i));
        assertEquals(8, ExitQualification.displacement(i, 0x1000));
    }

    @Test
    void vmxInstructionInformationForRegisterOperand() {
        Insn i = new Insn();
        i.hasModrm = true;
        i.mem = false;
        i.rm = 12;
        i.reg = 1;
        assertEquals(1 << 10 | 12 << 3 | 1 << 28, InstructionInformation.vmxInstruction(i));
        assertEquals(0, ExitQualification.displacement(i, 0x1000), "no displacement: 0");
    }

    @Test
    void ripRelativeHasNoBaseOrIndexAndQualificationIsTheTarget() {
        Insn i = memoryOperand(Insn.RIP_BASE, Insn.NO_REG, 0, 3, 8, -0x10);
        int info = InstructionInformation.vmxInstruction(i);
        assertNotEquals(0, info & 1 << 22, "index invalid");
        assertNotEquals(0, info & 1 << 27, "base invalid");
        assertEquals(0x2000 - 0x10, ExitQualification.displacement(i, 0x2000), "displacement + next RIP");
    }

    @Test
    void descriptorTableAndLdtrTrAndRdrandFormats() {
        Insn lidt = memoryOperand(0, Insn.NO_REG, 0, 2, 4, 0);
        lidt.opSize = 4;
        assertEquals(1 << 7 | 1 << 11 | 2 << 15 | 1 << 22 | 0 << 23 | InstructionInformation.LIDT << 28,
                InstructionInformation.descriptorTable(lidt, InstructionInformation.LIDT), "LIDT [eax] in SS, 32-bit operand");
        Insn ltr = new Insn();
        ltr.mem = false;
        ltr.rm = 3;
        assertEquals(3 << 3 | 1 << 10 | 3 << 28, InstructionInformation.ldtrTr(ltr, InstructionInformation.LTR));
        assertEquals(5 << 3 | 2 << 11, InstructionInformation.rdrandRdseed(5, 8), "RDRAND RBP");
        assertEquals(0 << 7 | 0 << 15, InstructionInformation.insOuts(2, 0), "16-bit addressing, ES");
        assertEquals(8, InstructionInformation.addressSize(2 << 7));
    }
}
