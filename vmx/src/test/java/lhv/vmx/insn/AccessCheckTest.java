package lhv.vmx.insn;

import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.vmx.VmReadResult;
import lhv.vmx.VmxResult;
import lhv.vmx.VmxTestbed;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link lhv.vmx.Vmx#vmreadSucceeds} and {@link lhv.vmx.Vmx#vmwriteSucceeds}, the cheap checks the
 * hosted hypervisor makes before every VMREAD/VMWRITE, against the full instructions: for every
 * field (read-only exit-information fields and fields of features not offered included), in every
 * state that makes them fail differently (no VMX operation, no current VMCS, protected mode off,
 * non-root operation), the check says yes exactly when the instruction succeeds.
 */
class AccessCheckTest {
    static void compare(String state, VmxTestbed t) {
        for (VmcsField f : VmcsField.values()) {
            boolean read;
            try {
                read = t.vmx.vmread(f) instanceof VmReadResult.Value;
            } catch (CpuFault | IllegalStateException e) {
                read = false;
            }
            assertEquals(read, t.vmx.vmreadSucceeds(f), state + ": VMREAD " + f);
            long before = t.vmx.hasCurrentVmcs() ? t.vmx.read(f) : 0;
            boolean write;
            try {
                write = t.vmx.vmwrite(f, before).succeeded();
            } catch (CpuFault | IllegalStateException e) {
                write = false;
            }
            assertEquals(write, t.vmx.vmwriteSucceeds(f), state + ": VMWRITE " + f);
        }
    }

    static void in(String state, Consumer<VmxTestbed> setup) {
        VmxTestbed t = new VmxTestbed();
        setup.accept(t);
        compare(state, t);
    }

    @Test
    void theCheapChecksAgreeWithTheInstructions() {
        in("outside VMX operation", t -> { });
        in("no current VMCS", t -> t.ok(t.vmx.vmxon(VmxTestbed.VMXON)));
        in("current VMCS", VmxTestbed::inVmxRootWithVmcs);
        in("after VMCLEAR", t -> {
            t.inVmxRootWithVmcs();
            t.ok(t.vmx.vmclear(VmxTestbed.VMCS));
        });
        in("protected mode off", t -> {
            t.inVmxRootWithVmcs();
            t.cpu.setCr0(t.cpu.cr0 & ~Cr.CR0_PE);
        });
        in("non-root operation", t -> {
            t.inVmxRootWithVmcs().validVmcs().launch();
            assertTrue(t.cpu.nonRoot);
        });
    }

    @Test
    void aFailureStillNamesTheError() {
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs();
        assertFalse(t.vmx.vmwriteSucceeds(VmcsField.VM_EXIT_REASON));
        VmxResult r = t.vmx.vmwrite(VmcsField.VM_EXIT_REASON, 1);
        assertInstanceOf(VmxResult.FailValid.class, r, "read-only field: error 13 (SDM 31.4)");
    }
}
