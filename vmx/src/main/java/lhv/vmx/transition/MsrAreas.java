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
 * <p>Context: VM entry and VM exit, reading and writing guest-physical memory directly.
 */
public final class MsrAreas {
    private MsrAreas() { }

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
