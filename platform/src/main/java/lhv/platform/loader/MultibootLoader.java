package lhv.platform.loader;

import lhv.platform.memory.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots a Multiboot (version 1) kernel the way {@code qemu-system-x86_64 -kernel} does, so that
 * kernels built for QEMU find the same things here.
 *
 * <p>Context: Java host, before the guest starts.
 *
 * <p>What is loaded where (QEMU hw/i386/multiboot.c layout):
 * <ul>
 * <li>The kernel: with header flag 16 from the a.out-kludge address fields (load_addr,
 *     load_end_addr, bss_end_addr, entry_addr; the file offset follows from header_addr), otherwise
 *     the ELF program headers by physical address. ELF32 and ELF64 kernels are accepted; QEMU
 *     refuses ELF64 ("Cannot load x86-64 image") while GRUB loads it, and we follow GRUB. An ELF
 *     entry inside a segment whose virtual and physical addresses differ is translated to physical.</li>
 * <li>Right after the kernel, page aligned: the module list (16 bytes per module), the command lines
 *     (modules' first, then the kernel's) and the boot loader name; then each module, page aligned.</li>
 * <li>The BIOS-style memory map at 0x9000 and the information structure at 0x9500; a GDT at 0x9400.</li>
 * </ul>
 * The kernel command line is the image path, a space, and the {@code --append} text (QEMU builds
 * it exactly so, the space included when nothing is appended). A module is given as
 * {@code "FILE ARGS"}: the file is loaded and the whole string is its command line.
 *
 * <p>Machine state (specification 3.2): EAX = 0x2BADB002, EBX = information structure,
 * CS = 0x08 flat 32-bit execute/read, DS/ES/FS/GS/SS = 0x10 flat read/write (QEMU's selectors),
 * CR0 = PE|ET (paging off), EFLAGS = 2 (IF=0, VM=0), A20 enabled (there is no A20 gate),
 * ECX = entry point and ESP = 0x9000 (both undefined by the specification; QEMU's option ROM leaves
 * ECX so, and a kernel must set up its own stack).
 */
final class MultibootLoader {
    static final long MEMORY_MAP = 0x9000, GDT = 0x9400, INFO = 0x9500, INFO_AREA_END = 0xA000;
    static final long STACK_TOP = 0x9000;
    static final int BOOT_MAGIC = 0x2BADB002;
    static final String BOOT_LOADER_NAME = "lhv";
    static final int INFO_SIZE = 88;

    // Information structure flags (spec 3.3).
    static final int MBI_MEMORY = 1, MBI_BOOT_DEVICE = 1 << 1, MBI_CMDLINE = 1 << 2, MBI_MODS = 1 << 3,
            MBI_MMAP = 1 << 6, MBI_LOADER_NAME = 1 << 9;

    /** Memory-map entry types (spec 3.3, as the BIOS E820 call reports them). */
    static final int MMAP_AVAILABLE = 1, MMAP_RESERVED = 2;

    /** A module to load: the file and the full "FILE ARGS" string that becomes its command line. */
    record Module(String file, String commandLine, byte[] data) { }

    private MultibootLoader() { }

    static BootState load(GuestMemory mem, byte[] file, MultibootHeader h, String imageName, String append,
                          List<Module> modules) throws LoadException {
        LoadPlan plan = new LoadPlan(imageName);
        List<String> warnings = new ArrayList<>();
        if ((h.flags() & MultibootHeader.VIDEO_MODE) != 0) {
            warnings.add("the kernel asks for a video mode; there is no display, the request is ignored");
        }

        long low, high, entry;
        String format;
        if (h.hasAddressFields()) {
            format = "Multiboot (a.out kludge)";
            if (h.headerAddr() < h.loadAddr()) {
                throw new LoadException(imageName + ": Multiboot header_addr is below load_addr");
            }
            long textOffset = h.offset() - (h.headerAddr() - h.loadAddr());
            if (textOffset < 0) {
                throw new LoadException(imageName + ": Multiboot header_addr and load_addr put the load start before the file start");
            }
            long loadSize;
            if (h.loadEndAddr() != 0) {
                if (h.loadEndAddr() < h.loadAddr()) throw new LoadException(imageName + ": Multiboot load_end_addr is below load_addr");
                loadSize = h.loadEndAddr() - h.loadAddr();
            } else {
                loadSize = file.length - textOffset;
            }
            if (textOffset + loadSize > file.length) {
                throw new LoadException(imageName + ": truncated image (Multiboot load range extends past the end of the file)");
            }
            long memSize = loadSize;
            if (h.bssEndAddr() != 0) {
                if (h.bssEndAddr() < h.loadAddr() + loadSize) {
                    throw new LoadException(imageName + ": Multiboot bss_end_addr is below load_end_addr");
                }
                memSize = h.bssEndAddr() - h.loadAddr();
            }
            plan.copy("kernel", h.loadAddr(), memSize, file, (int) textOffset, (int) loadSize);
            low = h.loadAddr();
            high = h.loadAddr() + memSize;
            entry = h.entryAddr();
        } else {
            if (!ElfImage.isElf(file)) {
                throw new LoadException(imageName + ": Multiboot kernel is not ELF and its header has no address fields (flag 16)");
            }
            ElfImage elf = ElfImage.parse(file, imageName);
            format = "Multiboot ELF" + elf.bits();
            elf.plan(plan, file, imageName);
            low = elf.low();
            high = elf.high();
            entry = elf.physicalEntry();
        }
        if (entry < 0 || entry > 0xFFFF_FFFFL) {
            throw new LoadException(String.format("%s: entry point %#x is not reachable in 32-bit protected mode", imageName, entry));
        }
        if (high > 0x1_0000_0000L) {
            throw new LoadException(String.format("%s: kernel extends above 4 GiB (to %#x)", imageName, high));
        }

        // Information structures after the kernel, as QEMU lays them out.
        long bufStart = low;
        long infoStart = bufStart + pageAlign(high - low);
        int n = modules.size();
        long cmdlines = infoStart + 16L * n;
        ByteArrayBuilder strings = new ByteArrayBuilder();
        long[] moduleCmdline = new long[n];
        for (int i = 0; i < n; i++) moduleCmdline[i] = cmdlines + strings.addString(modules.get(i).commandLine());
        long kernelCmdline = cmdlines + strings.addString(imageName + " " + append);
        long loaderName = cmdlines + strings.addString(BOOT_LOADER_NAME);
        long next = pageAlign(cmdlines + strings.size());

        ByteBuffer modList = le(16 * n);
        for (int i = 0; i < n; i++) {
            Module m = modules.get(i);
            long start = next;
            long end = start + m.data().length;
            if (end > 0xFFFF_FFFFL) throw new LoadException("module " + m.file() + " would load above 4 GiB");
            plan.bytes("module " + m.file(), start, m.data());
            modList.putInt(16 * i, (int) start).putInt(16 * i + 4, (int) end).putInt(16 * i + 8, (int) moduleCmdline[i]);
            next = pageAlign(end);
        }
        if (n > 0) plan.bytes("Multiboot module list", infoStart, modList.array());
        plan.bytes("Multiboot command lines", cmdlines, strings.toArray());

        long ram = mem.ramSize();
        long[][] map = memoryMap(ram);
        ByteBuffer mmap = le(24 * map.length);
        for (int i = 0; i < map.length; i++) {
            mmap.putInt(24 * i, 20).putLong(24 * i + 4, map[i][0]).putLong(24 * i + 12, map[i][1]).putInt(24 * i + 20, (int) map[i][2]);
        }
        plan.bytes("Multiboot memory map", MEMORY_MAP, mmap.array());

        ByteBuffer info = le(INFO_SIZE);
        info.putInt(0, MBI_MEMORY | MBI_BOOT_DEVICE | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER_NAME);
        info.putInt(4, (int) (EBDA / 1024));                                    // mem_lower: KiB below the EBDA
        info.putInt(8, (int) Math.min((ram - 0x10_0000) / 1024, 0xFFFF_FFFFL)); // mem_upper: KiB from 1 MiB to the first hole
        info.putInt(12, 0x8000FFFF);                                            // boot_device: first hard disk, no partition (QEMU)
        info.putInt(16, (int) kernelCmdline);
        info.putInt(20, n);
        info.putInt(24, (int) infoStart);
        info.putInt(44, mmap.capacity());
        info.putInt(48, (int) MEMORY_MAP);
        info.putInt(64, (int) loaderName);
        plan.bytes("Multiboot information", INFO, info.array());

        ByteBuffer gdt = le(24);
        gdt.putLong(8, BootState.descriptor(BootState.CODE32_AR)).putLong(16, BootState.descriptor(BootState.DATA_AR));
        plan.bytes("boot GDT", GDT, gdt.array());

        plan.check(mem);
        plan.apply(mem);
        return new BootState(BootState.Mode.PROTECTED_FLAT, format, entry, BOOT_MAGIC & 0xFFFF_FFFFL, INFO, entry, STACK_TOP,
                BootState.CR0_PROTECTED, 0, 0, 0, 0x08, 0x10, BootState.CODE32_AR, BootState.DATA_AR, GDT, 23,
                List.copyOf(warnings));
    }

    /** Start of the extended BIOS data area a PC BIOS reserves at the top of conventional memory. */
    static final long EBDA = 0x9FC00;

    /**
     * The memory map of this board, as a PC BIOS reports it: conventional memory below the EBDA,
     * the EBDA and the BIOS area (0xF0000-0xFFFFF) reserved, RAM above 1 MiB. Rows: base, length, type.
     */
    static long[][] memoryMap(long ram) {
        return new long[][]{
                {0, EBDA, MMAP_AVAILABLE},
                {EBDA, 0xA0000 - EBDA, MMAP_RESERVED},
                {0xF0000, 0x10000, MMAP_RESERVED},
                {0x100000, ram - 0x100000, MMAP_AVAILABLE},
        };
    }

    static long pageAlign(long v) {
        return (v + 0xFFF) & ~0xFFFL;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** NUL-terminated strings packed one after the other. */
    private static final class ByteArrayBuilder {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        int addString(String s) {
            int at = out.size();
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return at;
        }

        int size() {
            return out.size();
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }
}
