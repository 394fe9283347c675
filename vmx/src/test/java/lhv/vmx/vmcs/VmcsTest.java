package lhv.vmx.vmcs;

import static org.junit.jupiter.api.Assertions.*;

import lhv.vmx.TestMemory;
import org.junit.jupiter.api.Test;

class VmcsTest {
    private final TestMemory mem = new TestMemory(64 * 1024);

    @Test
    void writesTruncateToFieldWidth() {
        Vmcs v = new Vmcs();
        v.write(VmcsField.GUEST_CS_SELECTOR, 0x12345678);
        assertEquals(0x5678, v.read(VmcsField.GUEST_CS_SELECTOR));
        v.write(VmcsField.GUEST_CS_LIMIT, 0x1_FFFF_FFFFL);
        assertEquals(0xFFFF_FFFFL, v.read(VmcsField.GUEST_CS_LIMIT));
        v.write(VmcsField.GUEST_RIP, 0xFFFF_8000_0000_1000L);
        assertEquals(0xFFFF_8000_0000_1000L, v.read(VmcsField.GUEST_RIP));
    }

    @Test
    void highAccessReadsAndWritesBits63To32() {
        Vmcs v = new Vmcs();
        v.write(VmcsField.TSC_OFFSET, 0x1111_2222_3333_4444L);
        assertEquals(0x1111_2222L, v.readEncoded(0x2011));
        assertEquals(0x1111_2222_3333_4444L, v.readEncoded(0x2010));
        v.writeEncoded(0x2011, 0xAAAA_BBBBL);
        assertEquals(0xAAAA_BBBB_3333_4444L, v.read(VmcsField.TSC_OFFSET));
        v.writeEncoded(0x2010, 0x5555L);
        assertEquals(0x5555L, v.read(VmcsField.TSC_OFFSET), "full write replaces all 64 bits");
    }

    @Test
    void survivesFlushAndReload() {
        long pa = 0x3000;
        mem.write(pa, 4, 4); // revision id written by software
        Vmcs v = new Vmcs();
        v.load(mem, pa);
        assertEquals(4, v.revisionId());
        assertFalse(v.isLaunched());
        v.write(VmcsField.GUEST_RIP, 0x401000);
        v.write(VmcsField.VM_EXIT_CONTROLS, 0x36dff);
        v.write(VmcsField.GUEST_CS_AR_BYTES, 0xa09b);
        v.setLaunched(true);
        v.flush(mem);
        assertFalse(v.isLoaded());

        Vmcs other = new Vmcs();
        other.load(mem, pa);
        assertEquals(0x401000, other.read(VmcsField.GUEST_RIP));
        assertEquals(0x36dff, other.read(VmcsField.VM_EXIT_CONTROLS));
        assertEquals(0xa09b, other.read(VmcsField.GUEST_CS_AR_BYTES));
        assertTrue(other.isLaunched());
        assertEquals(pa, other.pointer());

        other.flush(mem);
        Vmcs.clearLaunchState(mem, pa);
        other.load(mem, pa);
        assertFalse(other.isLaunched(), "VMCLEAR clears the launch state in memory");
        assertEquals(0x401000, other.read(VmcsField.GUEST_RIP), "VMCLEAR keeps field data");
    }

    @Test
    void headerFieldsAreArchitecturalOffsets() {
        long pa = 0x5000;
        mem.write(pa, 4, 0x8000_0004L);
        assertEquals(4, Vmcs.revisionAt(mem, pa));
        assertTrue(Vmcs.shadowIndicatorAt(mem, pa));
        Vmcs.writeAbortIndicator(mem, pa, 2);
        assertEquals(2, mem.read(pa + 4, 4));
        assertEquals(2, Vmcs.abortIndicatorAt(mem, pa));
    }

    @Test
    void snapshotIsIndependentOfLaterWrites() {
        Vmcs v = new Vmcs();
        v.write(VmcsField.GUEST_RSP, 0x8000);
        VmcsSnapshot s = v.snapshot();
        v.write(VmcsField.GUEST_RSP, 0x9000);
        assertEquals(0x8000, s.get(VmcsField.GUEST_RSP));
        VmcsSnapshot t = s.with(VmcsField.GUEST_CS_SELECTOR, 0x1_0010);
        assertEquals(0x10, t.get(VmcsField.GUEST_CS_SELECTOR));
        assertEquals(0, s.get(VmcsField.GUEST_CS_SELECTOR));
        assertEquals("GUEST_RSP = 0x8000\n", s.describe());
        assertEquals("GUEST_CS_SELECTOR = 0x10\nGUEST_RSP = 0x8000\n", t.describe());
    }
}
