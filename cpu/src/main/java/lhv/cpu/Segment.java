package lhv.cpu;

/**
 * A segment register: the visible selector and the hidden descriptor cache (base, limit, access
 * rights), SDM Vol. 3A 3.4.3. The access rights use the VMX layout (SDM Vol. 3C 25.4.1, Table 25-2):
 * bits 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G, 16 unusable — so that VM entry and
 * exit can copy them without translation.
 */
public final class Segment {
    public static final int ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
    public static final String[] NAMES = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};

    public static final int AR_S = 1 << 4, AR_P = 1 << 7, AR_AVL = 1 << 12, AR_L = 1 << 13,
            AR_DB = 1 << 14, AR_G = 1 << 15, AR_UNUSABLE = 1 << 16;

    // The four parts are read directly everywhere; every write goes through the methods below, which
    // report changes to the owner's watchers (StateWriteGuardTest checks that no class outside
    // this one stores into these fields).
    public int selector;
    public long base;
    /** Byte-granular limit (already scaled when G=1). */
    public int limit;
    /** Access rights in VMX format. */
    public int attributes;
    /** The processor whose state group {@link #group} this register is, or null for a free-standing value. */
    private final Cpu owner;
    private final int group;

    /** A free-standing segment value (not a register of a processor). */
    public Segment() {
        this(null, 0);
    }

    /** A segment register of {@code owner}: its changes are reported as state group {@code group} ({@link Cpu#countChange}). */
    public Segment(Cpu owner, int group) {
        this.owner = owner;
        this.group = group;
    }

    public void set(int selector, long base, int limit, int attributes) {
        selector &= 0xFFFF;
        if (this.selector == selector && this.base == base && this.limit == limit && this.attributes == attributes) return;
        this.selector = selector;
        this.base = base;
        this.limit = limit;
        this.attributes = attributes;
        if (owner != null) owner.countChange(group);
    }

    public void copyFrom(Segment o) {
        set(o.selector, o.base, o.limit, o.attributes);
    }

    public void setSelector(int selector) {
        set(selector, base, limit, attributes);
    }

    public void setBase(long base) {
        set(selector, base, limit, attributes);
    }

    public void setLimit(int limit) {
        set(selector, base, limit, attributes);
    }

    public void setAttributes(int attributes) {
        set(selector, base, limit, attributes);
    }

    public int type() { return attributes & 0xF; }
    public int dpl() { return (attributes >>> 5) & 3; }
    public boolean present() { return (attributes & AR_P) != 0; }
    public boolean unusable() { return (attributes & AR_UNUSABLE) != 0; }
    public boolean longMode() { return (attributes & AR_L) != 0; }
    public boolean big() { return (attributes & AR_DB) != 0; }

    /** Real-mode style load: base = selector * 16, limit and attributes kept (SDM 20.1.1). */
    public void loadReal(int selector) {
        set(selector, (long) (selector & 0xFFFF) << 4, limit, attributes);
    }

    @Override
    public String toString() {
        return String.format("sel=%04x base=%x limit=%x ar=%x", selector, base, limit, attributes);
    }
}
