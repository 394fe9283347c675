package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Msr;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The VM-entry MSR-load, VM-exit MSR-store and VM-exit MSR-load areas (SDM Vol. 3C 25.7.2, 25.8.2):
 * arrays of 16-byte entries — bits 31:0 MSR index, 63:32 reserved (0), 127:64 data — processed in
 * order. The per-entry failure rules are those of SDM 27.4 (entry load), 28.4 (exit store) and 28.6
 * (exit load).
 *
 * <p>An instance stands for one of a processor's three areas and remembers what processing it last
 * left, so that a VM transition can leave alone an area whose processing would change nothing
 * ({@link #loadRemembered}, {@link #storeRemembered}): when the area is at the same address and no
 * write reached its pages since it was read (they are watched for writes through the processor's
 * code map, {@code Mmu.watchWrites}, which every writer of physical memory tells), so that it holds
 * the same words, every entry names an MSR whose whole state is tracked (SystemUnit#msrIsTrackedState,
 * asked when the area is remembered and valid while the processor's MSR providers are the same) and
 * the state those MSRs live in has not changed since (the MSR and control state groups, watched
 * through {@code Cpu.watchStateChanges}), then the loads would write the values the MSRs already hold
 * and the stores would write the words the area already holds. With assertions on (every test run)
 * a load area left alone is processed anyway and must change no MSR, a store area's values are read
 * and must equal the words already there, and the words must equal the remembered ones.
 *
 * <p>Context: VM entry and VM exit, reading and writing guest-physical memory directly.
 */
public final class MsrAreas {
    /** Areas longer than this are not remembered (the seed's have one entry). */
    private static final int REMEMBERED_ENTRIES = 8;

    /** The state groups the tracked MSRs live in (SystemUnit#msrIsTrackedState). */
    private static final int MSR_STATE = 1 << Cpu.STATE_MSR | 1 << Cpu.STATE_CONTROL;

    private final Cpu cpu;
    /** This area's watcher of the processor's state-group changes, cleared when it remembers. */
    private final int watcher;
    private long address = -1;
    private int count;
    private final long[] words = new long[2 * REMEMBERED_ENTRIES];
    /** {@code CodeMap.watchedWrites} when the words were read, and {@code Cpu.msrProvidersVersion}. */
    private long writesSeen;
    private int providersSeen;
    /** Areas processed in full so far (not left alone): for tests and diagnostics. */
    long processed;

    /** One of {@code cpu}'s areas (its loads and stores then take that processor). */
    MsrAreas(Cpu cpu) {
        this.cpu = cpu;
        this.watcher = cpu.watchStateChanges();
    }

    /** {@link #load} unless the area would change nothing (class comment). */
    int loadRemembered(Cpu cpu, long address, int count) {
        return remembered(cpu, address, count, true);
    }

    /** {@link #store} unless the area would change nothing (class comment). */
    int storeRemembered(Cpu cpu, long address, int count) {
        return remembered(cpu, address, count, false);
    }

    /** The area processed as a load or a store, or left alone when that would change nothing. */
    private int remembered(Cpu cpu, long address, int count, boolean loading) {
        if (count <= 0) return 0;
        if (unchanged(cpu, address, count)) {
            assert loading ? loadChangesNothing(cpu, address, count) : storeChangesNothing(cpu, address, count)
                    : "MSR-" + (loading ? "load" : "store") + " area changed something";
            return 0;
        }
        processed++;
        int failed = loading ? load(cpu, address, count) : store(cpu, address, count);
        remember(cpu, address, count, failed);
        return failed;
    }

    /** Assertion helper: processing a load area left alone again must leave every MSR it can reach as it was. */
    private static boolean loadChangesNothing(Cpu cpu, long address, int count) {
        long[] before = trackedMsrs(cpu);
        return load(cpu, address, count) == 0 && java.util.Arrays.equals(before, trackedMsrs(cpu));
    }

    /** Assertion helper: each value a store would write is the word already there (checked without writing, so no write is reported). */
    private static boolean storeChangesNothing(Cpu cpu, long address, int count) {
        MemorySegment ram = cpu.mem.ram();
        for (int i = 0; i < count; i++) {
            long entry = address + 16L * i;
            if (cpu.sys.rdmsr((int) ram.get(LE64, entry)) != ram.get(LE64, entry + 8)) return false;
        }
        return true;
    }

    private static long[] trackedMsrs(Cpu cpu) {
        return new long[] {cpu.sysenterCs, cpu.sysenterEsp, cpu.sysenterEip, cpu.pat, cpu.debugCtl, cpu.efer};
    }

    private boolean unchanged(Cpu cpu, long address, int count) {
        assert cpu == this.cpu : "an area of another processor";
        // the MSR group (SYSENTER, PAT, DEBUGCTL) and the control group (EFER, CR0.PG for its checks);
        // the area's pages are watched since it was remembered: no write reached them, same words
        // and the MSRs' owners are the same (no provider added since)
        if (address != this.address || count != this.count || (cpu.changedGroups(watcher) & MSR_STATE) != 0
                || cpu.codeMap.watchedWrites() != writesSeen || cpu.msrProvidersVersion() != providersSeen) return false;
        assert sameWords(cpu, address, count) : "MSR area written behind the code map";
        return true;
    }

    /** Assertion helper: the area still holds the remembered words (a writer that bypassed the code map fails here). */
    private boolean sameWords(Cpu cpu, long address, int count) {
        MemorySegment ram = cpu.mem.ram();
        for (int i = 0; i < 2 * count; i++) {
            if (ram.get(LE64, address + 8L * i) != words[i]) return false;
        }
        return true;
    }

    /**
     * After processing: remembers the area's words and the tracked state, when the area qualifies.
     * Its pages are watched from then on ({@code Mmu.watchWrites}), so a write to them is seen.
     */
    private void remember(Cpu cpu, long address, int count, int failed) {
        this.address = -1;
        if (failed != 0 || count > REMEMBERED_ENTRIES || !inRam(cpu, address, count)) return;
        MemorySegment ram = cpu.mem.ram();
        for (int i = 0; i < count; i++) {
            long w = ram.get(LE64, address + 16L * i);
            if (w >>> 32 != 0 || !cpu.sys.msrIsTrackedState((int) w)) return;
        }
        // it qualifies: from now on writes to its pages are seen (nothing runs in between)
        for (long p = address >>> 12; p <= (address + 16L * count - 1) >>> 12; p++) cpu.mmu.watchWrites(p);
        for (int i = 0; i < 2 * count; i++) words[i] = ram.get(LE64, address + 8L * i);
        this.address = address;
        this.count = count;
        this.writesSeen = cpu.codeMap.watchedWrites();
        this.providersSeen = cpu.msrProvidersVersion();
        cpu.clearChangedGroups(watcher);
    }

    static final int IA32_SMM_MONITOR_CTL = 0x9B, IA32_SMBASE = 0x9E;

    /** Index checks shared by loads: FS/GS base (loaded from the segment fields instead), x2APIC MSRs, SMM-only MSRs, reserved bits. */
    private static boolean loadable(long indexWord) {
        int index = (int) indexWord;
        if (indexWord >>> 32 != 0) return false;
        if (index == Msr.IA32_FS_BASE || index == Msr.IA32_GS_BASE) return false;
        if (index >>> 8 == 0x8) return false;
        return index != IA32_SMM_MONITOR_CTL && index != IA32_SMBASE;
    }

    /**
     * Loads {@code count} entries starting at {@code address} as WRMSR at CPL 0 would (SDM 27.4,
     * 28.6). Returns 0 on success, otherwise the 1-based number of the entry that failed; entries
     * before it stay loaded.
     */
    public static int load(Cpu cpu, long address, int count) {
        if (count <= 0) return 0;
        // an area inside RAM (the usual case) is read straight from it: no bus dispatch per word
        MemorySegment ram = inRam(cpu, address, count) ? cpu.mem.ram() : null;
        for (int i = 0; i < count; i++) {
            long entry = address + 16L * i;
            long indexWord = ram != null ? ram.get(LE64, entry) : cpu.mem.read(entry, 8);
            if (!loadable(indexWord)) return i + 1;
            long value = ram != null ? ram.get(LE64, entry + 8) : cpu.mem.read(entry + 8, 8);
            try {
                cpu.sys.wrmsr((int) indexWord, value);
            } catch (CpuFault f) {
                return i + 1;
            }
        }
        return 0;
    }

    /** Entry {@code i} (0-based) failed: the entries before it were stored; returns its 1-based number. */
    private static int storeFailed(Cpu cpu, long address, int i) {
        if (i > 0) cpu.codeMap.writtenRange(address, 16L * i);
        return i + 1;
    }

    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static boolean inRam(Cpu cpu, long address, int count) {
        return count <= 0x10000 && cpu.mem.isRam(address, 16 * count);
    }

    /** Stores {@code count} MSR values as RDMSR at CPL 0 reads them (SDM 28.4). Returns 0 or the 1-based failing entry. */
    public static int store(Cpu cpu, long address, int count) {
        if (count <= 0) return 0;
        MemorySegment ram = inRam(cpu, address, count) ? cpu.mem.ram() : null;
        for (int i = 0; i < count; i++) {
            long entry = address + 16L * i;
            long indexWord = ram != null ? ram.get(LE64, entry) : cpu.mem.read(entry, 8);
            int index = (int) indexWord;
            if (indexWord >>> 32 != 0 || index >>> 8 == 0x8 || index == IA32_SMBASE) return storeFailed(cpu, address, i);
            try {
                long value = cpu.sys.rdmsr(index);
                if (ram != null) ram.set(LE64, entry + 8, value);
                else cpu.mem.write(entry + 8, 8, value);
            } catch (CpuFault f) {
                return storeFailed(cpu, address, i);
            }
        }
        // the stores went around the bus: tell the code map (decoded code and table watchers) once
        cpu.codeMap.writtenRange(address, 16L * count);
        return 0;
    }
}
