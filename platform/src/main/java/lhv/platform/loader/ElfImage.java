package lhv.platform.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of an ELF executable a boot loader needs (System V ABI, ELF-32 and ELF-64 object file
 * formats): class, machine, entry point and the loadable (PT_LOAD) segments, with every offset and
 * size checked against the file.
 *
 * <p>Context: Java host, while loading an image.
 */
record ElfImage(int bits, int machine, long entry, List<Segment> segments) {
    static final int EM_386 = 3, EM_X86_64 = 62;
    static final int ET_EXEC = 2;
    static final int PT_LOAD = 1;

    /** A PT_LOAD segment: {@code fileSize} bytes at {@code offset} go to physical {@code paddr}, then zeros up to {@code memSize}. */
    record Segment(long offset, long vaddr, long paddr, long fileSize, long memSize) { }

    static boolean isElf(byte[] file) {
        return file.length >= 4 && file[0] == 0x7F && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
    }

    static ElfImage parse(byte[] file, String name) throws LoadException {
        if (!isElf(file)) throw new LoadException(name + ": not an ELF file");
        if (file.length < 52) throw new LoadException(name + ": truncated ELF header");
        int cls = file[4];
        if (cls != 1 && cls != 2) throw new LoadException(name + ": bad ELF class " + cls);
        if (file[5] != 1) throw new LoadException(name + ": not a little-endian ELF file");
        boolean is64 = cls == 2;
        if (is64 && file.length < 64) throw new LoadException(name + ": truncated ELF header");
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int type = b.getShort(16) & 0xFFFF;
        int machine = b.getShort(18) & 0xFFFF;
        if (machine != EM_386 && machine != EM_X86_64) {
            throw new LoadException(name + ": not an x86 ELF file (e_machine " + machine + ")");
        }
        if ((machine == EM_386) != !is64) {
            throw new LoadException(name + ": ELF class and machine disagree (" + (is64 ? "ELF64" : "ELF32")
                    + " with e_machine " + machine + ")");
        }
        if (type != ET_EXEC) throw new LoadException(name + ": not an executable ELF file (e_type " + type + ")");
        long entry = is64 ? b.getLong(24) : b.getInt(24) & 0xFFFF_FFFFL;
        long phoff = is64 ? b.getLong(32) : b.getInt(28) & 0xFFFF_FFFFL;
        int phentsize = b.getShort(is64 ? 54 : 42) & 0xFFFF;
        int phnum = b.getShort(is64 ? 56 : 44) & 0xFFFF;
        int minEntry = is64 ? 56 : 32;
        if (phnum == 0) throw new LoadException(name + ": ELF file has no program headers");
        if (phentsize < minEntry) throw new LoadException(name + ": bad ELF program header size " + phentsize);
        // Compared without adding to phoff, which may be near Long.MAX_VALUE (the sum would wrap).
        if (phoff < 0 || phoff > file.length || (long) phnum * phentsize > file.length - phoff) {
            throw new LoadException(name + ": truncated ELF program header table");
        }
        List<Segment> segments = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = (int) (phoff + (long) i * phentsize);
            if (b.getInt(at) != PT_LOAD) continue;
            Segment s = is64
                    ? new Segment(b.getLong(at + 8), b.getLong(at + 16), b.getLong(at + 24), b.getLong(at + 32), b.getLong(at + 40))
                    : new Segment(u32(b, at + 4), u32(b, at + 8), u32(b, at + 12), u32(b, at + 16), u32(b, at + 20));
            if (s.memSize == 0) continue;
            if (s.fileSize < 0 || s.memSize < 0 || s.fileSize > s.memSize) {
                throw new LoadException(name + ": ELF segment " + i + " has p_filesz larger than p_memsz");
            }
            if (s.offset < 0 || s.offset + s.fileSize > file.length || s.offset + s.fileSize < s.offset) {
                throw new LoadException(name + ": truncated ELF file (segment " + i + " extends past the end)");
            }
            segments.add(s);
        }
        if (segments.isEmpty()) throw new LoadException(name + ": ELF file has no loadable segments");
        return new ElfImage(is64 ? 64 : 32, machine, entry, List.copyOf(segments));
    }

    private static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xFFFF_FFFFL;
    }

    /** Lowest physical address loaded. */
    long low() {
        return segments.stream().mapToLong(Segment::paddr).min().orElseThrow();
    }

    /** End (exclusive) of the highest physical address loaded. */
    long high() {
        return segments.stream().mapToLong(s -> s.paddr + s.memSize).max().orElseThrow();
    }

    /**
     * The entry point as a physical address: a virtual entry inside a segment whose virtual and
     * physical addresses differ (a higher-half kernel) is translated through that segment, as GRUB
     * does; otherwise it is used as is.
     */
    long physicalEntry() {
        for (Segment s : segments) {
            if (entry >= s.vaddr && entry - s.vaddr < s.memSize) return entry - s.vaddr + s.paddr;
        }
        return entry;
    }

    void plan(LoadPlan plan, byte[] file, String name) {
        for (Segment s : segments) {
            plan.copy("ELF segment", s.paddr, s.memSize, file, (int) s.offset, (int) s.fileSize);
        }
    }
}
