package lhv.platform.loader;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Builds small boot images for loader tests (byte layouts from the ELF and Multiboot specifications). */
final class TestImages {
    private TestImages() { }

    record Seg(long vaddr, long paddr, byte[] data, long memSize) { }

    /** An ELF executable with one program header per segment; data follows the headers. */
    static byte[] elf(int bits, int machine, long entry, List<Seg> segs, byte[] prefixAfterHeaders) {
        boolean is64 = bits == 64;
        int ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
        int dataStart = ehsize + phsize * segs.size();
        int total = dataStart + prefixAfterHeaders.length + segs.stream().mapToInt(s -> s.data.length).sum();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[]{0x7F, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) machine).putInt(20, 1);
        if (is64) {
            b.putLong(24, entry).putLong(32, ehsize).putShort(52, (short) ehsize).putShort(54, (short) phsize).putShort(56, (short) segs.size());
        } else {
            b.putInt(24, (int) entry).putInt(28, ehsize).putShort(40, (short) ehsize).putShort(42, (short) phsize).putShort(44, (short) segs.size());
        }
        b.position(dataStart);
        b.put(prefixAfterHeaders);
        int off = b.position();
        for (int i = 0; i < segs.size(); i++) {
            Seg s = segs.get(i);
            int ph = ehsize + i * phsize;
            if (is64) {
                b.putInt(ph, 1).putInt(ph + 4, 7).putLong(ph + 8, off).putLong(ph + 16, s.vaddr).putLong(ph + 24, s.paddr)
                        .putLong(ph + 32, s.data.length).putLong(ph + 40, s.memSize).putLong(ph + 48, 0x1000);
            } else {
                b.putInt(ph, 1).putInt(ph + 4, off).putInt(ph + 8, (int) s.vaddr).putInt(ph + 12, (int) s.paddr)
                        .putInt(ph + 16, s.data.length).putInt(ph + 20, (int) s.memSize).putInt(ph + 24, 7).putInt(ph + 28, 0x1000);
            }
            b.position(off);
            b.put(s.data);
            off += s.data.length;
        }
        return b.array();
    }

    /** A 12-byte Multiboot header with a correct checksum. */
    static byte[] multibootHeader(int flags) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x1BADB002).putInt(flags).putInt(-(0x1BADB002 + flags)).array();
    }

    /** A Multiboot header with the a.out-kludge address fields (flag 16). */
    static byte[] aoutHeader(int extraFlags, long headerAddr, long loadAddr, long loadEnd, long bssEnd, long entry) {
        int flags = 0x10000 | extraFlags;
        return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x1BADB002).putInt(flags).putInt(-(0x1BADB002 + flags))
                .putInt((int) headerAddr).putInt((int) loadAddr).putInt((int) loadEnd).putInt((int) bssEnd).putInt((int) entry).array();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }

    static Path write(Path dir, String name, byte[] data) throws java.io.IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        return p;
    }

    /** The committed hello-world kernel. */
    static Path hello() {
        Path p = Path.of("..", "guests", "hello", "hello.elf");
        if (!Files.exists(p)) throw new IllegalStateException("guests/hello/hello.elf missing");
        return p;
    }
}
