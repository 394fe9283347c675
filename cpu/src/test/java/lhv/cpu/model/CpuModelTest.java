package lhv.cpu.model;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.mmu.TestRam;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

/** CPUID leaves of the model (SDM Vol. 2A CPUID). */
class CpuModelTest {
    static String ascii(int... regs) {
        ByteBuffer b = ByteBuffer.allocate(regs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r : regs) b.putInt(r);
        return new String(b.array(), StandardCharsets.US_ASCII);
    }

    final CpuModel model = CpuModel.withVmx();

    @Test
    void vendorIsGenuineIntel() {
        int[] r = model.cpuid(0, 0);
        assertEquals("GenuineIntel", ascii(r[1], r[3], r[2]));
        assertEquals(0xD, r[0]);
    }

    @Test
    void signatureIsFamily6AndMatchesReset() {
        int eax = model.cpuid(1, 0)[0];
        assertEquals(6, (eax >>> 8) & 0xF, "family");
        assertEquals(0x9E, ((eax >>> 12) & 0xF0) | ((eax >>> 4) & 0xF), "model incl. extended model");
        Cpu cpu = TestRam.cpu();
        assertEquals(eax & 0xFFFFFFFFL, cpu.gpr[Cpu.RDX], "EDX after RESET holds the signature");
    }

    @Test
    void vmxBitFollowsTheModel() {
        assertEquals(1 << 5, model.cpuid(1, 0)[2] & (1 << 5));
        assertEquals(0, CpuModel.withoutVmx().cpuid(1, 0)[2] & (1 << 5));
        assertEquals(0, model.cpuid(1, 0)[2] & (1 << 31), "hypervisor bit clear");
        assertEquals(0, CpuModel.withoutVmx().cr4ValidBits() & Cr.CR4_VMXE);
    }

    @Test
    void extendedLeaves() {
        assertEquals(0x80000008, model.cpuid(0x80000000, 0)[0]);
        int[] e1 = model.cpuid(0x80000001, 0);
        assertNotEquals(0, e1[3] & (1 << 29), "LM");
        assertNotEquals(0, e1[3] & (1 << 20), "NX");
        assertNotEquals(0, e1[3] & (1 << 11), "SYSCALL");
        assertNotEquals(0, e1[3] & (1 << 27), "RDTSCP");
        assertNotEquals(0, e1[2] & 1, "LAHF/SAHF in 64-bit mode");
        assertNotEquals(0, e1[2] & (1 << 5), "LZCNT");
        int a = model.cpuid(0x80000008, 0)[0];
        assertEquals(39, a & 0xFF);
        assertEquals(48, (a >>> 8) & 0xFF);
        assertEquals(39, model.physicalAddressBits());
        String brand = ascii(concat(model.cpuid(0x80000002, 0), model.cpuid(0x80000003, 0), model.cpuid(0x80000004, 0)));
        assertTrue(brand.startsWith("LHV"), brand);
    }

    static int[] concat(int[]... parts) {
        int[] r = new int[parts.length * 4];
        for (int i = 0; i < parts.length; i++) System.arraycopy(parts[i], 0, r, i * 4, 4);
        return r;
    }

    @Test
    void leavesAboveTheMaximumReturnTheHighestBasicLeaf() {
        assertArrayEquals(model.cpuid(0xD, 0), model.cpuid(0x20, 0));
        assertArrayEquals(model.cpuid(0xD, 0), model.cpuid(0x80000010, 0));
    }

    @Test
    void leaf7AndXsave() {
        int ebx = model.cpuid(7, 0)[1];
        assertNotEquals(0, ebx & (1 << 7), "SMEP");
        assertNotEquals(0, ebx & (1 << 20), "SMAP");
        assertNotEquals(0, ebx & (1 << 3), "BMI1 (ANDN, BEXTR, BLS*, TZCNT are implemented)");
        assertNotEquals(0, ebx & (1 << 8), "BMI2 (BZHI, MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX)");
        assertNotEquals(0, ebx & (1 << 19), "ADX (ADCX, ADOX)");
        assertEquals(0, ebx & (1 << 4), "no HLE: TSX is not implemented");
        assertEquals(0, ebx & (1 << 11), "no RTM: TSX is not implemented");
        assertEquals(0, ebx & (1 << 5), "no AVX2: AVX is not implemented");
        assertEquals(3, model.cpuid(0xD, 0)[0], "x87 and SSE state");
    }

    @Test
    void cpuidInstructionPatchesOsxsave() {
        Cpu cpu = TestRam.cpu();
        cpu.gpr[Cpu.RAX] = 0xFFFF_FFFF_0000_0001L;
        cpu.sys.cpuid();
        assertEquals(0, cpu.gpr[Cpu.RCX] & (1 << 27));
        assertEquals(0x000906EAL, cpu.gpr[Cpu.RAX], "upper half cleared");
        cpu.setCr4(Cr.CR4_OSXSAVE);
        cpu.gpr[Cpu.RAX] = 1;
        cpu.sys.cpuid();
        assertNotEquals(0, cpu.gpr[Cpu.RCX] & (1 << 27));
    }
}
