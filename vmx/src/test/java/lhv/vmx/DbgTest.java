package lhv.vmx;
import org.junit.jupiter.api.Test;
class DbgTest {
    @Test void dbg() {
        VmxTestbed t = new VmxTestbed().inVmxRootWithVmcs().validVmcs();
        for (int k = 0; k < 16; k++) t.mem.write(VmxTestbed.GUEST_RIP0 + k, 1, 0x90);
        t.launch();
        t.cpu.run(1);
        try { System.out.println("DBG pa=" + t.cpu.mmu.fetchPhysical(0x10001)); } catch (lhv.cpu.CpuFault f) { System.out.println("DBG fault " + f.getMessage()); }
        System.out.println("DBG mode=" + t.cpu.mode + " cr0=" + Long.toHexString(t.cpu.cr0) + " cr4=" + Long.toHexString(t.cpu.cr4) + " efer=" + Long.toHexString(t.cpu.efer) + " cs=" + t.cpu.seg[1] + " cr3=" + Long.toHexString(t.cpu.cr3));
        for (int k = 0; k < 2; k++) {
            var r = t.cpu.run(1);
            System.out.println("DBG " + r + " rip=" + Long.toHexString(t.cpu.rip) + " " + t.cpu.notImplementedMessage + " nonroot=" + t.cpu.nonRoot);
        }
    }
}
