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

/**
 * Differential test of the MSR areas' common-MSR path ({@link MsrAreas#load}/{@link MsrAreas#store},
 * which send SYSENTER, PAT, EFER, the system-call MSRs, FS/GS/kernel-GS base and TSC_AUX straight to
 * the core's small read/write methods) against the reference that sends every entry through
 * {@code SystemUnit.rdmsr}/{@code wrmsr} with its provider lookup. Two identical processors get the
 * same random area (common, reserved, x2APIC, SMM, VMX capability, unknown and FS/GS-base indexes,
 * sometimes with bits 63:32 set; canonical, non-canonical, valid and invalid values) and processor
 * state; the returned failing-entry number (the VM-entry exit qualification, or the VMX-abort
 * trigger on exit loads), every MSR the areas can reach and the stored area must be equal.
 *
 * <p>Context: unit test on two {@link VmxTestbed}s; the areas are processed as VM entry and exit do.
 */
class MsrAreasCommonPathTest {
    private static final long AREA = 0x9000;
    private static final int[] INDEXES = {Msr.IA32_SYSENTER_CS, Msr.IA32_SYSENTER_ESP, Msr.IA32_SYSENTER_EIP, Msr.IA32_PAT,
            Msr.IA32_EFER, Msr.IA32_STAR, Msr.IA32_LSTAR, Msr.IA32_CSTAR, Msr.IA32_FMASK, Msr.IA32_FS_BASE, Msr.IA32_GS_BASE,
            Msr.IA32_KERNEL_GS_BASE, Msr.IA32_TSC_AUX, Msr.IA32_TIME_STAMP_COUNTER, Msr.IA32_APIC_BASE, Msr.IA32_DEBUGCTL,
            Msr.IA32_MISC_ENABLE, Msr.IA32_FEATURE_CONTROL, 0x480, 0x481, 0x48B, 0x491, 0x4FF, 0x802, 0x8FF, 0x9B, 0x9E,
            0xFE, 0x2FF, 0x12345, 0xC0000104};

    @Property(tries = 400)
    void loadMatchesWrmsrPath(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, false), reference = setUp(seed, false);
        int count = fillArea(fast, reference, new Random(seed ^ 0xA5A5));
        int f = MsrAreas.load(fast.cpu, AREA, count, true);
        int r = MsrAreas.load(reference.cpu, AREA, count, false);
        assertEquals(r, f, "failing entry");
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the load");
    }

    @Property(tries = 400)
    void storeMatchesRdmsrPath(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, false), reference = setUp(seed, false);
        int count = fillArea(fast, reference, new Random(seed ^ 0x5A5A));
        int f = MsrAreas.store(fast.cpu, AREA, count, true);
        int r = MsrAreas.store(reference.cpu, AREA, count, false);
        assertEquals(r, f, "failing entry");
        for (int i = 0; i < 16 * count; i += 8) {
            assertEquals(reference.mem.read(AREA + i, 8), fast.mem.read(AREA + i, 8), "area word " + i / 8);
        }
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the store");
    }

    /** A provider claiming common MSRs takes them on the common path too (as RDMSR/WRMSR would). */
    @Property(tries = 100)
    void providerClaimingCommonMsrsIsStillAsked(@ForAll long seed) {
        VmxTestbed fast = setUp(seed, true), reference = setUp(seed, true);
        int count = fillArea(fast, reference, new Random(seed));
        assertEquals(MsrAreas.load(reference.cpu, AREA, count, false), MsrAreas.load(fast.cpu, AREA, count, true), "load");
        assertEquals(msrs(reference.cpu), msrs(fast.cpu), "MSRs after the load");
        assertEquals(MsrAreas.store(reference.cpu, AREA, count, false), MsrAreas.store(fast.cpu, AREA, count, true), "store");
        for (int i = 0; i < 16 * count; i += 8) {
            assertEquals(reference.mem.read(AREA + i, 8), fast.mem.read(AREA + i, 8), "area word " + i / 8);
        }
    }

    /** Concrete SDM cases on the common path: the failing entry is 1-based and the entries before it stay loaded. */
    @Test
    void commonPathFailuresNameTheEntry() {
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

    private static void entry(VmxTestbed t, int i, int index, long value) {
        t.mem.write(AREA + 16L * i, 8, index & 0xFFFF_FFFFL);
        t.mem.write(AREA + 16L * i + 8, 8, value);
    }

    private static VmxTestbed setUp(long seed, boolean claimingProvider) {
        Random r = new Random(seed);
        VmxTestbed t = new VmxTestbed();
        Cpu c = t.cpu;
        if (r.nextBoolean()) c.cr0 &= ~Cr.CR0_PG; // EFER.LME may change only while paging is off
        if (r.nextBoolean()) c.efer = Cr.EFER_NXE | (r.nextBoolean() ? Cr.EFER_LME : 0);
        c.sysenterCs = r.nextLong() & 0xFFFF_FFFFL;
        c.sysenterEsp = r.nextLong() >> 17;
        c.kernelGsBase = r.nextLong() >> 17;
        c.seg[Segment.FS].base = r.nextLong() >> 17;
        c.tscAux = r.nextInt() & 0xFFFF_FFFFL;
        if (claimingProvider) {
            // claims SYSENTER_CS (read-only, a fixed value) and STAR (stored, any value), ahead of the core
            c.msrProviders.add(0, new MsrProvider() {
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
            });
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
