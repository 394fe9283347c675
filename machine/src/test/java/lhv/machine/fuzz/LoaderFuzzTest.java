package lhv.machine.fuzz;

import lhv.machine.Machine;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.LoadException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Malformed boot images: ELF32/ELF64 executables and Multiboot kernels (ELF and a.out kludge) with
 * random header fields, truncated files, huge p_filesz/p_memsz, offsets beyond the file, overlapping
 * segments and random Multiboot flags and addresses. Loading must either succeed or throw a
 * {@link LoadException} (one line for the user); a loaded image must then run to a stop reason.
 *
 * <p>Context: unit tests only (Java host).
 */
class LoaderFuzzTest {
    static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("lhv-loader-fuzz");
    }

    @AfterContainer
    static void removeDir() throws IOException {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }

    /** A valid ELF image with two PT_LOAD segments (code at 1 MiB, data at 2 MiB). */
    static byte[] elf(boolean is64) {
        int eh = is64 ? 64 : 52, ph = is64 ? 56 : 32;
        byte[] code = {(byte) 0xB0, 0x05, (byte) 0xE6, (byte) 0xF4, (byte) 0xF4};   // mov al,5; out 0xf4,al; hlt
        int codeOff = 0x1000;
        ByteBuffer b = ByteBuffer.allocate(codeOff + 0x100).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) (is64 ? 62 : 3)).putInt(20, 1);
        if (is64) {
            b.putLong(24, 0x100000).putLong(32, eh).putShort(52, (short) eh).putShort(54, (short) ph).putShort(56, (short) 2);
            for (int i = 0; i < 2; i++) {
                int at = eh + i * ph;
                b.putInt(at, 1).putInt(at + 4, 7).putLong(at + 8, codeOff).putLong(at + 16, 0x100000L * (i + 1))
                        .putLong(at + 24, 0x100000L * (i + 1)).putLong(at + 32, code.length).putLong(at + 40, 0x2000).putLong(at + 48, 0x1000);
            }
        } else {
            b.putInt(24, 0x100000).putInt(28, eh).putShort(40, (short) eh).putShort(42, (short) ph).putShort(44, (short) 2);
            for (int i = 0; i < 2; i++) {
                int at = eh + i * ph;
                b.putInt(at, 1).putInt(at + 4, codeOff).putInt(at + 8, 0x100000 * (i + 1)).putInt(at + 12, 0x100000 * (i + 1))
                        .putInt(at + 16, code.length).putInt(at + 20, 0x2000).putInt(at + 24, 7).putInt(at + 28, 0x1000);
            }
        }
        b.put(codeOff, code);
        return b.array();
    }

    /** {@code image} with a Multiboot header at offset 0x200; with the a.out kludge when {@code aout}. */
    static byte[] multiboot(byte[] image, int flags, boolean aout, Random r) {
        byte[] f = Arrays.copyOf(image, Math.max(image.length, 0x240));
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        if (aout) flags |= 1 << 16;
        b.putInt(0x200, 0x1BADB002).putInt(0x204, flags).putInt(0x208, -(0x1BADB002 + flags));
        if (aout) {
            long[] v = {0x100200, 0x100000, 0x100000 + f.length, 0x180000, 0x101000};
            for (int i = 0; i < v.length; i++) b.putInt(0x20C + 4 * i, (int) (r.nextInt(3) == 0 ? value(r) : v[i]));
        }
        return f;
    }

    static long value(Random r) {
        return switch (r.nextInt(9)) {
            case 0 -> 0;
            case 1 -> -1L;
            case 2 -> Long.MAX_VALUE - r.nextInt(0x1000);
            case 3 -> 0xFFFFFFFFL - r.nextInt(0x1000);
            case 4 -> r.nextInt(0x10000);
            case 5 -> 0x100000L + r.nextInt(0x400000);
            case 6 -> 1L << r.nextInt(64);
            case 7 -> 0x7FFFFFFFL + r.nextInt(3);
            default -> r.nextLong();
        };
    }

    /** Overwrites 1-6 header or program-header fields with edge values, sometimes truncates the file. */
    static byte[] mutate(byte[] f, Random r) {
        f = f.clone();
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        for (int n = 1 + r.nextInt(6); n > 0; n--) {
            int width = new int[] {1, 2, 4, 8}[r.nextInt(4)];
            int at = r.nextInt(200) & ~(width - 1);
            long v = value(r);
            switch (width) {
                case 1 -> b.put(at, (byte) v);
                case 2 -> b.putShort(at, (short) v);
                case 4 -> b.putInt(at, (int) v);
                default -> b.putLong(at, v);
            }
        }
        if (r.nextInt(4) == 0) f = Arrays.copyOf(f, r.nextInt(f.length + 1));
        return f;
    }

    enum Kind { ELF64, ELF32, MULTIBOOT_ELF32, MULTIBOOT_ELF64, MULTIBOOT_AOUT, RANDOM_FLAT, RANDOM_BYTES }

    static void loadAndRun(byte[] image, OptionalLong flat, long seed) throws IOException {
        Path p = dir.resolve("img-" + seed);
        Files.write(p, image);
        try (Machine m = Machine.builder().memory(4L << 20).console(OutputStream.nullOutputStream()).build()) {
            try {
                m.boot(new BootImage(p, "img", "x", List.of(), flat));
            } catch (LoadException e) {
                assertNotNull(e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
                return;
            }
            assertNotNull(m.cpu().run(200));
        } finally {
            Files.deleteIfExists(p);
        }
    }

    @Property(tries = 1500, seed = "1729", shrinking = ShrinkingMode.OFF)
    void malformedImagesLoadOrAreRefusedWithOneLine(@ForAll("kinds") Kind kind, @ForAll long seed) throws IOException {
        Random r = new Random(seed);
        OptionalLong flat = OptionalLong.empty();
        byte[] image = switch (kind) {
            case ELF64 -> mutate(elf(true), r);
            case ELF32 -> mutate(elf(false), r);
            case MULTIBOOT_ELF32 -> mutate(multiboot(elf(false), r.nextInt() & 0x10007, false, r), r);
            case MULTIBOOT_ELF64 -> mutate(multiboot(elf(true), r.nextInt() & 0x7, false, r), r);
            case MULTIBOOT_AOUT -> multiboot(r.nextBoolean() ? elf(false) : new byte[0x1000], r.nextInt() & 0x7, true, r);
            case RANDOM_FLAT -> {
                flat = OptionalLong.of(value(r));
                byte[] f = new byte[r.nextInt(0x3000)];
                r.nextBytes(f);
                yield f;
            }
            case RANDOM_BYTES -> {
                byte[] f = new byte[r.nextInt(0x400)];
                r.nextBytes(f);
                if (f.length >= 4 && r.nextBoolean()) System.arraycopy(new byte[] {0x7F, 'E', 'L', 'F'}, 0, f, 0, 4);
                yield f;
            }
        };
        loadAndRun(image, flat, seed);
    }

    @Provide
    Arbitrary<Kind> kinds() {
        return Arbitraries.of(Kind.class);
    }
}
