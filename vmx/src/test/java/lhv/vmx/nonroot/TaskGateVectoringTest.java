package lhv.vmx.nonroot;

import lhv.cpu.Rflags;
import lhv.cpu.StopReason;
import lhv.vmx.VmxTestbed;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.exit.ExitReason;
import org.junit.jupiter.api.Test;

import static lhv.vmx.VmxTestbed.*;
import static lhv.vmx.vmcs.VmcsField.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Task switches in a 32-bit protected-mode guest (PAE paging): one through a task gate in the IDT
 * exits during delivery of the event, which the exit reports as IDT-vectoring information, with RF
 * as the old TSS would have saved it (SDM Vol. 3C 28.2.4, 28.3.3); one by a far CALL exits like an
 * instruction, without IDT-vectoring information.
 */
class TaskGateVectoringTest {
    private final VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
    private static final long PAE_PDPT = 0xD000, IDT = 0x30000, NEW_TSS = 0x31000;
    private static final int CODE32 = 0x28, TSS_GATE_TARGET = 0x30;

    private void protected32Guest() {
        t.mem.write(PAE_PDPT, 8, (PML4 + 0x2000) | 1);                  // the testbed's PD of 2 MiB pages
        t.mem.write(GDT + CODE32, 8, 0x00CF9B000000FFFFL);               // 32-bit code
        t.mem.write(GDT + TSS_GATE_TARGET, 8, 0x0000890000000067L | (NEW_TSS & 0xFFFFFF) << 16); // available 32-bit TSS
        t.w(GUEST_GDTR_LIMIT, 0x37);
        t.w(VM_ENTRY_CONTROLS, t.caps.mustBeOne(ControlWord.ENTRY));    // not IA-32e mode
        t.w(GUEST_CR3, PAE_PDPT);
        t.w(GUEST_CS_SELECTOR, CODE32);
        t.w(GUEST_CS_AR_BYTES, 0xC09B);
        t.w(GUEST_IDTR_BASE, IDT);
        t.w(GUEST_IDTR_LIMIT, 0x7FF);
        // vector 6 (#UD): task gate to the TSS at 0x30 (type 5, present)
        t.mem.write(IDT + 8 * 6, 8, (long) TSS_GATE_TARGET << 16 | 0x85L << 40);
    }

    private StopReason run(int... code) {
        for (int k = 0; k < code.length; k++) t.mem.write(GUEST_RIP0 + k, 1, code[k]);
        t.launch();
        return t.cpu.run(code.length + 4);
    }

    @Test
    void taskGateInTheIdtExitsWithTheEventAsIdtVectoringInformation() {
        protected32Guest();
        assertEquals(StopReason.VM_EXIT, run(0x0F, 0x0B));              // ud2
        assertEquals(ExitReason.TASK_SWITCH.number, t.r(VM_EXIT_REASON), t.cpu.notImplementedMessage);
        assertEquals(TSS_GATE_TARGET | 3L << 30, t.r(EXIT_QUALIFICATION), "task gate in the IDT");
        assertEquals(0x8000_0306L, t.r(IDT_VECTORING_INFO_FIELD), "#UD was being delivered");
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
        assertEquals(Rflags.RF, t.r(GUEST_RFLAGS) & Rflags.RF, "RF as saved in the old TSS for a fault");
    }

    @Test
    void farCallToATssExitsWithoutIdtVectoringInformation() {
        protected32Guest();
        assertEquals(StopReason.VM_EXIT, run(0x9A, 0, 0, 0, 0, TSS_GATE_TARGET, 0)); // call 0x30:0
        assertEquals(ExitReason.TASK_SWITCH.number, t.r(VM_EXIT_REASON), t.cpu.notImplementedMessage);
        assertEquals(TSS_GATE_TARGET, t.r(EXIT_QUALIFICATION), "source CALL");
        assertEquals(0, t.r(IDT_VECTORING_INFO_FIELD) & 0x8000_0000L);
        assertEquals(7, t.r(VM_EXIT_INSTRUCTION_LEN));
        assertEquals(GUEST_RIP0, t.r(GUEST_RIP));
    }
}
