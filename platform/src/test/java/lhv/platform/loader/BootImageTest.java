package lhv.platform.loader;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Segment;
import lhv.cpu.model.CpuModel;
import lhv.platform.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static lhv.platform.loader.TestImages.*;
import static org.junit.jupiter.api.Assertions.*;

class BootImageTest {
    @TempDir Path dir;
    final GuestMemory mem = new GuestMemory(64L << 20);

    @AfterEach
    void close() {
        mem.close();
    }

    BootState load(Path p) throws LoadException {
        return BootImage.of(p).load(mem);
    }

    String error(byte[] img) throws Exception {
        Path p = write(dir, "x", img);
        return assertThrows(LoadException.class, () -> load(p)).getMessage().substring(p.toString().length() + 2);
    }

    @Test
    void plainElf64StartsInLongModeWithIdentityPaging() throws Exception {
        byte[] code = {(byte) 0xF4};
        BootState s = load(write(dir, "k.elf", elf(64, 62, 0x200000, List.of(new Seg(0x200000, 0x200000, code, 0x1000)), new byte[0])));
        assertEquals(BootState.Mode.LONG_64, s.mode());
        assertEquals("ELF64", s.format());
        assertEquals(0x200000, s.entry());
        assertEquals(0xF4, mem.get8(0x200000));
        assertEquals(0x2000, s.cr3());
        assertEquals(Cr.CR4_PAE, s.cr4());
        assertEquals(Cr.EFER_LME | Cr.EFER_LMA, s.efer());
        assertTrue((s.cr0() & Cr.CR0_PG) != 0 && (s.cr0() & Cr.CR0_PE) != 0);
        assertEquals(0x80000, s.esp());
        assertEquals(0, s.esp() & 0xF, "16-byte aligned stack");
        // Page walk by hand (SDM 4.5): PML4[0] -> PDPT, PDPT[3] -> PD 4, PD entry 0x7FF maps 0xFFE00000.
        long pml4e = mem.get64(0x2000);
        assertEquals(0x3003, pml4e);
        long pdpte = mem.get64((pml4e & ~0xFFFL) + 8 * 3);
        assertEquals(0x7003, pdpte);
        assertEquals(0xFFE00000L | 0x83, mem.get64((pdpte & ~0xFFFL) + 8 * 511));
        assertEquals(0x83, mem.get64(0x4000), "first 2 MiB page maps physical 0");
        // GDT: 64-bit code segment at 0x08 (L=1, D=0), data at 0x10.
        assertEquals(0x00AF9B000000FFFFL, mem.get64(0x1008));
        assertEquals(0x00CF93000000FFFFL, mem.get64(0x1010));
    }

    @Test
    void flatBinaryGoesToItsAddressAndRunsFromItsFirstByte() throws Exception {
        Path p = write(dir, "flat.bin", new byte[]{(byte) 0x90, (byte) 0xF4});
        BootState s = new BootImage(p, "flat.bin", "", List.of(), OptionalLong.of(0x100000)).load(mem);
        assertEquals("flat binary", s.format());
        assertEquals(0x100000, s.entry());
        assertEquals(0x90, mem.get8(0x100000));
        assertEquals(BootState.Mode.LONG_64, s.mode());
    }

    @Test
    void flatBinaryOverTheBootTablesIsRefused() throws Exception {
        Path p = write(dir, "flat.bin", new byte[16]);
        LoadException e = assertThrows(LoadException.class,
                () -> new BootImage(p, "flat.bin", "", List.of(), OptionalLong.of(0x2000)).load(mem));
        assertEquals("flat.bin: flat binary at [0x2000, 0x2010) overlaps boot page tables at [0x2000, 0x8000)", e.getMessage());
    }

    @Test
    void bootStateIsAppliedToTheProcessor() throws Exception {
        BootState s = load(write(dir, "k.elf", elf(64, 62, 0x200000, List.of(new Seg(0x200000, 0x200000, new byte[1], 1)), new byte[0])));
        Cpu cpu = new Cpu(CpuModel.withVmx(), mem);
        s.applyTo(cpu);
        assertEquals(Mode.LONG64, cpu.mode);
        assertEquals(0x200000, cpu.rip);
        assertEquals(0x80000, cpu.gpr[Cpu.RSP]);
        assertEquals(2, cpu.getRflags());
        assertEquals(0x08, cpu.seg[Segment.CS].selector);
        assertTrue(cpu.seg[Segment.CS].longMode());

        BootState mb = BootImage.of(hello()).load(mem);
        Cpu cpu2 = new Cpu(CpuModel.withVmx(), mem);
        mb.applyTo(cpu2);
        assertEquals(Mode.PROTECTED, cpu2.mode);
        assertEquals(0x2BADB002L, cpu2.gpr[Cpu.RAX]);
        assertEquals(0x9500, cpu2.gpr[Cpu.RBX]);
        assertEquals(0xFFFF_FFFF, cpu2.seg[Segment.DS].limit);
        assertTrue(cpu2.seg[Segment.CS].big());
        assertEquals(0x9400, cpu2.gdtrBase);
        assertEquals(0x00CF9B000000FFFFL, mem.get64(0x9408), "GDT holds the descriptor CS was loaded from");
    }

    @Test
    void missingEmptyAndDirectoryImages() throws Exception {
        Path missing = dir.resolve("nope.elf");
        assertEquals(missing + ": no such image file", assertThrows(LoadException.class, () -> load(missing)).getMessage());
        Path empty = write(dir, "empty", new byte[0]);
        assertEquals(empty + ": empty image file", assertThrows(LoadException.class, () -> load(empty)).getMessage());
        assertEquals(dir + ": is a directory, not an image file",
                assertThrows(LoadException.class, () -> load(dir)).getMessage());
    }

    @Test
    void malformedElfFiles() throws Exception {
        byte[] good = elf(64, 62, 0x200000, List.of(new Seg(0x200000, 0x200000, new byte[64], 64)), new byte[0]);
        assertEquals("truncated ELF header", error(java.util.Arrays.copyOf(good, 40)));
        assertEquals("truncated ELF file (segment 0 extends past the end)", error(java.util.Arrays.copyOf(good, good.length - 1)));
        byte[] arm = good.clone();
        arm[18] = 40; // EM_ARM
        assertEquals("not an x86 ELF file (e_machine 40)", error(arm));
        byte[] be = good.clone();
        be[5] = 2;
        assertEquals("not a little-endian ELF file", error(be));
        byte[] dyn = good.clone();
        dyn[16] = 3;
        assertEquals("not an executable ELF file (e_type 3)", error(dyn));
        byte[] mixed = good.clone();
        mixed[18] = 3;
        assertEquals("ELF class and machine disagree (ELF64 with e_machine 3)", error(mixed));
        byte[] noPh = good.clone();
        noPh[56] = 0;
        assertEquals("ELF file has no program headers", error(noPh));
        byte[] phTable = good.clone();
        phTable[32] = (byte) 0xF0; // e_phoff far past the end
        assertEquals("truncated ELF program header table", error(phTable));
        byte[] phWraps = good.clone();
        java.nio.ByteBuffer.wrap(phWraps).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(32, Long.MAX_VALUE - 8); // e_phoff + size wraps
        assertEquals("truncated ELF program header table", error(phWraps));
        byte[] fileGtMem = elf(64, 62, 0x200000, List.of(new Seg(0x200000, 0x200000, new byte[64], 8)), new byte[0]);
        assertEquals("ELF segment 0 has p_filesz larger than p_memsz", error(fileGtMem));
    }

    @Test
    void elf32WithoutMultibootIsRefused() throws Exception {
        byte[] img = elf(32, 3, 0x100000, List.of(new Seg(0x100000, 0x100000, new byte[4], 4)), new byte[0]);
        assertEquals("ELF32 image without a Multiboot header (only Multiboot kernels may be 32-bit)", error(img));
    }

    @Test
    void elfSegmentOutsideRamIsRefused() throws Exception {
        byte[] img = elf(64, 62, 0x200000, List.of(new Seg(0x8000000, 0x8000000, new byte[4], 4)), new byte[0]);
        assertEquals("ELF segment at [0x8000000, 0x8000004) does not fit in guest RAM (64 MiB)", error(img));
    }

    @Test
    void unknownFormatIsRefused() throws Exception {
        assertEquals("not a Multiboot kernel or an ELF64 executable (give --flat-address to load a flat binary)",
                error(new byte[]{1, 2, 3, 4, 5}));
    }

    @Test
    void initrdNeedsMultiboot() throws Exception {
        Path p = write(dir, "k.elf", elf(64, 62, 0x200000, List.of(new Seg(0x200000, 0x200000, new byte[1], 1)), new byte[0]));
        LoadException e = assertThrows(LoadException.class,
                () -> new BootImage(p, "k.elf", "", List.of("m"), OptionalLong.empty()).load(mem));
        assertEquals("k.elf: --initrd needs a Multiboot kernel", e.getMessage());
    }

    @Test
    void flatBinaryTakesNoModulesAndWarnsAboutAnAppendedCommandLine() throws Exception {
        Path p = write(dir, "flat.bin", new byte[]{(byte) 0xF4});
        LoadException e = assertThrows(LoadException.class,
                () -> new BootImage(p, "flat.bin", "", List.of("m"), OptionalLong.of(0x100000)).load(mem));
        assertEquals("flat.bin: --initrd needs a Multiboot kernel", e.getMessage());
        BootState s = new BootImage(p, "flat.bin", "quiet", List.of(), OptionalLong.of(0x100000)).load(mem);
        assertEquals(List.of("--append is ignored: only a Multiboot kernel receives a command line"), s.warnings());
    }

    @Test
    void initrdListSplitsOnCommasWithDoubledCommaEscape() {
        assertEquals(List.of("a", "b c", "d,e"), BootImage.splitModules("a,b c,d,,e"));
        assertEquals(List.of(), BootImage.splitModules(""));
    }
}
