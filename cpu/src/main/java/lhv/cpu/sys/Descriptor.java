package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.Mode;
import lhv.cpu.Segment;

/**
 * A segment or gate descriptor read from the GDT or LDT (SDM Vol. 3A 3.4.5, 5.8.3, 6.11, 6.14.1),
 * kept as its raw dwords with decoding accessors. Instances are reused by the system unit so that
 * descriptor checks do not allocate.
 *
 * <p>Context: guest instruction execution (segment loads, far transfers, event delivery). Reads of
 * descriptor tables are implicit supervisor accesses (SDM 4.6).
 */
final class Descriptor {
    int selector;
    /** Dwords 0, 1 and (system descriptors and gates in IA-32e mode) 2, 3. */
    int lo, hi, upper, upper2;
    /** Linear address of the descriptor (for the accessed and busy bits). */
    long address;

    // ---- system-descriptor types (S = 0), SDM Table 3-2 ----
    static final int TSS16_AVAIL = 1, LDT = 2, TSS16_BUSY = 3, CALL_GATE16 = 4, TASK_GATE = 5,
            INT_GATE16 = 6, TRAP_GATE16 = 7, TSS_AVAIL = 9, TSS_BUSY = 11, CALL_GATE = 12,
            INT_GATE = 14, TRAP_GATE = 15;

    int type() { return (hi >>> 8) & 0xF; }
    /** S flag: 1 for code/data segments. */
    boolean codeOrData() { return (hi & (1 << 12)) != 0; }
    int dpl() { return (hi >>> 13) & 3; }
    boolean present() { return (hi & (1 << 15)) != 0; }
    boolean isCode() { return codeOrData() && (type() & 8) != 0; }
    boolean isData() { return codeOrData() && (type() & 8) == 0; }
    boolean conforming() { return isCode() && (type() & 4) != 0; }
    boolean readable() { return isData() || (type() & 2) != 0; }
    boolean writableData() { return isData() && (type() & 2) != 0; }
    boolean longMode() { return (hi & (1 << 21)) != 0; }
    boolean big() { return (hi & (1 << 22)) != 0; }

    /** Access rights in the VMX layout of {@link Segment#attributes}. */
    int attributes() {
        return ((hi >>> 8) & 0xFF) | ((hi >>> 8) & 0xF000);
    }

    long base() {
        return ((lo >>> 16) & 0xFFFFL) | ((hi & 0xFFL) << 16) | (hi & 0xFF000000L);
    }

    /** Base of a 16-byte system descriptor (LDT, TSS) in IA-32e mode. */
    long base64() {
        return base() | ((upper & 0xFFFFFFFFL) << 32);
    }

    /** Byte-granular limit (scaled when G = 1). */
    int limit() {
        int raw = (lo & 0xFFFF) | (hi & 0xF0000);
        return (hi & (1 << 23)) != 0 ? (raw << 12) | 0xFFF : raw;
    }

    // ---- gates ----
    int gateSelector() { return (lo >>> 16) & 0xFFFF; }
    long gateOffset32() { return (lo & 0xFFFFL) | (hi & 0xFFFF0000L); }
    long gateOffset64() { return gateOffset32() | ((upper & 0xFFFFFFFFL) << 32); }
    int gateParamCount() { return hi & 0x1F; }
    int ist() { return hi & 7; }

    /** Loads this descriptor into a segment register's hidden part. */
    void loadInto(Segment s, int selector) {
        s.set(selector, base(), limit(), attributes());
    }

    /**
     * Reads the 8-byte descriptor named by {@code selector} from the GDT or LDT. Returns false when
     * the selector's index lies beyond the table limit (or the LDT is unusable); the caller raises
     * the fault that its instruction defines.
     */
    static boolean fetch(Cpu cpu, int selector, Descriptor d) {
        long base;
        int limit;
        if ((selector & 4) != 0) {
            if (cpu.ldtr.unusable() || (cpu.ldtr.selector & 0xFFFC) == 0) return false;
            base = cpu.ldtr.base;
            limit = cpu.ldtr.limit;
        } else {
            base = cpu.gdtrBase;
            limit = cpu.gdtrLimit;
        }
        int offset = selector & 0xFFF8;
        if (offset + 7L > (limit & 0xFFFFFFFFL)) return false;
        d.selector = selector & 0xFFFF;
        d.address = base + offset;
        long q = cpu.mmu.readLinear(d.address, 8, true);
        d.lo = (int) q;
        d.hi = (int) (q >>> 32);
        d.upper = 0;
        d.upper2 = 0;
        return true;
    }

    /** Reads the upper 8 bytes of a 16-byte system descriptor; false when beyond the table limit. */
    static boolean fetchUpper(Cpu cpu, Descriptor d) {
        long base = (d.selector & 4) != 0 ? cpu.ldtr.base : cpu.gdtrBase;
        int limit = (d.selector & 4) != 0 ? cpu.ldtr.limit : cpu.gdtrLimit;
        int offset = (d.selector & 0xFFF8) + 8;
        if (offset + 7L > (limit & 0xFFFFFFFFL)) return false;
        long q = cpu.mmu.readLinear(base + offset, 8, true);
        d.upper = (int) q;
        d.upper2 = (int) (q >>> 32);
        return true;
    }

    /** Sets the accessed bit of a code/data descriptor in memory (SDM 3.4.5.1), if not yet set. */
    void setAccessed(Cpu cpu) {
        if ((hi & (1 << 8)) != 0) return;
        hi |= 1 << 8;
        cpu.mmu.writeLinear(address + 5, 1, (hi >>> 8) & 0xFF, true);
    }

    /** True when the mode uses IA-32e (16-byte) system descriptors and gates. */
    static boolean ia32e(Cpu cpu) {
        return cpu.mode == Mode.LONG64 || cpu.mode == Mode.COMPATIBILITY;
    }
}
