package lhv.hypervisor.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything the seed's kernel module hard-codes, as data: which VMX controls are wanted (by SDM
 * name), which ports and MSRs trap, the CR0/CR4 guest/host masks and read shadows, the exception
 * bitmap with the #PF error-code mask/match, the CR3-target values, the three MSR areas, and the
 * guest (memory size, image, load address, entry point, stack).
 *
 * <p>Context: Java host. Produced by {@link ConfigLoader} from a JSON/YAML file or by
 * {@link #defaults()}; read by the VMCS builder (lhv.hypervisor.setup) and the exit handlers.
 * Names of controls are kept as written (with their position) and resolved against the processor's
 * capabilities by {@code ControlSelection}, so that "not allowed by this processor" also points at
 * the file.
 */
public record VmConfig(
        long memorySize,
        Guest guest,
        Controls controls,
        List<PortRange> ioTraps,
        List<Integer> msrReadTraps,
        List<Integer> msrWriteTraps,
        CrVirtualization cr0,
        CrVirtualization cr4,
        int exceptionBitmap,
        int stopOnExceptions,
        int pageFaultErrorCodeMask,
        int pageFaultErrorCodeMatch,
        List<Long> cr3Targets,
        List<MsrEntry> exitMsrStore,
        List<MsrEntry> exitMsrLoad,
        List<MsrEntry> entryMsrLoad,
        boolean exposeVmx,
        long preemptionTimer,
        List<SeedMistake> seedMistakes,
        Position origin) {

    /** Default machine memory: 16 MiB, identity-mapped by the host page tables. */
    public static final long DEFAULT_MEMORY = 16L << 20;
    /** Where images are loaded unless the config says otherwise (the multiboot convention). */
    public static final long DEFAULT_LOAD = 0x100000;
    /** Top of the guest stack unless configured; aligned down to 16 as the seed does. */
    public static final long DEFAULT_STACK_TOP = 0x180000;
    /** The seed's four CR3-target values (its init_vmcs_cr3_targets). */
    public static final List<Long> SEED_CR3_TARGETS = List.of(0x200000L, 0x300000L, 0x400000L, 0x500000L);
    /** SDM 25.6.7: the architecture has room for four CR3-target values. */
    public static final int MAX_CR3_TARGETS = 4;

    public VmConfig {
        ioTraps = List.copyOf(ioTraps);
        msrReadTraps = List.copyOf(msrReadTraps);
        msrWriteTraps = List.copyOf(msrWriteTraps);
        cr3Targets = List.copyOf(cr3Targets);
        exitMsrStore = List.copyOf(exitMsrStore);
        exitMsrLoad = List.copyOf(exitMsrLoad);
        entryMsrLoad = List.copyOf(entryMsrLoad);
        seedMistakes = List.copyOf(seedMistakes);
    }

    /**
     * The guest program. {@code image == null} means the built-in demo guest; {@code entry < 0}
     * means "from the image" (ELF e_entry, or the load address of a flat binary).
     */
    public record Guest(Path image, long loadAddress, long entry, long stackTop) {
        public static Guest demo() {
            return new Guest(null, DEFAULT_LOAD, -1, DEFAULT_STACK_TOP);
        }
    }

    /** Wanted bits of each control word by name; how they are combined with the capability MSRs. */
    public record Controls(List<Named> pin, List<Named> primary, List<Named> secondary,
                           List<Named> exit, List<Named> entry) {
        public Controls {
            pin = List.copyOf(pin);
            primary = List.copyOf(primary);
            secondary = List.copyOf(secondary);
            exit = List.copyOf(exit);
            entry = List.copyOf(entry);
        }
    }

    /** A name as written in the file, with where it was written. */
    public record Named(String name, Position position) {
        public static Named builtIn(String name) {
            return new Named(name, Position.NONE);
        }
    }

    /** Ports {@code first..last} inclusive whose I/O-bitmap bits are set. */
    public record PortRange(int first, int last) {
        public static PortRange of(int port) {
            return new PortRange(port, port);
        }

        public boolean contains(int port) {
            return port >= first && port <= last;
        }
    }

    /**
     * CR0 or CR4 guest/host mask and read shadow (SDM 25.6.6). A null shadow means the seed's rule:
     * the host's value with the masked bits cleared (it fakes CR0.PG = 0 and CR4.SMEP = 0).
     */
    public record CrVirtualization(long mask, Long shadow) { }

    /** One entry of a VM-exit/VM-entry MSR area (SDM 25.7.2, 25.8.2): index and (for loads) value. */
    public record MsrEntry(int index, long value) { }

    /** The VMCS mistakes of the seed's kernel module, reproducible on purpose for teaching. */
    public enum SeedMistake {
        /** (desired | allowed1) & (allowed0 | allowed1): every allowed-1 bit ends up set. */
        CONTROL_FORMULA("control-formula"),
        /** The secondary processor-based controls written into the primary-controls field. */
        SECONDARY_IN_PRIMARY("secondary-in-primary"),
        /** MSR-area counts written to the address fields and addresses to the count fields. */
        MSR_AREA_COUNTS("msr-area-counts");

        public final String configName;

        SeedMistake(String configName) {
            this.configName = configName;
        }
    }

    /** The seed's own choices plus the traps the demo guest needs to show every feature. */
    public static VmConfig defaults() {
        int ia32SysenterCs = lhv.cpu.Msr.IA32_SYSENTER_CS;
        return new VmConfig(
                DEFAULT_MEMORY,
                Guest.demo(),
                new Controls(
                        List.of(),
                        List.of(Named.builtIn("HLT exiting"), Named.builtIn("CR3-load exiting"),
                                Named.builtIn("use I/O bitmaps"), Named.builtIn("use MSR bitmaps")),
                        List.of(),
                        List.of(Named.builtIn("host address-space size")),
                        List.of(Named.builtIn("IA-32e mode guest"))),
                // Bitmap A: the UART's scratch register 0x3FF (forwarded to the UART) and the
                // debug-exit port 0xF4; bitmap B: 0x8000, where no device answers. The UART's data
                // port stays clear so console output does not exit per character.
                List.of(PortRange.of(0x3FF), PortRange.of(0xF4), PortRange.of(0x8000)),
                List.of(ia32SysenterCs),
                List.of(ia32SysenterCs),
                new CrVirtualization(lhv.cpu.Cr.CR0_PG, null),
                new CrVirtualization(lhv.cpu.Cr.CR4_SMEP, null),
                1 << lhv.cpu.Vector.UD.number,
                0,
                0, 0,
                SEED_CR3_TARGETS,
                List.of(new MsrEntry(ia32SysenterCs, 0)),
                List.of(new MsrEntry(ia32SysenterCs, 0)),
                List.of(new MsrEntry(ia32SysenterCs, 0)),
                false,
                -1,
                List.of(),
                Position.NONE);
    }

    /** True when {@code port}'s bit is set in the I/O bitmaps this config describes. */
    public boolean trapsPort(int port) {
        for (PortRange r : ioTraps) if (r.contains(port)) return true;
        return false;
    }
}
