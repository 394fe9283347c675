package lhv.platform.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Multiboot (version 0.6.96) header of a kernel image: found in the first 8192 bytes, 32-bit
 * aligned, magic 0x1BADB002 with a checksum making magic + flags + checksum zero (specification
 * section 3.1).
 *
 * <p>Context: Java host, while loading an image.
 *
 * @param offset file offset of the header
 */
record MultibootHeader(int offset, int flags, long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr,
                       long entryAddr) {
    static final int MAGIC = 0x1BADB002;
    /** How far into the file the header may start (spec 3.1: within the first 8192 bytes). */
    static final int SEARCH_LIMIT = 8192;

    /** Flag bits, spec 3.1.2. Bits 0-15 are requirements: a loader that does not know one must refuse. */
    static final int PAGE_ALIGN = 1, MEMORY_INFO = 1 << 1, VIDEO_MODE = 1 << 2, AOUT_KLUDGE = 1 << 16;
    static final int SUPPORTED_REQUIRED = PAGE_ALIGN | MEMORY_INFO | VIDEO_MODE;

    /**
     * Finds the header. Returns null when the file has none; a magic whose checksum is wrong is
     * reported (when no valid header follows) because such an image was meant to be Multiboot.
     */
    static MultibootHeader find(byte[] file, String name) throws LoadException {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int limit = Math.min(file.length, SEARCH_LIMIT);
        int badChecksumAt = -1;
        for (int i = 0; i + 12 <= limit; i += 4) {
            if (b.getInt(i) != MAGIC) continue;
            int flags = b.getInt(i + 4);
            int checksum = b.getInt(i + 8);
            if (MAGIC + flags + checksum != 0) {
                if (badChecksumAt < 0) badChecksumAt = i;
                continue;
            }
            if ((flags & 0xFFFF & ~SUPPORTED_REQUIRED) != 0) {
                throw new LoadException(String.format("%s: Multiboot header requires features this loader does not support (flags %#x)",
                        name, flags));
            }
            if ((flags & AOUT_KLUDGE) != 0) {
                if (i + 32 > file.length) throw new LoadException(name + ": truncated Multiboot header (address fields missing)");
                if (i + 32 > SEARCH_LIMIT) {
                    throw new LoadException(name + ": Multiboot header extends past the first 8192 bytes of the image");
                }
                return new MultibootHeader(i, flags, u32(b, i + 12), u32(b, i + 16), u32(b, i + 20), u32(b, i + 24), u32(b, i + 28));
            }
            return new MultibootHeader(i, flags, 0, 0, 0, 0, 0);
        }
        if (badChecksumAt >= 0) {
            throw new LoadException(String.format("%s: Multiboot header at offset %#x has a bad checksum", name, badChecksumAt));
        }
        return null;
    }

    private static long u32(ByteBuffer b, int at) {
        return b.getInt(at) & 0xFFFF_FFFFL;
    }

    boolean hasAddressFields() {
        return (flags & AOUT_KLUDGE) != 0;
    }
}
