package lhv.vmx.vmcs;

import lhv.cpu.ChangeWatchers;
import lhv.cpu.bus.PhysicalMemory;

/**
 * The current VMCS as the processor holds it: a cache of every field in a Java array, loaded from the
 * VMCS region in physical memory by VMPTRLD and written back by VMCLEAR (or VMPTRLD of another VMCS).
 * SDM 25.11.1 allows exactly this: a processor may keep VMCS data on-chip and the layout of the region
 * beyond its first 8 bytes is implementation-specific, so software must use VMREAD/VMWRITE.
 *
 * <p>Our region layout (4 KiB, as IA32_VMX_BASIC[44:32] reports): bytes 0-3 revision identifier
 * (bit 31 = shadow-VMCS indicator), bytes 4-7 VMX-abort indicator (both architectural, SDM 25.2),
 * bytes 8-11 launch state (0 clear, 1 launched), bytes 12-15 zero, then one 8-byte slot per
 * {@link VmcsField} in declaration order starting at byte 16.
 *
 * <p>Context: owned by the VMX unit of one logical processor; used in VMX root operation by the VMX
 * instructions and by VM entry/exit. Not thread-safe.
 */
public final class Vmcs {
    public static final int REGION_SIZE = 4096;
    public static final int OFFSET_REVISION = 0, OFFSET_ABORT = 4, OFFSET_LAUNCH_STATE = 8, OFFSET_FIELDS = 16;
    static {
        if (OFFSET_FIELDS + 8 * VmcsField.COUNT > REGION_SIZE) throw new ExceptionInInitializerError("VMCS layout too large");
    }

    private final long[] values = new long[VmcsField.COUNT];
    /** The read-only live view handed to VM entry (no copy per VMRESUME). */
    private final long[] written = new long[VmcsSnapshot.READ_SET_WORDS];
    private final VmcsSnapshot view = new VmcsSnapshot(values, written);
    /**
     * Value-changing stores into control fields, plus one per wholesale load: while it stays the same,
     * every control field holds the value it had when it was last read (the non-root intercepts cache
     * the execution controls across VM entries on this).
     */
    private long controlStores;
    private static final byte[] GROUP = StateGroups.OF_FIELD;
    private static final boolean[] IS_CONTROL = new boolean[VmcsField.COUNT];
    static {
        for (VmcsField f : VmcsField.values()) IS_CONTROL[f.ordinal()] = f.type == FieldType.CONTROL;
    }
    private long pointer = -1;
    private int revisionId;
    private boolean shadow;
    private boolean launched;

    /** Physical address of the region this cache mirrors, or -1 when nothing is loaded. */
    public long pointer() {
        return pointer;
    }

    public boolean isLoaded() {
        return pointer != -1;
    }

    public int revisionId() {
        return revisionId;
    }

    /** The shadow-VMCS indicator, bit 31 of the first 4 bytes (SDM 25.2). */
    public boolean isShadow() {
        return shadow;
    }

    /** Launch state: true after a successful VMLAUNCH, false after VMCLEAR (SDM 25.1). */
    public boolean isLaunched() {
        return launched;
    }

    public void setLaunched(boolean launched) {
        this.launched = launched;
    }

    /** The value of {@code field} (the full 64 bits for 64-bit fields). */
    public long read(VmcsField field) {
        return values[field.ordinal()];
    }

    /** Stores {@code value} truncated to the width of {@code field}. */
    public void write(VmcsField field, long value) {
        int o = field.ordinal();
        long v = value & field.mask();
        if (values[o] != v) { // a VM exit stores every guest field, most of them unchanged
            values[o] = v;
            written[o >>> 6] |= 1L << o;
            groupChanged(o);
            if (IS_CONTROL[o]) controlStores++;
        }
    }

    /**
     * The value in slot {@code ordinal} ({@link VmcsField#ordinal()}): {@link #read} for VM entry and
     * exit, which index the fields by precomputed ordinals instead of loading them from the enum.
     */
    public long slot(int ordinal) {
        return values[ordinal];
    }

    /**
     * {@link #write} for a VM exit saving guest state and recording the exit information: the field is
     * not a control field and the caller has already truncated the value to its width (both asserted,
     * so every test run checks them), which leaves the compare and the written-field mark.
     */
    public void storeState(int ordinal, long value) {
        assert !IS_CONTROL[ordinal] && (value & ~VmcsField.ofOrdinal(ordinal).mask()) == 0
                : VmcsField.ofOrdinal(ordinal) + " " + Long.toHexString(value);
        if (values[ordinal] != value) { // a VM exit stores every guest field, most of them unchanged
            values[ordinal] = value;
            written[ordinal >>> 6] |= 1L << ordinal;
            groupChanged(ordinal);
        }
    }

    /** See {@link #controlStores}: compare two values, never interpret one. */
    public long controlStores() {
        return controlStores;
    }

    private void groupChanged(int ordinal) {
        // group 0 is "no group" (RIP, RSP, RFLAGS, the exit information...): nobody watches it
        int g = GROUP[ordinal];
        if (g != 0) groupWatchers.mark(1L << g);
    }

    /**
     * Per watcher (the VM entry and exit procedures of lhv.vmx.transition): bit n set when a field of
     * VMCS-side group n ({@link StateGroups}) changed value since the watcher last cleared its mask,
     * from any source; wholesale loads and copies set every bit. A new watcher starts with every bit set.
     * Bit 0 ("no group") is not kept up to date by single stores: it means nothing.
     */
    private final ChangeWatchers groupWatchers = new ChangeWatchers();

    /** Registers a watcher of group changes; returns its number for {@link #changedGroups}. */
    public int watchGroupChanges() {
        return groupWatchers.add();
    }

    /** The VMCS-side groups whose fields changed since watcher {@code k} last cleared its mask (bit n for group n). */
    public long changedGroups(int k) {
        return groupWatchers.get(k);
    }

    public void clearChangedGroups(int k) {
        groupWatchers.clear(k);
    }

    private void writtenAll() {
        for (int o = 0; o < VmcsField.COUNT; o++) written[o >>> 6] |= 1L << o;
        groupWatchers.markAll();
        controlStores++;
    }

    /**
     * VMREAD semantics for an encoding: the high access of a 64-bit field yields bits 63:32 of it
     * (SDM 25.11.2). The caller has already established that the encoding names a supported field.
     */
    public long readEncoded(int encoding) {
        VmcsField f = VmcsField.forEncoding(encoding);
        long v = read(f);
        return VmcsField.isHighAccess(encoding) ? v >>> 32 : v;
    }

    /** VMWRITE semantics for an encoding: the high access replaces bits 63:32 and keeps bits 31:0. */
    public void writeEncoded(int encoding, long value) {
        VmcsField f = VmcsField.forEncoding(encoding);
        if (VmcsField.isHighAccess(encoding)) {
            write(f, (read(f) & 0xFFFF_FFFFL) | (value << 32));
        } else {
            write(f, value);
        }
    }

    /** An immutable copy of every field, for the VM-entry checks. */
    public VmcsSnapshot snapshot() {
        return new VmcsSnapshot(values.clone());
    }

    /**
     * A read-only view of the live fields: it reflects later VMWRITEs and VM exits. For VM entry,
     * which reads the fields while nothing else can write them.
     */
    public VmcsSnapshot view() {
        return view;
    }

    /** Replaces every field with the values of {@code snapshot} (tests and the hosted hypervisor). */
    public void copyFrom(VmcsSnapshot snapshot) {
        for (VmcsField f : VmcsField.values()) values[f.ordinal()] = snapshot.get(f);
        writtenAll();
    }

    /** VMPTRLD: makes the region at {@code pa} current, reading it from physical memory. */
    public void load(PhysicalMemory memory, long pa) {
        int header = (int) memory.read(pa + OFFSET_REVISION, 4);
        revisionId = header & 0x7FFF_FFFF;
        shadow = header < 0;
        launched = memory.read(pa + OFFSET_LAUNCH_STATE, 4) == 1;
        for (int i = 0; i < values.length; i++) {
            values[i] = memory.read(pa + OFFSET_FIELDS + 8L * i, 8) & VmcsField.ofOrdinal(i).mask();
        }
        writtenAll();
        pointer = pa;
    }

    /** Writes the cached fields and launch state back to the current region (SDM 25.11.3). */
    public void store(PhysicalMemory memory) {
        if (pointer == -1) return;
        memory.write(pointer + OFFSET_LAUNCH_STATE, 4, launched ? 1 : 0);
        for (int i = 0; i < values.length; i++) {
            memory.write(pointer + OFFSET_FIELDS + 8L * i, 8, values[i]);
        }
    }

    /** Writes back and forgets the current region (VMCLEAR of the current VMCS, VMPTRLD of another). */
    public void flush(PhysicalMemory memory) {
        store(memory);
        pointer = -1;
        launched = false;
    }

    /** The revision identifier stored in bits 30:0 of the region at {@code pa}. */
    public static int revisionAt(PhysicalMemory memory, long pa) {
        return (int) memory.read(pa + OFFSET_REVISION, 4) & 0x7FFF_FFFF;
    }

    /** The shadow-VMCS indicator (bit 31) of the region at {@code pa}. */
    public static boolean shadowIndicatorAt(PhysicalMemory memory, long pa) {
        return (memory.read(pa + OFFSET_REVISION, 4) & 0x8000_0000L) != 0;
    }

    /** VMCLEAR's effect on a region that is not current: its launch state becomes clear (SDM 31.3 VMCLEAR). */
    public static void clearLaunchState(PhysicalMemory memory, long pa) {
        memory.write(pa + OFFSET_LAUNCH_STATE, 4, 0);
    }

    /** The VMX-abort indicator of the region at {@code pa} (SDM 25.2). */
    public static int abortIndicatorAt(PhysicalMemory memory, long pa) {
        return (int) memory.read(pa + OFFSET_ABORT, 4);
    }

    /** A VMX abort writes its indicator into the region (SDM 28.7). */
    public static void writeAbortIndicator(PhysicalMemory memory, long pa, int indicator) {
        memory.write(pa + OFFSET_ABORT, 4, indicator & 0xFFFF_FFFFL);
    }
}
