package lhv.hypervisor.setup;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Puts a guest program into guest memory: a flat binary copied to the load address (entry = the
 * configured entry point, else the load address), or an ELF64 x86-64 executable whose PT_LOAD
 * segments go to their physical addresses (p_paddr; bss zeroed) with entry e_entry.
 *
 * <p>Context: Java host, before VMX bring-up. Addresses are machine-physical; the guest sees them at
 * the same linear addresses through the host's identity map.
 */
public final class GuestImage {
    private GuestImage() { }

    /** A guest image that cannot be loaded (bad ELF, outside guest memory): one line for the user. */
    public static final class BadImage extends RuntimeException {
        public BadImage(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Loads {@code image} into {@code ram} within {@code [memBase, memEnd)}; returns the entry point.
     * {@code configuredEntry < 0} means "from the image".
     */
    public static long load(String name, byte[] image, MemorySegment ram, long memBase, long memEnd, long loadAddress, long configuredEntry) {
        if (isElf(image)) return loadElf(name, image, ram, memBase, memEnd, configuredEntry);
        check(name, "image", loadAddress, image.length, memBase, memEnd);
        MemorySegment.copy(MemorySegment.ofArray(image), 0, ram, loadAddress, image.length);
        return configuredEntry >= 0 ? configuredEntry : loadAddress;
    }

    public static boolean isElf(byte[] b) {
        return b.length >= 4 && b[0] == 0x7F && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
    }

    private static long loadElf(String name, byte[] image, MemorySegment ram, long memBase, long memEnd, long configuredEntry) {
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < 64 || image[4] != 2 || image[5] != 1) throw new BadImage(name + ": not a little-endian ELF64 file");
        if (b.getShort(18) != 62) throw new BadImage(name + ": ELF machine " + b.getShort(18) + " is not x86-64 (62)");
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xFFFF, phnum = b.getShort(56) & 0xFFFF;
        int loaded = 0;
        for (int i = 0; i < phnum; i++) {
            // In long arithmetic, compared without sums that can wrap: phoff and the segment fields are
            // the file's, any 64-bit value.
            long at = phoff + (long) i * phentsize;
            if (phoff < 0 || phoff > image.length || at < 0 || at > image.length - 56) {
                throw new BadImage(name + ": program header " + i + " is outside the file");
            }
            int ph = (int) at;
            if (b.getInt(ph) != 1) continue;   // PT_LOAD
            long offset = b.getLong(ph + 8), paddr = b.getLong(ph + 24), filesz = b.getLong(ph + 32), memsz = b.getLong(ph + 40);
            if (offset < 0 || filesz < 0 || offset > image.length || filesz > image.length - offset || filesz > memsz) {
                throw new BadImage(name + ": segment " + i + " is malformed");
            }
            check(name, "segment " + i, paddr, memsz, memBase, memEnd);
            MemorySegment.copy(MemorySegment.ofArray(image), offset, ram, paddr, filesz);
            ram.asSlice(paddr + filesz, memsz - filesz).fill((byte) 0);
            loaded++;
        }
        if (loaded == 0) throw new BadImage(name + ": no PT_LOAD segment");
        return configuredEntry >= 0 ? configuredEntry : entry;
    }

    private static void check(String name, String what, long at, long size, long memBase, long memEnd) {
        if (at < memBase || at + size > memEnd || at + size < at) {
            throw new BadImage(String.format("%s: %s at %#x (%d bytes) is outside guest memory [%#x-%#x)", name, what, at, size, memBase, memEnd));
        }
    }
}
