package lhv.hypervisor.setup;

import lhv.cpu.bus.PhysicalMemory;
import lhv.cpu.bus.RamOnlyMemory;
import lhv.hypervisor.config.ConfigLoader;
import lhv.hypervisor.config.VmConfig;
import lhv.hypervisor.setup.ControlSelection.Controls;
import lhv.hypervisor.setup.MachineRegions.Region;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlWord;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pieces of VMX set-up that need no processor: allocator, descriptors, control words, image loading. */
class SetupTest {
    static final VmxCapabilities SKYLAKE = VmxCapabilities.skylakeClient();

    static PhysicalMemory ram(long size) {
        return new RamOnlyMemory(size);
    }

    @Test
    void allocatorAlignsZeroesCountsAndRefusesOverlap() {
        PhysicalMemory m = ram(1 << 20);
        MachineRegions a = new MachineRegions(m, 0x10000, 1 << 20);
        Region fixed = a.allocateAt("guest", 0x80000, 0x80000);
        Region r1 = a.allocate("VMXON region", 100);
        assertEquals(0x10000, r1.base());
        assertEquals(4096, r1.size());
        m.ram().set(ValueLayout.JAVA_LONG, r1.base(), -1L);
        Region r2 = a.allocate("bitmaps", 3 * 4096, 0x4000);
        assertEquals(0x14000, r2.base());
        assertEquals(3, a.live().size());
        a.free(r1);
        assertEquals(0, m.ram().get(ValueLayout.JAVA_LONG, 0x10000), "freed regions are cleared");
        assertThrows(IllegalStateException.class, () -> a.free(r1));
        assertThrows(MachineRegions.OutOfMachineMemory.class, () -> a.allocateAt("again", 0x80000, 4096));
        assertThrows(MachineRegions.OutOfMachineMemory.class, () -> a.allocate("huge", 1 << 20));
        a.free(r2);
        a.free(fixed);
        assertEquals(0, a.live().size());
        assertEquals(3, a.allocations());
        assertEquals(3, a.frees());
    }

    @Test
    void gdtDescriptorsAreTheStandardOnes() {
        // The x86-64 kernel code and data descriptors every 64-bit OS uses (SDM 3.4.5).
        assertEquals(0x00AF9B000000FFFFL, HostEnvironment.descriptor(0, 0xFFFFF, HostEnvironment.CODE_AR));
        assertEquals(0x00CF93000000FFFFL, HostEnvironment.descriptor(0, 0xFFFFF, HostEnvironment.DATA_AR));
        assertEquals(0x00008B0110000067L, HostEnvironment.descriptor(0x11000, 0x67, HostEnvironment.TSS_AR));
    }

    @Test
    void hostPageTablesIdentityMapRamWith2MiBPages() {
        PhysicalMemory m = ram(16 << 20);
        MachineRegions a = new MachineRegions(m, 0x10000, 0x100000);
        HostEnvironment h = new HostEnvironment(a, m.ram(), m.ramSize());
        long pdpt = m.ram().get(ValueLayout.JAVA_LONG, h.pml4) & ~0xFFFL;
        long pd = m.ram().get(ValueLayout.JAVA_LONG, pdpt) & ~0xFFFL;
        assertEquals(0x83, m.ram().get(ValueLayout.JAVA_LONG, pd));
        assertEquals((7L << 21) | 0x83, m.ram().get(ValueLayout.JAVA_LONG, pd + 7 * 8));
        assertEquals(0, m.ram().get(ValueLayout.JAVA_LONG, pd + 8 * 8), "nothing mapped beyond RAM");
        assertEquals(4, h.regions().size());
    }

    @Test
    void controlWordsFollowSdmA31() {
        Controls c = ControlSelection.select(VmConfig.defaults(), SKYLAKE);
        // TRUE_PINBASED allowed-0 = 0x16; nothing desired.
        assertEquals(0x16, c.pin());
        // TRUE_PROCBASED allowed-0 0x04006172 | HLT(7) | CR3-load(15) | I/O bitmaps(25) | MSR bitmaps(28).
        assertEquals(0x04006172 | 1 << 7 | 1 << 15 | 1 << 25 | 1 << 28, c.primary());
        assertEquals(0, c.secondary());
        // TRUE_EXIT allowed-0 0x36dfb | host address-space size (9).
        assertEquals(0x36dfb | 1 << 9, c.exit());
        // TRUE_ENTRY allowed-0 0x11fb | IA-32e mode guest (9).
        assertEquals(0x11fb | 1 << 9, c.entry());
    }

    @Test
    void seedFormulaSetsEveryAllowed1Bit() {
        VmConfig seed = ConfigLoader.parse("s.yaml", "seed-mistakes: [control-formula]", Path.of("."));
        Controls c = ControlSelection.select(seed, SKYLAKE);
        assertEquals(0x7f, c.pin(), "allowed-1 of IA32_VMX_PINBASED_CTLS");
        assertEquals((int) (SKYLAKE.procBased >>> 32), c.primary());
        assertEquals((int) (SKYLAKE.entry >>> 32), c.entry());
        assertEquals(0x16, ControlSelection.adjust(SKYLAKE, ControlWord.PIN_BASED, 0));
    }

    @Test
    void secondaryControlsTurnOnTheirActivation() {
        VmConfig cfg = ConfigLoader.parse("s.yaml", "controls: {secondary: [descriptor-table exiting]}", Path.of("."));
        Controls c = ControlSelection.select(cfg, SKYLAKE);
        assertEquals(1 << 2, c.secondary());
        assertTrue((c.primary() & 1 << 31) != 0);
    }

    @Test
    void flatAndElfImages() {
        MemorySegment ram = Arena.ofAuto().allocate(1 << 20, 4096);
        assertEquals(0x20000, GuestImage.load("flat", new byte[] {(byte) 0x90, (byte) 0xF4}, ram, 0x10000, 1 << 20, 0x20000, -1));
        assertEquals((byte) 0xF4, ram.get(ValueLayout.JAVA_BYTE, 0x20001));
        assertEquals(0x20001, GuestImage.load("flat", new byte[] {0}, ram, 0x10000, 1 << 20, 0x20000, 0x20001));

        // ELF64 header + one PT_LOAD: 4 bytes of code at file offset 120 -> paddr 0x30000, memsz 0x10.
        ByteBuffer b = ByteBuffer.allocate(124).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, 0x30002).putLong(32, 64)
                .putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putLong(64 + 8, 120).putLong(64 + 16, 0x30000).putLong(64 + 24, 0x30000)
                .putLong(64 + 32, 4).putLong(64 + 40, 0x10);
        b.put(120, new byte[] {1, 2, 3, 4});
        ram.set(ValueLayout.JAVA_LONG, 0x30008, -1L);
        assertEquals(0x30002, GuestImage.load("elf", b.array(), ram, 0x10000, 1 << 20, 0, -1));
        assertEquals(0x04030201, ram.get(ValueLayout.JAVA_INT, 0x30000));
        assertEquals(0, ram.get(ValueLayout.JAVA_LONG, 0x30008), "bss zeroed");
        b.putShort(18, (short) 3);
        GuestImage.BadImage e = assertThrows(GuestImage.BadImage.class, () -> GuestImage.load("elf", b.array(), ram, 0x10000, 1 << 20, 0, -1));
        assertEquals("elf: ELF machine 3 is not x86-64 (62)", e.getMessage());
    }
}
