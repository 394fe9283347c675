package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Mode;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Segmentation, paging and the software TLB: turns (segment, offset) into linear and linear into
 * physical addresses with every check of SDM Vol. 3A chapters 3, 4 and 5, then accesses physical
 * memory.
 *
 * <p>Context: guest instruction execution (data accesses, instruction fetch, implicit supervisor
 * accesses to descriptor tables, the TSS and the IDT) and the VMX layer (guest-linear accesses made
 * by VMX instructions). Faults are thrown as {@link CpuFault} (#GP/#SS/#PF/#AC with the right error
 * code and the address that goes to CR2 when it is delivered, SDM 4.7).
 *
 * <p>Additions to the skeleton contract: sized {@link #read}/{@link #write}; {@link #readPhysical} /
 * {@link #writePhysical} (RAM fast, MMIO through the board, code-map notification);
 * {@link #loadPdptes}, {@link #pdpte}, {@link #pdptesValid} (PAE PDPTE registers, VM entry);
 * {@link #canonical}; the #PF error-code bits {@code PF_*}; TLB contexts {@link #newContext},
 * {@link #switchContext}, {@link #context}, {@link #contextTag}, {@link #flushAllContexts}; the VM
 * entry/exit flush {@link #vmTransition}.
 *
 * <h2>Software TLB</h2>
 * Six direct-mapped arrays, one per (access kind, privilege): read, write and execute, each for
 * supervisor and user accesses. An entry maps a 4 KiB linear page to the start of its physical page
 * in guest RAM and exists only when that kind of access is permitted without any further side
 * effect (accessed flags already set; for writes the dirty flag too). A hit is therefore one compare
 * and one RAM access. Entries are never made for
 * <ul>
 *   <li>physical pages outside RAM (MMIO or unbacked): those always take the slow path;</li>
 *   <li>writes to physical pages that hold decoded code ({@link lhv.cpu.bus.CodeMap#isCode}), so the
 *       store fast path needs no self-modifying-code check; a page that becomes code later drops its
 *       write entries through {@link lhv.cpu.bus.CodeMap#onMark};</li>
 *   <li>writes to physical pages whose writes a VM transition must see ({@link #watchWrites}: the
 *       MSR areas it remembers), for the same reason;</li>
 *   <li>supervisor data accesses to user pages while CR4.SMAP=1 (their outcome depends on RFLAGS.AC
 *       and on whether the access is implicit).</li>
 * </ul>
 *
 * <h2>Contexts (for VMX)</h2>
 * Each tag holds the linear page number (bits 51:0) and a 12-bit translation tag (bits 63:52). A
 * <em>context</em> (0 = the processor outside VMX non-root operation; others allocated with
 * {@link #newContext}, e.g. one per VPID) owns a current tag; {@link #switchContext} makes another
 * context current without touching the arrays, so a VM entry or exit costs no flush: the other
 * context's entries simply stop matching and come back into use when it is current again. A flush
 * of the current context gives it a fresh tag (O(1)); only when the 4094 tag values are used up are
 * the arrays cleared. Non-global flushes (MOV to CR3 with CR4.PGE=1) scan the arrays.
 *
 * <h2>Translations kept across VM entries and exits</h2>
 * Without VPIDs every VM entry and VM exit invalidates all linear mappings (SDM 29.4.3.1), and a
 * hypervisor whose guest exits a million times a second would walk the page tables again after
 * each transition. {@link #vmTransition} gives the same result more cheaply: a tag whose entries
 * are all exactly what a fresh walk would produce now is kept, keyed by every register the walk
 * depends on (CR3, CR0.PE/PG/WP, CR4.PAE/PSE/PGE/LA57/PCIDE/SMEP/SMAP/PKE, EFER.NXE/LMA and, for PAE
 * paging, the four PDPTE registers), and made current again when a later transition arrives at
 * equal registers. A tag is kept only when (1) every entry filled under it was filled with the
 * registers of its key (a fill under other registers spoils it) and (2) no write reached a page
 * holding paging structures since the tag was issued: from the first transition on, the MMU marks
 * every page a walk reads entries from as a table page in the {@link lhv.cpu.bus.CodeMap}, which
 * counts writes to such pages, and like code pages table pages get no write entries (so the store
 * fast path, which bypasses the CodeMap, never writes one). An entry exists only with its accessed
 * (and for writes dirty) flags set, so the walk's own flag updates cannot make any entry differ
 * from a fresh walk and do not count. Under (1) and (2) a kept entry equals a fresh walk's result,
 * accessed and dirty flags included: the transition is indistinguishable from the flush.
 */
public final class Mmu {
    /** Access kinds for {@link #translate}. */
    public static final int READ = 0, WRITE = 1, EXECUTE = 2;

    /** #PF error-code bits, SDM 4.7 (Figure 4-12). */
    public static final int PF_P = 1, PF_W = 2, PF_U = 4, PF_RSVD = 8, PF_ID = 16;

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static final int TLB_BITS = 10, TLB_SIZE = 1 << TLB_BITS, TLB_MASK = TLB_SIZE - 1;
    private static final long VPN_MASK = (1L << 52) - 1;
    private static final long INVALID = -1L; // tag value 0xFFF is never issued
    private static final int MAX_TAG = 0xFFE;
    private static final int MAX_CONTEXTS = 64;

    /** Entry flag bits. */
    private static final byte F_GLOBAL = 1;

    private final Cpu cpu;
    private final MemorySegment ram;
    private final long ramSize;

    /** Tags per kind: index = (access * 2 + user) * TLB_SIZE + (vpn & TLB_MASK). */
    private final long[] tag = new long[6 * TLB_SIZE];
    /** Physical address of the 4 KiB page (inside RAM). */
    private final long[] frame = new long[6 * TLB_SIZE];
    /** Entry flags (global) and the shift of the page size the translation came from. */
    private final byte[] flags = new byte[6 * TLB_SIZE];
    private final byte[] sizeShift = new byte[6 * TLB_SIZE];
    /** Number of entries made from pages larger than 4 KiB (INVLPG must then look wider). */
    private int largeEntries;

    /** Current translation tag in bits 63:52. */
    private long tagBits;
    /** Index salt derived from the tag, so that contexts sharing linear pages use different slots. */
    private long salt;
    private int context;
    private final int[] contextTags = new int[MAX_CONTEXTS];
    private int contextCount = 1;
    private int nextTag = 1;

    // ---- translations kept across VM transitions (see the class comment) ----
    private static final int KEY_WORDS = 6, KEPT = 8;
    private static final long KEY_CR0 = Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_WP;
    private static final long KEY_CR4 = Cr.CR4_PSE | Cr.CR4_PAE | Cr.CR4_PGE | Cr.CR4_LA57 | Cr.CR4_PCIDE | Cr.CR4_SMEP
            | Cr.CR4_SMAP | Cr.CR4_PKE;
    private static final long KEY_EFER = Cr.EFER_NXE | Cr.EFER_LMA;
    /** True from the first VM transition on: walks mark table pages, which then get no write entries. */
    private boolean keeping;
    /** The registers the current tag's entries were filled with (valid once {@link #tagKeyed}). */
    private final long[] tagKey = new long[KEY_WORDS];
    private boolean tagKeyed;
    /** An entry of the current tag was filled with registers other than {@link #tagKey}: never keep it. */
    private boolean tagMixed;
    /** {@link lhv.cpu.bus.CodeMap#tableWrites} when the current tag was issued. */
    private long tagEpoch;
    /** Kept tags: KEY_WORDS key words each, the tag, and the table-write count when it was issued. */
    private final long[] keptKeys = new long[KEPT * KEY_WORDS];
    private final int[] keptTags = new int[KEPT];
    private final long[] keptEpochs = new long[KEPT];
    private int keptCount;
    private final long[] keyScratch = new long[KEY_WORDS];
    /**
     * The last transition found the current tag exact under the registers it is keyed with, outside
     * PAE paging (whose PDPTE registers are key words no state group covers); the processor's CONTROL
     * group watcher ({@link #controlWatcher}) was cleared then. While that watcher stays clear, the
     * key still equals the registers.
     */
    private boolean keyHeld;
    private final int controlWatcher;

    /** PAE paging: the four PDPTE registers (SDM 4.4.1), loaded by {@link #loadPdptes}. VMX may set them. */
    public final long[] pdpte = new long[4];

    /** Width of physical addresses (CPUID.80000008:EAX[7:0]). */
    private final int maxPhysAddr;
    private final long physMask;

    public Mmu(Cpu cpu) {
        this.cpu = cpu;
        this.ram = cpu.mem.ram();
        this.ramSize = cpu.mem.ramSize();
        this.maxPhysAddr = cpu.model.physicalAddressBits();
        this.physMask = (1L << maxPhysAddr) - 1;
        java.util.Arrays.fill(tag, INVALID);
        contextTags[0] = 0;
        tagBits = 0;
        cpu.codeMap.onMark(this::codePageMarked);
        this.controlWatcher = cpu.watchStateChanges();
    }

    // =====================================================================================
    // Logical (segment:offset) accesses at the current privilege level
    // =====================================================================================

    public int read8(int seg, long offset) {
        long lin = linear(seg, offset, 1, READ);
        int i = slot(READ, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits)) return ram.get(ValueLayout.JAVA_BYTE, frame[i] | (lin & 0xFFF)) & 0xFF;
        return (int) readSlow(lin, 1, false);
    }

    public int read16(int seg, long offset) {
        long lin = linear(seg, offset, 2, READ);
        int i = slot(READ, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFFE) return ram.get(LE16, frame[i] | (lin & 0xFFF)) & 0xFFFF;
        return (int) readSlow(lin, 2, false);
    }

    public int read32(int seg, long offset) {
        long lin = linear(seg, offset, 4, READ);
        int i = slot(READ, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFFC) return ram.get(LE32, frame[i] | (lin & 0xFFF));
        return (int) readSlow(lin, 4, false);
    }

    public long read64(int seg, long offset) {
        long lin = linear(seg, offset, 8, READ);
        int i = slot(READ, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFF8) return ram.get(LE64, frame[i] | (lin & 0xFFF));
        return readSlow(lin, 8, false);
    }

    public void write8(int seg, long offset, int value) {
        long lin = linear(seg, offset, 1, WRITE);
        int i = slot(WRITE, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits)) { ram.set(ValueLayout.JAVA_BYTE, frame[i] | (lin & 0xFFF), (byte) value); return; }
        writeSlow(lin, 1, value, false);
    }

    public void write16(int seg, long offset, int value) {
        long lin = linear(seg, offset, 2, WRITE);
        int i = slot(WRITE, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFFE) { ram.set(LE16, frame[i] | (lin & 0xFFF), (short) value); return; }
        writeSlow(lin, 2, value, false);
    }

    public void write32(int seg, long offset, int value) {
        long lin = linear(seg, offset, 4, WRITE);
        int i = slot(WRITE, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFFC) { ram.set(LE32, frame[i] | (lin & 0xFFF), value); return; }
        writeSlow(lin, 4, value & 0xFFFFFFFFL, false);
    }

    public void write64(int seg, long offset, long value) {
        long lin = linear(seg, offset, 8, WRITE);
        int i = slot(WRITE, lin);
        if (tag[i] == ((lin >>> 12) & VPN_MASK | tagBits) && (lin & 0xFFF) <= 0xFF8) { ram.set(LE64, frame[i] | (lin & 0xFFF), value); return; }
        writeSlow(lin, 8, value, false);
    }

    /** Reads {@code size} (1, 2, 4, 8) bytes at seg:offset, zero-extended. */
    public long read(int seg, long offset, int size) {
        return switch (size) {
            case 1 -> read8(seg, offset);
            case 2 -> read16(seg, offset);
            case 4 -> read32(seg, offset) & 0xFFFFFFFFL;
            default -> read64(seg, offset);
        };
    }

    /** Writes the low {@code size} (1, 2, 4, 8) bytes of {@code value} at seg:offset. */
    public void write(int seg, long offset, int size, long value) {
        switch (size) {
            case 1 -> write8(seg, offset, (int) value);
            case 2 -> write16(seg, offset, (int) value);
            case 4 -> write32(seg, offset, (int) value);
            default -> write64(seg, offset, value);
        }
    }

    private int slot(int access, long lin) {
        return ((access << 1 | (cpu.cpl == 3 ? 1 : 0)) << TLB_BITS) | (int) (((lin >>> 12) ^ salt) & TLB_MASK);
    }

    // =====================================================================================
    // Segmentation (SDM 3.4, 5.3, 5.4; 64-bit mode 3.4.4 and 5.3.1)
    // =====================================================================================

    /**
     * Segmentation only: checks usability, type, limit (or canonicality in 64-bit mode) for an
     * access of {@code size} bytes at {@code offset} (already truncated to the address size), and
     * alignment (#AC) for data accesses at CPL 3. Returns the linear address.
     */
    public long linear(int seg, long offset, int size, int access) {
        long lin;
        if (cpu.mode == Mode.LONG64) {
            // SDM 3.4.4: in 64-bit mode only FS and GS have a base; no limit or type checks.
            lin = seg >= Segment.FS ? cpu.seg[seg].base + offset : offset;
            if (((lin << 16 >> 16) != lin) || (((lin + size - 1) << 16 >> 16) != lin + size - 1)) throw segFault(seg, 0);
        } else {
            lin = linearLegacy(seg, offset, size, access);
        }
        // SDM 6.4.17 (#AC): CR0.AM=1, RFLAGS.AC=1, CPL 3, unaligned data access.
        if ((lin & (size - 1)) != 0 && cpu.cpl == 3) checkAlignment(access);
        if (cpu.breakpointsArmed && access != EXECUTE) lhv.cpu.sys.Breakpoints.dataAccess(cpu, lin, size, access == WRITE);
        return lin;
    }

    private long linearLegacy(int seg, long offset, int size, int access) {
        Segment s = cpu.seg[seg];
        checkLimitAndType(s, seg, offset, size, access);
        return (s.base + offset) & 0xFFFFFFFFL;
    }

    private void checkAlignment(int access) {
        if (access != EXECUTE && (cpu.cr0 & Cr.CR0_AM) != 0 && (cpu.rflags & Rflags.AC) != 0) {
            throw new CpuFault(17, 0, 0);
        }
    }

    private void checkLimitAndType(Segment s, int seg, long offset, int size, int access) {
        int ar = s.attributes;
        boolean protectedChecks = cpu.mode != Mode.REAL && cpu.mode != Mode.VIRTUAL_8086;
        if (protectedChecks) {
            // SDM 5.4.1: a null (unusable) segment register used for a memory reference -> #GP(0)
            // (#SS(0) for SS, which cannot be null outside 64-bit mode anyway).
            if ((ar & Segment.AR_UNUSABLE) != 0) throw segFault(seg, 0);
            int type = ar & 0xF;
            boolean code = (type & 8) != 0;
            // SDM 5.4.1 type checks: no writes to code or read-only data, no reads of execute-only code.
            switch (access) {
                case READ -> { if (code && (type & 2) == 0) throw segFault(seg, 0); }
                case WRITE -> { if (code || (type & 2) == 0) throw segFault(seg, 0); }
                default -> { if (!code) throw segFault(seg, 0); }
            }
        }
        long limit = s.limit & 0xFFFFFFFFL;
        long last = offset + size - 1;
        int type = ar & 0xF;
        if ((type & 0xC) == 0x4 && (ar & Segment.AR_S) != 0) {
            // Expand-down data segment, SDM 5.3: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF.
            long upper = (ar & Segment.AR_DB) != 0 ? 0xFFFFFFFFL : 0xFFFFL;
            if (offset <= limit || last > upper) throw segFault(seg, 0);
        } else if (last > limit) {
            throw segFault(seg, 0);
        }
    }

    private static CpuFault segFault(int seg, int code) {
        return seg == Segment.SS ? CpuFault.ss(code) : CpuFault.gp(code);
    }

    /** True when {@code a} is canonical for 48-bit linear addresses (SDM 3.3.7.1). */
    public static boolean canonical(long a) {
        return (a << 16 >> 16) == a;
    }

    // =====================================================================================
    // Linear accesses (after segmentation)
    // =====================================================================================

    /**
     * Reads {@code size} bytes at a linear address; {@code supervisor} for implicit system accesses
     * (GDT, IDT, TSS). Supervisor TLB entries serve implicit accesses too: the only rule that is
     * stricter for them (SMAP ignores RFLAGS.AC) concerns user pages, which are never cached for
     * supervisor data accesses while CR4.SMAP=1.
     */
    public long readLinear(long linear, int size, boolean supervisor) {
        int i = linearSlot(READ, linear, supervisor);
        if (tag[i] == ((linear >>> 12) & VPN_MASK | tagBits) && (linear & 0xFFF) <= 0x1000 - size) {
            return readRam(frame[i] | (linear & 0xFFF), size);
        }
        return readSlow(linear, size, supervisor);
    }

    public void writeLinear(long linear, int size, long value, boolean supervisor) {
        int i = linearSlot(WRITE, linear, supervisor);
        if (tag[i] == ((linear >>> 12) & VPN_MASK | tagBits) && (linear & 0xFFF) <= 0x1000 - size) {
            writeRam(frame[i] | (linear & 0xFFF), size, value);
            return;
        }
        writeSlow(linear, size, value, supervisor);
    }

    private int linearSlot(int access, long lin, boolean supervisor) {
        int user = !supervisor && cpu.cpl == 3 ? 1 : 0;
        return ((access << 1 | user) << TLB_BITS) | (int) (((lin >>> 12) ^ salt) & TLB_MASK);
    }

    private long readSlow(long lin, int size, boolean implicitSupervisor) {
        if (!isLinearOk(lin)) throw CpuFault.gp0();
        if ((lin & 0xFFF) <= 0x1000 - size) {
            long pa = translate(lin, READ, implicitSupervisor);
            return readPhysical(pa, size);
        }
        // The access crosses a page boundary: translate both halves before reading either.
        int first = (int) (0x1000 - (lin & 0xFFF));
        long pa0 = translate(lin, READ, implicitSupervisor);
        long pa1 = translate(lin + first, READ, implicitSupervisor);
        long v = 0;
        for (int b = 0; b < size; b++) {
            long pa = b < first ? pa0 + b : pa1 + (b - first);
            v |= (readPhysical(pa, 1) & 0xFF) << (8 * b);
        }
        return v;
    }

    private void writeSlow(long lin, int size, long value, boolean implicitSupervisor) {
        if (!isLinearOk(lin)) throw CpuFault.gp0();
        if ((lin & 0xFFF) <= 0x1000 - size) {
            writePhysical(translate(lin, WRITE, implicitSupervisor), size, value);
            return;
        }
        // Crossing a page boundary: both translations (and their faults) come before any byte is stored.
        int first = (int) (0x1000 - (lin & 0xFFF));
        long pa0 = translate(lin, WRITE, implicitSupervisor);
        long pa1 = translate(lin + first, WRITE, implicitSupervisor);
        for (int b = 0; b < size; b++) {
            long pa = b < first ? pa0 + b : pa1 + (b - first);
            writePhysical(pa, 1, value >>> (8 * b));
        }
    }

    /** Linear addresses of system accesses outside 64-bit paging are 32 bits; in IA-32e mode they must be canonical. */
    private boolean isLinearOk(long lin) {
        return (cpu.efer & Cr.EFER_LMA) != 0 ? canonical(lin) : (lin >>> 32) == 0;
    }

    // =====================================================================================
    // Physical accesses
    // =====================================================================================

    private long readRam(long pa, int size) {
        return switch (size) {
            case 1 -> ram.get(ValueLayout.JAVA_BYTE, pa) & 0xFF;
            case 2 -> ram.get(LE16, pa) & 0xFFFF;
            case 4 -> ram.get(LE32, pa) & 0xFFFFFFFFL;
            default -> ram.get(LE64, pa);
        };
    }

    /** Reads physical memory: RAM directly, anything else through the board (MMIO, unbacked). */
    public long readPhysical(long pa, int size) {
        if (pa >= 0 && pa + size <= ramSize && cpu.mem.isRam(pa, size)) return readRam(pa, size);
        return cpu.mem.read(pa, size);
    }

    private void writeRam(long pa, int size, long value) {
        switch (size) {
            case 1 -> ram.set(ValueLayout.JAVA_BYTE, pa, (byte) value);
            case 2 -> ram.set(LE16, pa, (short) value);
            case 4 -> ram.set(LE32, pa, (int) value);
            default -> ram.set(LE64, pa, value);
        }
    }

    /** Writes physical memory and tells the code map, so self-modifying code takes effect. */
    public void writePhysical(long pa, int size, long value) {
        if (pa >= 0 && pa + size <= ramSize && cpu.mem.isRam(pa, size)) {
            writeRam(pa, size, value);
        } else {
            cpu.mem.write(pa, size, value);
        }
        cpu.codeMap.written(pa >>> 12);
        if (((pa + size - 1) >>> 12) != (pa >>> 12)) cpu.codeMap.written((pa + size - 1) >>> 12);
    }

    // =====================================================================================
    // Paging (SDM chapter 4)
    // =====================================================================================

    /**
     * Physical address of the instruction byte at linear {@code linear} (execute access, current
     * CPL). Fetches that continue on the next page call this again for that page.
     */
    /**
     * True when an instruction fetch from {@code linear} at the current CPL would hit a TLB entry
     * that maps it to physical address {@code pa}'s page: what {@link #fetchPhysical} would then
     * return, without a walk or any other effect (the interpreter's block chain asks it when a run
     * starts).
     */
    public boolean fetchCached(long linear, long pa) {
        int i = slot(EXECUTE, linear);
        return tag[i] == ((linear >>> 12) & VPN_MASK | tagBits) && frame[i] == (pa & ~0xFFFL);
    }

    public long fetchPhysical(long linear) {
        int i = slot(EXECUTE, linear);
        if (tag[i] == ((linear >>> 12) & VPN_MASK | tagBits)) return frame[i] | (linear & 0xFFF);
        if (!isLinearOk(linear)) throw CpuFault.gp0();
        return translate(linear, EXECUTE, false);
    }

    /**
     * Paging: linear to physical for an access kind at CPL (or as an implicit supervisor access),
     * setting accessed/dirty flags; throws #PF (carrying the address for CR2). Fills the TLB.
     */
    public long translate(long linear, int access, boolean supervisor) {
        boolean user = !supervisor && cpu.cpl == 3;
        if ((cpu.cr0 & Cr.CR0_PG) == 0) {
            // Paging disabled: linear = physical (32-bit linear addresses, SDM 4.1.1).
            long pa = linear & 0xFFFFFFFFL;
            fillWith(linear, pa & ~0xFFFL, 12, true, true, true, true, true, true, false);
            return pa;
        }
        return walk(linear, access, user, supervisor);
    }

    private long walk(long lin, int access, boolean user, boolean implicit) {
        long cr4 = cpu.cr4;
        boolean nxe = (cpu.efer & Cr.EFER_NXE) != 0;
        int errBase = errorCodeBase(access, user);
        // Physical addresses of the paging-structure entries used, to set their A bits afterwards.
        long[] entryAddr = walkAddr;
        int entries = 0;
        boolean rw = true, us = true, xd = false;
        long pageBase;
        int shift;
        long leaf;
        boolean global;
        if ((cr4 & Cr.CR4_PAE) == 0) {
            // 32-bit paging, SDM 4.3.
            long pdeAddr = (cpu.cr3 & 0xFFFFF000L) | ((lin >>> 20) & 0xFFC);
            long pde = readPhysical(pdeAddr, 4);
            if ((pde & 1) == 0) throw pageFault(lin, errBase);
            rw = (pde & 2) != 0; us = (pde & 4) != 0;
            entryAddr[entries++] = pdeAddr;
            if ((pde & 0x80) != 0 && (cr4 & Cr.CR4_PSE) != 0) {
                // 4 MiB page; PSE-36: PDE bits 20:13 are physical bits 39:32. Bits (M-20):13 hold
                // address bits, bit 21 and the bits above M-20 up to 20 are reserved (SDM 4.3, Table 4-4).
                int m = Math.min(maxPhysAddr, 40);
                long rsvd = (1L << 21) | (((1L << 21) - 1) & ~((1L << (m - 19)) - 1));
                if ((pde & rsvd) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                pageBase = (pde & 0xFFC00000L) | ((pde >>> 13 & 0xFF) << 32);
                shift = 22;
                leaf = pde;
                global = (pde & 0x100) != 0;
            } else {
                long pteAddr = (pde & 0xFFFFF000L) | ((lin >>> 10) & 0xFFC);
                long pte = readPhysical(pteAddr, 4);
                if ((pte & 1) == 0) throw pageFault(lin, errBase);
                rw &= (pte & 2) != 0; us &= (pte & 4) != 0;
                entryAddr[entries++] = pteAddr;
                pageBase = pte & 0xFFFFF000L;
                shift = 12;
                leaf = pte;
                global = (pte & 0x100) != 0;
            }
        } else {
            long addrMask = physMask & ~0xFFFL;
            // Reserved: bits 51:M (and 62:52 are ignored); bit 63 unless NXE (SDM 4.4.2, 4.5.4).
            long rsvdHigh = (~physMask & ((1L << 52) - 1)) | (nxe ? 0 : 1L << 63);
            long table;
            if ((cpu.efer & Cr.EFER_LMA) != 0) {
                // 4-level paging, SDM 4.5.
                long pml4eAddr = (cpu.cr3 & addrMask) | ((lin >>> 36) & 0xFF8);
                long pml4e = readPhysical(pml4eAddr, 8);
                if ((pml4e & 1) == 0) throw pageFault(lin, errBase);
                if ((pml4e & (rsvdHigh | 0x80)) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                rw = (pml4e & 2) != 0; us = (pml4e & 4) != 0; xd = nxe && pml4e < 0;
                entryAddr[entries++] = pml4eAddr;
                long pdpteAddr = (pml4e & addrMask) | ((lin >>> 27) & 0xFF8);
                long pdpte = readPhysical(pdpteAddr, 8);
                if ((pdpte & 1) == 0) throw pageFault(lin, errBase);
                if ((pdpte & rsvdHigh) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                rw &= (pdpte & 2) != 0; us &= (pdpte & 4) != 0; xd |= nxe && pdpte < 0;
                entryAddr[entries++] = pdpteAddr;
                if ((pdpte & 0x80) != 0) {
                    // 1 GiB page: bits 29:13 reserved (SDM 4.5.4, Table 4-16).
                    if ((pdpte & 0x3FFFE000L) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                    pageBase = pdpte & addrMask & ~0x3FFFFFFFL;
                    shift = 30;
                    leaf = pdpte;
                    global = (pdpte & 0x100) != 0;
                    return finishWalk(lin, access, user, implicit, entries, pageBase, shift, leaf, rw, us, xd, global);
                }
                table = pdpte & addrMask;
            } else {
                // PAE paging, SDM 4.4: the PDPTE registers were loaded (and checked) on the CR write.
                long pdpte = this.pdpte[(int) ((lin >>> 30) & 3)];
                if ((pdpte & 1) == 0) throw pageFault(lin, errBase);
                table = pdpte & addrMask;
            }
            // Page directory.
            long pdeAddr = table | ((lin >>> 18) & 0xFF8);
            long pde = readPhysical(pdeAddr, 8);
            if ((pde & 1) == 0) throw pageFault(lin, errBase);
            if ((pde & rsvdHigh) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
            rw &= (pde & 2) != 0; us &= (pde & 4) != 0; xd |= nxe && pde < 0;
            entryAddr[entries++] = pdeAddr;
            if ((pde & 0x80) != 0) {
                // 2 MiB page: bits 20:13 reserved (SDM Table 4-9 / 4-17).
                if ((pde & 0x1FE000L) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                pageBase = pde & addrMask & ~0x1FFFFFL;
                shift = 21;
                leaf = pde;
                global = (pde & 0x100) != 0;
            } else {
                long pteAddr = (pde & addrMask) | ((lin >>> 9) & 0xFF8);
                long pte = readPhysical(pteAddr, 8);
                if ((pte & 1) == 0) throw pageFault(lin, errBase);
                if ((pte & rsvdHigh) != 0) throw pageFault(lin, errBase | PF_P | PF_RSVD);
                rw &= (pte & 2) != 0; us &= (pte & 4) != 0; xd |= nxe && pte < 0;
                entryAddr[entries++] = pteAddr;
                pageBase = pte & addrMask;
                shift = 12;
                leaf = pte;
                global = (pte & 0x100) != 0;
            }
        }
        return finishWalk(lin, access, user, implicit, entries, pageBase, shift, leaf, rw, us, xd, global);
    }

    private final long[] walkAddr = new long[4];

    /**
     * Error-code bits describing the access (SDM 4.7): W/R, U/S, and I/D for instruction fetches
     * when CR4.SMEP=1 or (CR4.PAE=1 and IA32_EFER.NXE=1).
     */
    private int errorCodeBase(int access, boolean user) {
        long cr4 = cpu.cr4;
        boolean id = access == EXECUTE
                && ((cr4 & Cr.CR4_SMEP) != 0 || ((cr4 & Cr.CR4_PAE) != 0 && (cpu.efer & Cr.EFER_NXE) != 0));
        return (access == WRITE ? PF_W : 0) | (user ? PF_U : 0) | (id ? PF_ID : 0);
    }

    private long finishWalk(long lin, int access, boolean user, boolean implicit, int entries,
                            long pageBase, int shift, long leaf,
                            boolean rw, boolean us, boolean xd, boolean global) {
        int errBase = errorCodeBase(access, user);
        long cr4 = cpu.cr4;
        boolean wp = (cpu.cr0 & Cr.CR0_WP) != 0;
        boolean smap = (cr4 & Cr.CR4_SMAP) != 0;
        boolean smep = (cr4 & Cr.CR4_SMEP) != 0;
        boolean ac = (cpu.rflags & Rflags.AC) != 0;
        // Access rights, SDM 4.6.1.
        boolean allowed = switch (access) {
            case READ -> user ? us : !(us && smap && (implicit || !ac));
            case WRITE -> user ? us && rw
                    : !(us && smap && (implicit || !ac)) && (rw || !wp);
            default -> !xd && (user ? us : !(us && smep));
        };
        if (!allowed) throw pageFault(lin, errBase | PF_P);
        // Accessed flags in every entry used, dirty flag in the leaf on writes (SDM 4.8).
        boolean dirty = (leaf & 0x40) != 0;
        for (int e = 0; e < entries; e++) {
            long a = walkAddr[e];
            long v = readPhysical(a, 4);
            long set = e == entries - 1 && access == WRITE ? 0x60 : 0x20;
            if ((v & set) != set) writeEntry(a, v | set);
        }
        if (access == WRITE) dirty = true;
        if (keeping) {
            // these pages now shape a cached translation: writes to them must be seen (class comment)
            for (int e = 0; e < entries; e++) {
                long a = walkAddr[e];
                // a table outside RAM (MMIO, unbacked) may change unseen: its tag is never kept
                if (a < 0 || a + 8 > ramSize || !cpu.mem.isRam(a, 8)) tagMixed = true;
                long ppn = a >>> 12;
                if (cpu.codeMap.markTable(ppn)) dropWriteEntries(ppn);
            }
        }
        long offsetMask = (1L << shift) - 1;
        long pa = pageBase | (lin & offsetMask);
        boolean isGlobal = global && (cr4 & Cr.CR4_PGE) != 0;
        // Cache what is now permitted without further side effects.
        boolean supUserData = us && smap; // depends on AC and implicitness: never cached
        fillWith(lin, pa & ~0xFFFL, shift,
                !supUserData,                         // supervisor read
                us,                                   // user read
                dirty && !supUserData && (rw || !wp), // supervisor write
                dirty && us && rw,                    // user write
                !xd && !(us && smep),                 // supervisor execute
                !xd && us,                            // user execute
                isGlobal);
        return pa;
    }

    private void fillWith(long lin, long frameAddr, int shift, boolean supR, boolean userR, boolean supW, boolean userW,
                          boolean supX, boolean userX, boolean global) {
        if (frameAddr < 0 || frameAddr + 0x1000 > ramSize || !cpu.mem.isRam(frameAddr, 0x1000)) return;
        long t = ((lin >>> 12) & VPN_MASK) | tagBits;
        int idx = (int) (((lin >>> 12) ^ salt) & TLB_MASK);
        // no fast write entry for a page whose writes must be seen: decoded code, watched data
        boolean code = cpu.codeMap.isCode(frameAddr >>> 12) || cpu.codeMap.isWatched(frameAddr >>> 12);
        if (keeping) {
            noteFill();
            code |= cpu.codeMap.isTable(frameAddr >>> 12);
        }
        byte f = global ? F_GLOBAL : 0;
        put(0, idx, t, frameAddr, f, shift, supR);
        put(1, idx, t, frameAddr, f, shift, userR);
        put(2, idx, t, frameAddr, f, shift, supW && !code);
        put(3, idx, t, frameAddr, f, shift, userW && !code);
        put(4, idx, t, frameAddr, f, shift, supX);
        put(5, idx, t, frameAddr, f, shift, userX);
    }

    private void put(int kind, int idx, long t, long frameAddr, byte f, int shift, boolean allowed) {
        int i = (kind << TLB_BITS) | idx;
        if (tag[i] != INVALID && sizeShift[i] > 12) largeEntries--;
        if (!allowed) {
            // A stale entry for the same page with rights that no longer hold must not survive.
            if (tag[i] == t) tag[i] = INVALID;
            else if (tag[i] != INVALID && sizeShift[i] > 12) largeEntries++;
            return;
        }
        tag[i] = t;
        frame[i] = frameAddr;
        flags[i] = f;
        sizeShift[i] = (byte) shift;
        if (shift > 12) largeEntries++;
    }

    private void writeEntry(long pa, long value32) {
        // A/D updates are atomic read-modify-writes of the low dword (SDM 4.8); bits 63:32 are untouched.
        if (pa >= 0 && pa + 4 <= ramSize && cpu.mem.isRam(pa, 4)) {
            writeRam(pa, 4, value32);
            cpu.codeMap.flagsWritten(pa >>> 12);   // setting flags changes no translation (class comment)
        } else {
            writePhysical(pa, 4, value32);
        }
    }

    /** CR2 is written when the #PF is delivered, not here (SDM Vol. 3C 28.1: a #PF that exits leaves CR2). */
    private CpuFault pageFault(long lin, int errorCode) {
        return CpuFault.pf(errorCode, lin);
    }

    // =====================================================================================
    // PAE PDPTE registers (SDM 4.4.1)
    // =====================================================================================

    /**
     * Loads the four PDPTE registers from CR3 for PAE paging; #GP(0) if a present entry has reserved
     * bits set (bits 2:1, 8:5, 63:MAXPHYADDR), SDM 4.4.1. Nothing is changed when it faults.
     */
    public void loadPdptes(long cr3) {
        long base = cr3 & 0xFFFFFFE0L;
        long[] v = new long[4];
        long rsvd = 0x1E6L | ~physMask;
        for (int k = 0; k < 4; k++) {
            v[k] = readPhysical(base + 8L * k, 8);
            if ((v[k] & 1) != 0 && (v[k] & rsvd) != 0) throw CpuFault.gp0();
        }
        System.arraycopy(v, 0, pdpte, 0, 4);
    }

    /** True when PDPTE values would load without #GP (used by VM entry checks, SDM 27.3.1.6). */
    public boolean pdptesValid(long[] values) {
        long rsvd = 0x1E6L | ~physMask;
        for (long v : values) if ((v & 1) != 0 && (v & rsvd) != 0) return false;
        return true;
    }

    // =====================================================================================
    // Invalidation
    // =====================================================================================

    /** INVLPG: drops the translation of the page containing {@code linear} (SDM 4.10.4.1). */
    public void invalidatePage(long linear) {
        long t = ((linear >>> 12) & VPN_MASK) | tagBits;
        int idx = (int) (((linear >>> 12) ^ salt) & TLB_MASK);
        for (int k = 0; k < 6; k++) {
            int i = (k << TLB_BITS) | idx;
            if (tag[i] == t) drop(i);
        }
        if (largeEntries > 0) {
            // Fragments of a large page elsewhere in the arrays go too: INVLPG removes the whole
            // translation of the page (2 MiB, 4 MiB or 1 GiB) containing the address.
            long vpn = (linear >>> 12) & VPN_MASK;
            for (int i = 0; i < tag.length; i++) {
                long ti = tag[i];
                if (ti == INVALID || sizeShift[i] <= 12 || (ti & ~VPN_MASK) != tagBits) continue;
                int s = sizeShift[i] - 12;
                if (((ti & VPN_MASK) >>> s) == (vpn >>> s)) drop(i);
            }
        }
    }

    private void drop(int i) {
        if (sizeShift[i] > 12) largeEntries--;
        tag[i] = INVALID;
        sizeShift[i] = 0;
    }

    /** Drops all translations of the current context, or all but global ones (MOV to CR3 with CR4.PGE=1), SDM 4.10.4.1. */
    public void flush(boolean includeGlobal) {
        if (includeGlobal) {
            contextTags[context] = allocateTag();
            setTag(contextTags[context]);
            freshTag();
            return;
        }
        for (int i = 0; i < tag.length; i++) {
            if (tag[i] != INVALID && (tag[i] & ~VPN_MASK) == tagBits && (flags[i] & F_GLOBAL) == 0) drop(i);
        }
    }

    /** Drops every translation of every context (e.g. INVEPT/INVVPID all-context, INIT). */
    public void flushAllContexts() {
        clearArrays();
        nextTag = 1;
        for (int c = 0; c < contextCount; c++) contextTags[c] = nextTag++;
        setTag(contextTags[context]);
        keptCount = 0;
        freshTag();
    }

    private void setTag(int t) {
        tagBits = (long) t << 52;
        salt = (t * 0x9E3779B1L) >>> 7;
    }

    private int allocateTag() {
        if (nextTag > MAX_TAG) {
            flushAllContexts();
            return contextTags[context];
        }
        return nextTag++;
    }

    private void clearArrays() {
        java.util.Arrays.fill(tag, INVALID);
        java.util.Arrays.fill(sizeShift, (byte) 0);
        largeEntries = 0;
    }

    // =====================================================================================
    // Contexts for VMX (see the class comment)
    // =====================================================================================

    /** Allocates a translation context whose entries are kept apart from all others (e.g. one per VPID). */
    public int newContext() {
        if (contextCount == MAX_CONTEXTS) throw new IllegalStateException("too many TLB contexts");
        int c = contextCount++;
        contextTags[c] = allocateTag();
        return c;
    }

    /** Makes {@code context} current: later accesses use and fill its translations. No flush. */
    public void switchContext(int context) {
        if (context < 0 || context >= contextCount) throw new IllegalArgumentException("no TLB context " + context);
        this.context = context;
        setTag(contextTags[context]);
        tagMixed = true;   // its history is unknown here: never kept across a transition
    }

    /** The current context id (0 outside VMX non-root operation unless the VMX layer chose otherwise). */
    public int context() {
        return context;
    }

    /** The current translation tag (changes whenever the current context is flushed). */
    public long contextTag() {
        return tagBits >>> 52;
    }

    // =====================================================================================
    // VM entries and exits (see "Translations kept across VM entries and exits" above)
    // =====================================================================================

    /**
     * A VM entry or VM exit without VPIDs, after it loaded CR0, CR3, CR4, EFER (and the PDPTEs):
     * invalidates every linear mapping of the current context (SDM 29.4.3.1). When the outgoing
     * tag's entries are all exact, it is kept under its key; when a kept tag has the incoming
     * registers as key and no table page was written since it was issued, it becomes current
     * again, which no access can tell from a flush (class comment). Otherwise a fresh tag.
     */
    public void vmTransition() {
        if (context != 0) {
            flush(true);
            return;
        }
        if (!keeping) {
            // from now on table pages are watched; entries made before were not, so they all go
            keeping = true;
            flushAllContexts();
            return;
        }
        long epoch = cpu.codeMap.tableWrites();
        boolean exact = tagKeyed && !tagMixed && tagEpoch == epoch;
        // the usual round trip: no key register changed since the last transition held the key
        if (exact && keyHeld && (cpu.changedGroups(controlWatcher) & 1 << Cpu.STATE_CONTROL) == 0) {
            assert sameKey(tagKey, 0, currentKeyCopy()) : "a key register changed behind the CONTROL group";
            return;
        }
        long[] key = keyScratch;
        currentKey(key);
        // a hypervisor sharing its guest's page tables and paging bits: the current set simply stays
        if (exact && sameKey(tagKey, 0, key)) {
            holdKey();
            return;
        }
        if (exact) keep(tagKey, contextTags[0], tagEpoch);
        for (int k = 0; k < keptCount; k++) {
            if (keptEpochs[k] == epoch && sameKey(keptKeys, k * KEY_WORDS, key)) {
                int t = keptTags[k];
                forgetKept(k);
                contextTags[0] = t;
                setTag(t);
                System.arraycopy(key, 0, tagKey, 0, KEY_WORDS);
                tagKeyed = true;
                tagMixed = false;
                tagEpoch = epoch;
                holdKey();
                return;
            }
        }
        flush(true);
    }

    /** The current tag's key equals the registers now (see {@link #keyHeld}). */
    private void holdKey() {
        long cr0 = cpu.cr0;
        keyHeld = !((cr0 & Cr.CR0_PG) != 0 && (cpu.cr4 & Cr.CR4_PAE) != 0 && (cpu.efer & Cr.EFER_LMA) == 0);
        cpu.clearChangedGroups(controlWatcher);
    }

    /** Assertion helper: the registers' key in a fresh array. */
    private long[] currentKeyCopy() {
        long[] k = new long[KEY_WORDS];
        currentKey(k);
        return k;
    }

    /** The registers a page walk depends on (see the class comment), into {@code k}. */
    private void currentKey(long[] k) {
        long cr0 = cpu.cr0, cr4 = cpu.cr4, efer = cpu.efer;
        k[0] = cpu.cr3;
        k[1] = (cr0 & KEY_CR0) | (cr4 & KEY_CR4) | (efer & KEY_EFER) << 32;
        boolean paePaging = (cr0 & Cr.CR0_PG) != 0 && (cr4 & Cr.CR4_PAE) != 0 && (efer & Cr.EFER_LMA) == 0;
        for (int i = 0; i < 4; i++) k[2 + i] = paePaging ? pdpte[i] : 0;
    }

    private static boolean sameKey(long[] keys, int at, long[] key) {
        for (int i = 0; i < KEY_WORDS; i++) if (keys[at + i] != key[i]) return false;
        return true;
    }

    /** A translation is cached under the current tag: its registers join (or spoil) the tag's key. */
    private void noteFill() {
        if (tagMixed) return;
        long[] key = keyScratch;
        currentKey(key);
        if (!tagKeyed) {
            System.arraycopy(key, 0, tagKey, 0, KEY_WORDS);
            tagKeyed = true;
        } else if (!sameKey(tagKey, 0, key)) {
            tagMixed = true;
        }
    }

    /** The current tag was just issued: nothing filled under it yet. */
    private void freshTag() {
        keyHeld = false;
        tagKeyed = false;
        tagMixed = false;
        tagEpoch = cpu.codeMap.tableWrites();
    }

    private void keep(long[] key, int t, long epoch) {
        int slot = -1;
        for (int k = 0; k < keptCount && slot < 0; k++) if (sameKey(keptKeys, k * KEY_WORDS, key)) slot = k;
        for (int k = 0; k < keptCount && slot < 0; k++) if (keptEpochs[k] != epoch) slot = k;   // stale: reuse
        if (slot < 0) {
            if (keptCount == KEPT) forgetKept(0);   // the oldest goes
            slot = keptCount++;
        }
        System.arraycopy(key, 0, keptKeys, slot * KEY_WORDS, KEY_WORDS);
        keptTags[slot] = t;
        keptEpochs[slot] = epoch;
    }

    private void forgetKept(int k) {
        int last = keptCount - 1;
        System.arraycopy(keptKeys, (k + 1) * KEY_WORDS, keptKeys, k * KEY_WORDS, (last - k) * KEY_WORDS);
        System.arraycopy(keptTags, k + 1, keptTags, k, last - k);
        System.arraycopy(keptEpochs, k + 1, keptEpochs, k, last - k);
        keptCount = last;
    }

    /**
     * From now on every write to physical page {@code ppn} advances {@code CodeMap.watchedWrites}:
     * the page is marked watched and loses its fast write entries, so stores to it take the slow path
     * that tells the code map (as for code pages). For data a VM transition remembers (MSR areas).
     */
    public void watchWrites(long ppn) {
        if (cpu.codeMap.markWatched(ppn)) dropWriteEntries(ppn);
    }

    /** A physical page became a table page: write entries that map it must go, as for code pages. */
    private void dropWriteEntries(long ppn) {
        codePageMarked(ppn);
    }

    /** A physical page became code: write entries that map it must go (see the class comment). */
    private void codePageMarked(long ppn) {
        long f = ppn << 12;
        for (int i = 2 << TLB_BITS; i < 4 << TLB_BITS; i++) {
            if (tag[i] != INVALID && frame[i] == f) drop(i);
        }
    }

    /** Physical-address width used for reserved-bit checks. */
    public int maxPhysAddr() {
        return maxPhysAddr;
    }
}
