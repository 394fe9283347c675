package lhv.platform.loader;

import lhv.platform.memory.GuestMemory;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Loads a boot image into guest memory and says how the processor must start it, choosing the
 * format the way {@code qemu -kernel} does for the formats we support:
 * <ol>
 * <li>a flat binary when a load address is given ({@code --flat-address}): the bytes go there and run
 *     in 64-bit mode from their first byte ({@link LongModeEntry});</li>
 * <li>a Multiboot kernel when the first 8192 bytes hold a valid Multiboot header
 *     ({@link MultibootLoader});</li>
 * <li>a plain ELF64 x86-64 executable otherwise, started in 64-bit mode at its entry point
 *     ({@link LongModeEntry}).</li>
 * </ol>
 * Anything else is refused with a {@link LoadException}.
 *
 * <p>Context: Java host, before the guest starts. Everything is read and checked before guest memory
 * is written. Loading happens before the processor decoded any code, so no decoded code can go stale.
 *
 * @param image       the image file
 * @param imageName   the image path as the user wrote it (it starts the Multiboot command line)
 * @param append      the {@code --append} text
 * @param modules     {@code --initrd} entries, each "FILE" or "FILE ARGS"
 * @param flatAddress load address of a flat binary, or empty
 */
public record BootImage(Path image, String imageName, String append, List<String> modules, OptionalLong flatAddress) {

    public BootImage {
        append = append == null ? "" : append;
        modules = List.copyOf(modules);
    }

    /** The image at {@code path} with nothing appended, no modules. */
    public static BootImage of(Path path) {
        return new BootImage(path, path.toString(), "", List.of(), OptionalLong.empty());
    }

    /** Loads the image into {@code mem} and returns the entry state. */
    public BootState load(GuestMemory mem) throws LoadException {
        byte[] file = read(image, imageName, "image");
        List<String> ignoredAppend = append.isEmpty() ? List.of()
                : List.of("--append is ignored: only a Multiboot kernel receives a command line");
        if (flatAddress.isPresent()) {
            if (!modules.isEmpty()) throw new LoadException(imageName + ": --initrd needs a Multiboot kernel");
            return loadFlat(mem, file, imageName, flatAddress.getAsLong(), ignoredAppend);
        }
        MultibootHeader header = MultibootHeader.find(file, imageName);
        if (header != null) {
            List<MultibootLoader.Module> mods = new ArrayList<>();
            for (String m : modules) {
                String fileName = m.contains(" ") ? m.substring(0, m.indexOf(' ')) : m;
                mods.add(new MultibootLoader.Module(fileName, m, read(Path.of(fileName), fileName, "module")));
            }
            return MultibootLoader.load(mem, file, header, imageName, append, mods);
        }
        if (!modules.isEmpty()) throw new LoadException(imageName + ": --initrd needs a Multiboot kernel");
        if (ElfImage.isElf(file)) {
            ElfImage elf = ElfImage.parse(file, imageName);
            if (elf.bits() != 64) {
                throw new LoadException(imageName + ": ELF32 image without a Multiboot header (only Multiboot kernels may be 32-bit)");
            }
            LoadPlan plan = new LoadPlan(imageName);
            elf.plan(plan, file, imageName);
            LongModeEntry.plan(plan);
            plan.check(mem);
            plan.apply(mem);
            return LongModeEntry.state("ELF64", elf.physicalEntry(), ignoredAppend);
        }
        throw new LoadException(imageName + ": not a Multiboot kernel or an ELF64 executable (give --flat-address to load a flat binary)");
    }

    private static BootState loadFlat(GuestMemory mem, byte[] file, String imageName, long address, List<String> warnings)
            throws LoadException {
        LoadPlan plan = new LoadPlan(imageName);
        plan.bytes("flat binary", address, file);
        LongModeEntry.plan(plan);
        plan.check(mem);
        plan.apply(mem);
        return LongModeEntry.state("flat binary", address, warnings);
    }

    /** Reads a whole file, turning every failure into one line. */
    static byte[] read(Path path, String name, String what) throws LoadException {
        try {
            if (Files.isDirectory(path)) throw new LoadException(name + ": is a directory, not " + (what.startsWith("i") ? "an " : "a ") + what + " file");
            byte[] data = Files.readAllBytes(path);
            if (data.length == 0) throw new LoadException(name + ": empty " + what + " file");
            return data;
        } catch (NoSuchFileException e) {
            throw new LoadException(name + ": no such " + what + " file");
        } catch (AccessDeniedException e) {
            throw new LoadException(name + ": permission denied");
        } catch (IOException | OutOfMemoryError e) {
            throw new LoadException(name + ": cannot read " + what + " file (" + e.getMessage() + ")");
        }
    }

    /**
     * Splits an {@code --initrd} value into module entries as QEMU does: commas separate modules,
     * a doubled comma stands for a comma inside one.
     */
    public static List<String> splitModules(String value) {
        List<String> out = new ArrayList<>();
        if (value == null || value.isEmpty()) return out;
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == ',') {
                if (i + 1 < value.length() && value.charAt(i + 1) == ',') {
                    cur.append(',');
                    i++;
                    continue;
                }
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }
}
