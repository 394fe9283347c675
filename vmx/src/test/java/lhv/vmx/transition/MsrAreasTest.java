package lhv.vmx.transition;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.CpuFault;
import lhv.cpu.Msr;
import lhv.cpu.Segment;
import lhv.cpu.model.MsrProvider;
import lhv.vmx.VmxTestbed;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The VM-entry/exit MSR areas ({@link MsrAreas}) against the SDM's per-entry rules, written out here
 * as a plain model: for each 16-byte entry in order, a load fails when bits 63:32 of the index word
 * are set, the index is FS/GS base, in the x2APIC range 800H-8FFH, IA32_SMM_MONITOR_CTL or IA32_SMBASE,
 * or WRMSR of the value would #GP (SDM 27.4, 28.6); a store fails on bits 63:32, the x2APIC range,
 * IA32_SMBASE, or an RDMSR that would #GP (SDM 28.4); processing stops at the first failure, whose
 * 1-based number is returned (the VM-entry failure's exit qualification; on exit loads it makes a
 * VMX abort). Two identical processors get the same random area (common, reserved, x2APIC, SMM, VMX
 * capability, unknown and FS/GS-base indexes, sometimes with bits 63:32 set; canonical, non-canonical,
 * valid and invalid values) and processor state; one runs {@link MsrAreas}, the other the model
 * through {@code SystemUnit.rdmsr}/{@code wrmsr}; the failing entry, every MSR the areas can reach
 * and the stored area must be equal. Concrete cases pin the rules without the model.
 *
 * <p>Context: unit test on two {@link VmxTestbed}s; the areas are processed as VM entry and exit do.
 */
class MsrAreasTest {
    private static final long AREA = 0x9000;
    /** An area in a page the testbed's paging maps and uses for nothing else (AREA holds its PML4). */
    private static final long MAPPED = VmxTestbed.MSR_AREA;
    private static final int[] INDEXES = {Msr.IA32_SYSENTER_CS, Msr.IA32_SYSENTER_ESP, Msr.IA32_SYSENTER_EIP, Msr.IA32_PAT,
            Msr.IA32_EFER, Msr.IA32_STAR, Msr.IA32_LSTAR, Msr.IA32_CSTAR, Msr.IA32_FMASK, Msr.IA32_FS_BASE, Msr.IA32_GS_BASE,
            Msr.IA32_KERNEL_GS_BASE, Msr.IA32_TSC_AUX, Msr.IA32_TIME_STAMP_COUNTER, Msr.IA32_APIC_BASE, Msr.IA32_DEBUGCTL,
            Msr.IA32_MISC_ENABLE, Msr.IA32_FEATURE_CONTROL, 0x480, 0x481, 0x48B, 0x491, 0x4FF, 0x802, 0x8FF, 0x9B, 0x9E,
            0xFE, 0x2FF, 0x12345, 0xC0000104};

    @Property(tries = 400)
    void loadFollowsTheEntryRules(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, false), reference = setUp(seed, false);
        int count = fillArea(fast, reference, new Random(seed ^ 0xA5A5));
        int f = MsrAreas.load(fast.cpu, AREA, count);
        int r = modelLoad(reference.cpu, count);
        assertEquals(r, f, "failing entry");
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the load");
    }

    @Property(tries = 400)
    void storeFollowsTheEntryRules(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, false), reference = setUp(seed, false);
        int count = fillArea(fast, reference, new Random(seed ^ 0x5A5A));
        int f = MsrAreas.store(fast.cpu, AREA, count);
        int r = modelStore(reference, count);
        assertEquals(r, f, "failing entry");
        for (int i = 0; i < 16 * count; i += 8) {
            assertEquals(reference.mem.read(AREA + i, 8), fast.mem.read(AREA + i, 8), "area word " + i / 8);
        }
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the store");
    }

    /** MSRs another layer provides ({@code Cpu.msrProviders}) are loaded and stored through it, as RDMSR/WRMSR reach them. */
    @Property(tries = 100)
    void providedMsrsGoThroughTheirProvider(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, true), reference = setUp(seed, true);
        int count = fillArea(fast, reference, new Random(seed));
        assertEquals(modelLoad(reference.cpu, count), MsrAreas.load(fast.cpu, AREA, count), "load");
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the load");
        assertEquals(modelStore(reference, count), MsrAreas.store(fast.cpu, AREA, count), "store");
        for (int i = 0; i < 16 * count; i += 8) {
            assertEquals(reference.mem.read(AREA + i, 8), fast.mem.read(AREA + i, 8), "area word " + i / 8);
        }
    }

    /** Concrete SDM cases: the failing entry is 1-based and the entries before it stay loaded. */
    @Test
    void failuresNameTheEntryAndKeepEarlierEntries() {
        VmxTestbed t = new VmxTestbed();
        entry(t, 0, Msr.IA32_SYSENTER_CS, 0x1234_0000_0010L);
        entry(t, 1, Msr.IA32_LSTAR, 0x0000_8000_0000_0000L); // not canonical: WRMSR #GP (SDM 27.4)
        entry(t, 2, Msr.IA32_STAR, 7);
        assertEquals(2, MsrAreas.load(t.cpu, AREA, 3));
        assertEquals(0x10, t.cpu.sysenterCs, "bits 63:32 of SYSENTER_CS are dropped as by WRMSR");
        entry(t, 1, Msr.IA32_FS_BASE, 0); // FS base may not be loaded from the area (SDM 27.4)
        assertEquals(2, MsrAreas.load(t.cpu, AREA, 3));
        t.mem.write(AREA + 16, 8, (1L << 32) | Msr.IA32_STAR); // bits 63:32 of the index word reserved
        assertEquals(2, MsrAreas.load(t.cpu, AREA, 3));
        assertEquals(2, MsrAreas.store(t.cpu, AREA, 3));
        entry(t, 1, Msr.IA32_TSC_AUX, 1L << 32); // TSC_AUX bits 63:32 reserved
        assertEquals(2, MsrAreas.load(t.cpu, AREA, 3));
        entry(t, 1, Msr.IA32_PAT, 0x0007_0406_0007_0402L); // entry 1 holds type 2 (reserved)
        assertEquals(2, MsrAreas.load(t.cpu, AREA, 3));
        entry(t, 1, Msr.IA32_PAT, 0x0007_0406_0007_0406L);
        assertEquals(0, MsrAreas.load(t.cpu, AREA, 3));
        assertEquals(0x0007_0406_0007_0406L, t.cpu.pat);
        assertEquals(7, t.cpu.star);
    }

    /**
     * The remembered areas of VM transitions ({@link MsrAreas#loadRemembered}, {@link MsrAreas#storeRemembered})
     * against the plain procedures on a twin processor, over random sequences of what can happen
     * between transitions: the guest writes a tracked MSR, the host rewrites an area word, a provider
     * starts claiming an MSR, or nothing. After every step the MSRs and the area must be equal.
     */
    @Property(tries = 200)
    void rememberedAreasMatchProcessingEveryTime(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, false), reference = setUp(seed, false);
        Random r = new Random(seed ^ 0x77);
        int count = 1 + r.nextInt(3);
        int[] tracked = {Msr.IA32_SYSENTER_CS, Msr.IA32_SYSENTER_ESP, Msr.IA32_SYSENTER_EIP, Msr.IA32_PAT, Msr.IA32_STAR};
        for (int i = 0; i < count; i++) {
            int index = tracked[r.nextInt(tracked.length)];
            long value = index == Msr.IA32_PAT ? 0x0007_0406_0007_0406L : r.nextInt(0x1000);
            entry(fast, i, index, value);
            entry(reference, i, index, value);
        }
        MsrAreas load = new MsrAreas(fast.cpu), store = new MsrAreas(fast.cpu);
        for (int step = 0; step < 30; step++) {
            boolean loading = r.nextBoolean();
            int f = loading ? load.loadRemembered(fast.cpu, AREA, count) : store.storeRemembered(fast.cpu, AREA, count);
            int g = loading ? MsrAreas.load(reference.cpu, AREA, count) : MsrAreas.store(reference.cpu, AREA, count);
            assertEquals(g, f, step + ": failing entry");
            assertEquals(msrs(reference.cpu), msrs(fast.cpu), step + ": MSRs");
            for (int i = 0; i < 16 * count; i += 8) assertEquals(reference.mem.read(AREA + i, 8), fast.mem.read(AREA + i, 8), step + ": area word " + i / 8);
            long v = r.nextInt(0x1000);
            int at = r.nextInt(count);
            switch (r.nextInt(5)) {
                case 0 -> { fast.cpu.setSysenterCs(v); reference.cpu.setSysenterCs(v); }
                case 1 -> { fast.mem.write(AREA + 16L * at + 8, 8, v); reference.mem.write(AREA + 16L * at + 8, 8, v); }
                case 2 -> {
                    if (fast.cpu.msrProviders().size() == 1) { // the VMX capability MSRs only
                        for (VmxTestbed t : new VmxTestbed[]{fast, reference}) t.cpu.addMsrProvider(new StarProvider(), false);
                    }
                }
                default -> { }
            }
        }
    }

    /** A steady area is processed once; after that only a change of the MSR, the area or its owner makes it run again. */
    @Test
    void aSteadyAreaIsProcessedOnce() {
        VmxTestbed t = new VmxTestbed();
        entry(t, 0, Msr.IA32_SYSENTER_CS, 0x10);
        MsrAreas load = new MsrAreas(t.cpu), store = new MsrAreas(t.cpu);
        for (int i = 0; i < 3; i++) assertEquals(0, load.loadRemembered(t.cpu, AREA, 1));
        assertEquals(1, load.processed);
        t.cpu.setSysenterCs(0x20); // the guest changes the MSR
        assertEquals(0, load.loadRemembered(t.cpu, AREA, 1));
        assertEquals(0x10, t.cpu.sysenterCs);
        assertEquals(2, load.processed);
        t.mem.write(AREA + 8, 8, 0x30); // the host rewrites the value
        assertEquals(0, load.loadRemembered(t.cpu, AREA, 1));
        assertEquals(0x30, t.cpu.sysenterCs);
        assertEquals(3, load.processed);
        for (int i = 0; i < 3; i++) assertEquals(0, store.storeRemembered(t.cpu, AREA, 1));
        assertEquals(1, store.processed);
        t.mem.write(AREA + 8, 8, 0x99); // the guest scribbles over the stored value
        assertEquals(0, store.storeRemembered(t.cpu, AREA, 1));
        assertEquals(0x30, t.mem.read(AREA + 8, 8));
        assertEquals(2, store.processed);
        entry(t, 0, Msr.IA32_STAR, 7); // STAR is not tracked state: processed every time
        load.loadRemembered(t.cpu, AREA, 1);
        load.loadRemembered(t.cpu, AREA, 1);
        assertEquals(5, load.processed);
    }

    /**
     * A remembered area's pages are watched: an ordinary store through the processor's TLB (whose
     * write entry for the page existed before the area was remembered) is seen, and the area runs
     * again with the stored value.
     */
    @Test
    void aProcessorStoreToARememberedAreaIsSeen() {
        VmxTestbed t = withMappedArea();
        t.cpu.mmu.writeLinear(MAPPED + 0x800, 8, 1, true); // fills a fast write entry for the area's page
        MsrAreas load = new MsrAreas(t.cpu);
        for (int i = 0; i < 2; i++) assertEquals(0, load.loadRemembered(t.cpu, MAPPED, 1));
        assertEquals(1, load.processed);
        t.cpu.mmu.writeLinear(MAPPED + 8, 8, 0x40, true);
        assertEquals(0, load.loadRemembered(t.cpu, MAPPED, 1));
        assertEquals(0x40, t.cpu.sysenterCs);
        assertEquals(2, load.processed);
    }

    /** A write into the raw RAM segment that does not tell the code map breaks the contract; the assertions (on in tests) catch it. */
    @Test
    void aWriteBehindTheCodeMapIsCaught() {
        VmxTestbed t = withMappedArea();
        MsrAreas load = new MsrAreas(t.cpu);
        load.loadRemembered(t.cpu, MAPPED, 1);
        t.mem.ram().set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, MAPPED + 8, 0x50);
        AssertionError e = assertThrows(AssertionError.class, () -> load.loadRemembered(t.cpu, MAPPED, 1));
        assertTrue(e.getMessage().contains("behind the code map"), e.getMessage());
    }

    /** A testbed whose one-entry area at {@link #MAPPED} loads IA32_SYSENTER_CS = 0x10. */
    private static VmxTestbed withMappedArea() {
        VmxTestbed t = new VmxTestbed();
        t.mem.write(MAPPED, 8, Msr.IA32_SYSENTER_CS);
        t.mem.write(MAPPED + 8, 8, 0x10);
        return t;
    }

    /** Claims STAR like the random-area provider, for the remembered-area property. */
    private static final class StarProvider implements MsrProvider {
        @Override
        public boolean handles(int index) {
            return index == Msr.IA32_SYSENTER_CS || index == Msr.IA32_STAR;
        }

        @Override
        public long read(Cpu cpu, int index) {
            return 0xABCD;
        }

        @Override
        public void write(Cpu cpu, int index, long value) {
            cpu.fmask = value & 0xFF;
        }
    }

    /** SDM 27.4 / 28.6, entry by entry. */
    private static int modelLoad(Cpu cpu, int count) {
        for (int i = 0; i < count; i++) {
            long indexWord = cpu.mem.read(AREA + 16L * i, 8), value = cpu.mem.read(AREA + 16L * i + 8, 8);
            int index = (int) indexWord;
            if (indexWord >>> 32 != 0 || index == Msr.IA32_FS_BASE || index == Msr.IA32_GS_BASE
                    || (index >= 0x800 && index <= 0x8FF) || index == 0x9B || index == 0x9E) return i + 1;
            try {
                cpu.sys.wrmsr(index, value);
            } catch (CpuFault f) {
                return i + 1;
            }
        }
        return 0;
    }

    /** SDM 28.4, entry by entry. */
    private static int modelStore(VmxTestbed t, int count) {
        for (int i = 0; i < count; i++) {
            long indexWord = t.mem.read(AREA + 16L * i, 8);
            int index = (int) indexWord;
            if (indexWord >>> 32 != 0 || (index >= 0x800 && index <= 0x8FF) || index == 0x9E) return i + 1;
            try {
                t.mem.write(AREA + 16L * i + 8, 8, t.cpu.sys.rdmsr(index));
            } catch (CpuFault f) {
                return i + 1;
            }
        }
        return 0;
    }

    private static void entry(VmxTestbed t, int i, int index, long value) {
        t.mem.write(AREA + 16L * i, 8, index & 0xFFFF_FFFFL);
        t.mem.write(AREA + 16L * i + 8, 8, value);
    }

    private static VmxTestbed setUp(long seed, boolean claimingProvider) {
        Random r = new Random(seed);
        VmxTestbed t = new VmxTestbed();
        Cpu c = t.cpu;
        if (r.nextBoolean()) c.setCr0(c.cr0 & ~Cr.CR0_PG); // EFER.LME may change only while paging is off
        if (r.nextBoolean()) c.setEfer(Cr.EFER_NXE | (r.nextBoolean() ? Cr.EFER_LME : 0));
        c.setSysenterCs(r.nextLong() & 0xFFFF_FFFFL);
        c.setSysenterEsp(r.nextLong() >> 17);
        c.kernelGsBase = r.nextLong() >> 17;
        c.seg[Segment.FS].setBase(r.nextLong() >> 17);
        c.tscAux = r.nextInt() & 0xFFFF_FFFFL;
        if (claimingProvider) {
            // claims SYSENTER_CS (read-only, a fixed value) and STAR (stored, any value), ahead of the core
            c.addMsrProvider(new MsrProvider() {
                long star = 0x55;

                @Override
                public boolean handles(int index) {
                    return index == Msr.IA32_SYSENTER_CS || index == Msr.IA32_STAR;
                }

                @Override
                public long read(Cpu cpu, int index) {
                    return index == Msr.IA32_STAR ? star : 0xABCD;
                }

                @Override
                public void write(Cpu cpu, int index, long value) {
                    if (index == Msr.IA32_SYSENTER_CS) throw CpuFault.gp0();
                    star = value;
                    cpu.fmask = value & 0xFF; // visible in the compared state
                }
            }, true);
        }
        return t;
    }

    /** Writes the same random area into both processors' memory; returns its entry count. */
    private static int fillArea(VmxTestbed a, VmxTestbed b, Random r) {
        int count = 1 + r.nextInt(8);
        for (int i = 0; i < count; i++) {
            long index = INDEXES[r.nextInt(INDEXES.length)] & 0xFFFF_FFFFL;
            if (r.nextInt(12) == 0) index |= (long) (1 + r.nextInt(0xFFFF)) << 32;
            long value = switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> r.nextLong() >> 17;                 // canonical
                case 2 -> r.nextLong();                       // anything
                case 3 -> r.nextInt() & 0xFFFF_FFFFL;         // 32 bits
                case 4 -> 0x0007_0406_0007_0406L;             // a valid PAT
                default -> Cr.EFER_NXE | Cr.EFER_LME | (r.nextBoolean() ? Cr.EFER_SCE : 0);
            };
            for (VmxTestbed t : new VmxTestbed[]{a, b}) {
                t.mem.write(AREA + 16L * i, 8, index);
                t.mem.write(AREA + 16L * i + 8, 8, value);
            }
        }
        return count;
    }

    private static String msrs(Cpu c) {
        return "sysenter=" + c.sysenterCs + "/" + c.sysenterEsp + "/" + c.sysenterEip + " pat=" + c.pat + " efer=" + c.efer
                + " star=" + c.star + " lstar=" + c.lstar + " cstar=" + c.cstar + " fmask=" + c.fmask
                + " fs=" + c.seg[Segment.FS].base + " gs=" + c.seg[Segment.GS].base + " kgs=" + c.kernelGsBase
                + " tscAux=" + c.tscAux + " tscBase=" + c.tscBase + " apic=" + c.apicBase + " debugctl=" + c.debugCtl
                + " misc=" + c.miscEnable + " mtrrDef=" + c.mtrrDefType + " cr0=" + c.cr0;
    }
}
