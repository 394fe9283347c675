package lhv.platform.loader;

import lhv.platform.memory.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

import static lhv.platform.loader.TestImages.*;
import static org.junit.jupiter.api.Assertions.*;

class MultibootLoaderTest {
    @TempDir Path dir;
    final GuestMemory mem = new GuestMemory(256L << 20);

    @AfterEach
    void close() {
        mem.close();
    }

    String cString(long pa) {
        StringBuilder s = new StringBuilder();
        for (int c; (c = mem.get8(pa)) != 0; pa++) s.append((char) c);
        return s.toString();
    }

    BootState boot(Path image, String append, String... modules) throws LoadException {
        return new BootImage(image, image.toString(), append, List.of(modules), OptionalLong.empty()).load(mem);
    }

    @Test
    void helloKernelGetsTheMultibootMachineState() throws Exception {
        BootState s = boot(hello(), "hi there");
        assertEquals(BootState.Mode.PROTECTED_FLAT, s.mode());
        assertEquals("Multiboot ELF32", s.format());
        assertEquals(0x100000, s.entry());
        assertEquals(0x2BADB002L, s.eax());
        assertEquals(0x9500, s.ebx());
        assertEquals(0x11, s.cr0(), "PE and ET, paging off");
        assertEquals(0x08, s.codeSelector());
        assertEquals(0x10, s.dataSelector());
        byte[] file = Files.readAllBytes(hello());
        assertEquals(file[0x60] & 0xFF, mem.get8(0x100000), "first byte of the text segment at its physical address");
    }

    @Test
    void informationStructureAsQemuFillsIt() throws Exception {
        Path img = hello();
        BootState s = boot(img, "console=ttyS0");
        long mbi = s.ebx();
        assertEquals(0x24F, mem.get32(mbi), "memory, boot device, cmdline, mods, mmap, loader name");
        assertEquals(639, mem.get32(mbi + 4), "mem_lower: KiB below the EBDA");
        assertEquals((256 - 1) * 1024, mem.get32(mbi + 8), "mem_upper: KiB above 1 MiB");
        assertEquals(0x8000FFFFL, mem.get32(mbi + 12));
        assertEquals(img + " console=ttyS0", cString(mem.get32(mbi + 16)));
        assertEquals(0, mem.get32(mbi + 20), "no modules");
        assertEquals("lhv", cString(mem.get32(mbi + 64)));
    }

    @Test
    void commandLineKeepsTheSpaceWhenNothingIsAppended() throws Exception {
        BootState s = boot(hello(), "");
        assertEquals(hello() + " ", cString(mem.get32(s.ebx() + 16)));
    }

    @Test
    void memoryMapDescribesThePcLayout() throws Exception {
        BootState s = boot(hello(), "");
        long len = mem.get32(s.ebx() + 44), addr = mem.get32(s.ebx() + 48);
        assertEquals(0x9000, addr);
        assertEquals(4 * 24, len);
        long[][] expected = {{0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xF0000, 0x10000, 2}, {0x100000, (256L << 20) - 0x100000, 1}};
        long p = addr;
        for (long[] e : expected) {
            assertEquals(20, mem.get32(p), "entry size field");
            assertEquals(e[0], mem.get64(p + 4));
            assertEquals(e[1], mem.get64(p + 12));
            assertEquals(e[2], mem.get32(p + 20));
            p += 24;
        }
    }

    @Test
    void modulesAreLoadedPageAlignedWithTheirCommandLines() throws Exception {
        Path a = write(dir, "a.bin", "module-A".getBytes(StandardCharsets.US_ASCII));
        Path b = write(dir, "b.bin", new byte[5000]);
        BootState s = boot(hello(), "", a + " arg1 arg2", b.toString());
        long mbi = s.ebx();
        assertEquals(2, mem.get32(mbi + 20));
        long list = mem.get32(mbi + 24);
        assertEquals(0, list & 0xFFF, "module list starts on the page after the kernel");
        long start0 = mem.get32(list), end0 = mem.get32(list + 4);
        long start1 = mem.get32(list + 16), end1 = mem.get32(list + 20);
        assertEquals(0, start0 & 0xFFF);
        assertEquals(8, end0 - start0);
        assertEquals("module-A", new String(mem.bytes(start0, 8), StandardCharsets.US_ASCII));
        assertEquals(a + " arg1 arg2", cString(mem.get32(list + 8)));
        assertEquals(start0 + 0x1000, start1);
        assertEquals(5000, end1 - start1);
        assertEquals(b.toString(), cString(mem.get32(list + 24)));
        assertTrue(list > 0x100000 && list < start0);
    }

    @Test
    void missingModuleIsALoadError() {
        LoadException e = assertThrows(LoadException.class, () -> boot(hello(), "", dir.resolve("nope.bin") + " x"));
        assertEquals(dir.resolve("nope.bin") + ": no such module file", e.getMessage());
    }

    @Test
    void aoutKludgeLoadsTheFileRangeAndZeroesBss() throws Exception {
        // File: 32-byte header at offset 0 which is loaded at 0x200000; code follows; bss to 0x203000.
        byte[] code = {(byte) 0xF4, 1, 2, 3};
        byte[] img = concat(aoutHeader(0, 0x200000, 0x200000, 0x200000 + 36, 0x203000, 0x200020), code);
        mem.fill(0x200024, 0x100, (byte) 0x77); // stale bytes where the bss will be
        BootState s = boot(write(dir, "aout.bin", img), "");
        assertEquals("Multiboot (a.out kludge)", s.format());
        assertEquals(0x200020, s.entry());
        assertEquals(0xF4, mem.get8(0x200020));
        assertEquals(0x1BADB002L, mem.get32(0x200000));
        assertEquals(0, mem.get8(0x200024));
        assertEquals(0, mem.get8(0x202FFF));
        assertEquals(0x203000, mem.get32(s.ebx() + 24), "module list right after the (page-aligned) kernel end");
    }

    @Test
    void aoutKludgeWithHeaderInsideTheImage() throws Exception {
        // 64 bytes of code, then the header at file offset 64 describing load_addr 0x300000, load to end of file.
        byte[] code = new byte[64];
        code[0] = (byte) 0x90;
        byte[] img = concat(code, aoutHeader(0, 0x300040, 0x300000, 0, 0, 0x300000));
        BootState s = boot(write(dir, "aout2.bin", img), "");
        assertEquals(0x300000, s.entry());
        assertEquals(0x90, mem.get8(0x300000));
        assertEquals(0x1BADB002L, mem.get32(0x300040));
    }

    @Test
    void aoutKludgeBadAddressFields() throws Exception {
        assertLoadError(concat(aoutHeader(0, 0x100000, 0x200000, 0, 0, 0x200000), new byte[16]),
                "Multiboot header_addr is below load_addr");
        assertLoadError(concat(aoutHeader(0, 0x200000, 0x200000, 0x1FFFFF, 0, 0x200000), new byte[16]),
                "Multiboot load_end_addr is below load_addr");
        assertLoadError(concat(aoutHeader(0, 0x200000, 0x200000, 0x200030, 0x200010, 0x200000), new byte[16]),
                "Multiboot bss_end_addr is below load_end_addr");
        assertLoadError(concat(aoutHeader(0, 0x200000, 0x200000, 0x201000, 0, 0x200000), new byte[16]),
                "truncated image (Multiboot load range extends past the end of the file)");
        assertLoadError(concat(aoutHeader(0, 0x200100, 0x200000, 0, 0, 0x200000), new byte[16]),
                "Multiboot header_addr and load_addr put the load start before the file start");
    }

    @Test
    void kernelOutsideGuestRamIsRefusedBeforeAnythingIsWritten() throws Exception {
        byte[] img = concat(aoutHeader(0, 0x1000_0000, 0x1000_0000, 0, 0, 0x1000_0000), new byte[16]);
        LoadException e = assertThrows(LoadException.class, () -> boot(write(dir, "big.bin", img), ""));
        assertTrue(e.getMessage().contains("does not fit in guest RAM (256 MiB)"), e.getMessage());
        assertEquals(0, mem.get32(0x9500), "no information structure was written");
    }

    @Test
    void kernelOverTheInformationAreaIsRefused() throws Exception {
        byte[] img = concat(aoutHeader(0, 0x9000, 0x9000, 0, 0, 0x9000), new byte[64]);
        LoadException e = assertThrows(LoadException.class, () -> boot(write(dir, "low.bin", img), ""));
        assertTrue(e.getMessage().contains("overlaps Multiboot memory map"), e.getMessage());
    }

    @Test
    void elf64MultibootKernelIsLoadedAndStartedIn32BitMode() throws Exception {
        byte[] code = {(byte) 0xF4};
        byte[] img = elf(64, 62, 0x400000, List.of(new Seg(0x400000, 0x400000, code, 0x2000)), multibootHeader(0x3));
        BootState s = boot(write(dir, "k64.elf", img), "");
        assertEquals("Multiboot ELF64", s.format());
        assertEquals(BootState.Mode.PROTECTED_FLAT, s.mode());
        assertEquals(0x400000, s.entry());
        assertEquals(0xF4, mem.get8(0x400000));
    }

    @Test
    void higherHalfEntryIsTranslatedToPhysical() throws Exception {
        byte[] code = {(byte) 0x90, (byte) 0xF4};
        byte[] img = elf(32, 3, 0xC0100001L, List.of(new Seg(0xC0100000L, 0x100000, code, 2)), multibootHeader(0));
        BootState s = boot(write(dir, "hh.elf", img), "");
        assertEquals(0x100001, s.entry());
    }

    @Test
    void higherHalfElf64MultibootKernelStartsAtItsPhysicalEntry() throws Exception {
        byte[] code = {(byte) 0xF4};
        byte[] img = elf(64, 62, 0xFFFFFFFF80100000L,
                List.of(new Seg(0xFFFFFFFF80100000L, 0x100000, code, 0x1000)), multibootHeader(0));
        BootState s = boot(write(dir, "hh64.elf", img), "");
        assertEquals(0x100000, s.entry());
        assertEquals(0xF4, mem.get8(0x100000));
    }

    @Test
    void entryAbove4GiBIsRefused() throws Exception {
        byte[] img = elf(64, 62, 0x1_0000_0000L, List.of(new Seg(0x100000, 0x100000, new byte[1], 1)), multibootHeader(0));
        assertLoadError(img, "entry point 0x100000000 is not reachable in 32-bit protected mode");
    }

    @Test
    void badChecksumIsNamed() throws Exception {
        byte[] hdr = multibootHeader(0);
        hdr[8] ^= 1;
        LoadException e = assertThrows(LoadException.class, () -> boot(write(dir, "bad.bin", concat(new byte[16], hdr)), ""));
        assertEquals(dir.resolve("bad.bin") + ": Multiboot header at offset 0x10 has a bad checksum", e.getMessage());
    }

    @Test
    void headerBeyondTheFirst8KiBIsNotSeen() throws Exception {
        byte[] img = concat(new byte[8192], multibootHeader(0));
        LoadException e = assertThrows(LoadException.class, () -> boot(write(dir, "far.bin", img), ""));
        assertTrue(e.getMessage().endsWith("not a Multiboot kernel or an ELF64 executable (give --flat-address to load a flat binary)"));
    }

    @Test
    void addressFieldsMustBeInsideTheFirst8KiBAndInsideTheFile() throws Exception {
        byte[] hdr = aoutHeader(0, 0x200000, 0x200000, 0, 0, 0x200000);
        assertLoadError(concat(new byte[8192 - 16], hdr), "Multiboot header extends past the first 8192 bytes of the image");
        assertLoadError(java.util.Arrays.copyOf(hdr, 20), "truncated Multiboot header (address fields missing)");
    }

    @Test
    void unsupportedRequiredFlagsAreRefused() throws Exception {
        byte[] img = elf(32, 3, 0x100000, List.of(new Seg(0x100000, 0x100000, new byte[4], 4)), multibootHeader(1 << 3));
        LoadException e = assertThrows(LoadException.class, () -> boot(write(dir, "f.elf", img), ""));
        assertEquals(dir.resolve("f.elf") + ": Multiboot header requires features this loader does not support (flags 0x8)", e.getMessage());
    }

    @Test
    void videoModeRequestIsAWarningNotAnError() throws Exception {
        byte[] img = elf(32, 3, 0x100000, List.of(new Seg(0x100000, 0x100000, new byte[4], 4)), multibootHeader(0x7));
        BootState s = boot(write(dir, "v.elf", img), "");
        assertEquals(1, s.warnings().size());
        assertTrue(s.warnings().get(0).contains("video mode"));
    }

    @Test
    void nonElfWithoutAddressFieldsIsRefused() throws Exception {
        assertLoadError(concat(multibootHeader(0), new byte[32]), "Multiboot kernel is not ELF and its header has no address fields (flag 16)");
    }

    void assertLoadError(byte[] img, String expectedSuffix) throws Exception {
        Path p = write(dir, "img.bin", img);
        LoadException e = assertThrows(LoadException.class, () -> boot(p, ""));
        assertEquals(p + ": " + expectedSuffix, e.getMessage());
    }
}
