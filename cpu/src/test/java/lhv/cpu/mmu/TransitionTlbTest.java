package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Translations kept across VM entries and exits ({@link Mmu#vmTransition}): without VPIDs a
 * transition must act as a flush of every linear mapping (SDM 29.4.3.1), so whatever changed in
 * the paging structures before it — by a guest store, a host write, with or without INVLPG — is
 * seen after it, accessed and dirty flags included. Unit cases for each way a table can change,
 * plus a differential property: random programs of accesses, table writes, CR changes and
 * transitions give the same results with the keeping transition as with a plain flush.
 */
class TransitionTlbTest {
    static final long PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT = 0x13000;
    /** A second root sharing PDPT/PD but with its own page table (another address space). */
    static final long PML4_B = 0x14000, PDPT_B = 0x15000, PD_B = 0x16000, PT_B = 0x17000;
    static final int P = 1, RW = 2, US = 4, A = 0x20, D = 0x40;
    /** Linear 0x400000 + i*4K maps physical 0x200000 + i*4K; the page table itself is mapped at 0x5FF000. */
    static final long LIN = 0x400000, PT_LINEAR = 0x400000 + 511 * 0x1000L;

    final Cpu cpu = TestRam.cpu();
    final TestRam ram = TestRam.of(cpu);

    static void build(TestRam ram) {
        for (long[] root : new long[][] {{PML4, PDPT, PD, PT}, {PML4_B, PDPT_B, PD_B, PT_B}}) {
            ram.q(root[0], root[1] | P | RW | US);
            ram.q(root[1], root[2] | P | RW | US);
            ram.q(root[2] + 2 * 8, root[3] | P | RW | US);
            for (int i = 0; i < 511; i++) ram.q(root[3] + i * 8L, (0x200000L + i * 0x1000L) | P | RW | US);
            ram.q(root[3] + 511 * 8L, root[3] | P | RW | US);   // the table maps itself
        }
        for (int i = 0; i < 16; i++) ram.d(0x200000L + i * 0x1000L, 0x1000 + i);
        for (int i = 0; i < 16; i++) ram.d(0x300000L + i * 0x1000L, 0x3000 + i);
    }

    static void long64(Cpu cpu) {
        TestRam.long64(cpu, PML4);
    }

    TransitionTlbTest() {
        build(ram);
        long64(cpu);
        cpu.mmu.vmTransition();   // the first transition starts watching table pages
    }

    int read(long page) {
        return cpu.mmu.read32(Segment.DS, LIN + page * 0x1000);
    }

    @Test
    void equalRegistersKeepTheTagWhenNothingWasWritten() {
        read(0);
        long tag = cpu.mmu.contextTag();
        cpu.mmu.vmTransition();
        assertEquals(tag, cpu.mmu.contextTag(), "same registers, no table write: the set is kept");
        assertEquals(0x1000, read(0));
    }

    @Test
    void guestStoreToAPteWithoutInvlpgIsSeenAfterTheTransition() {
        assertEquals(0x1000, read(0));
        cpu.mmu.write64(Segment.DS, PT_LINEAR, 0x300000L | P | RW | US);   // the guest rewrites PTE 0 through its mapping
        cpu.mmu.vmTransition();   // VM exit
        cpu.mmu.vmTransition();   // VM entry
        assertEquals(0x3000, read(0), "the new mapping is used, no INVLPG needed across a transition");
    }

    @Test
    void hostWriteToAPteIsSeenAfterTheTransition() {
        assertEquals(0x1000, read(0));
        cpu.mmu.vmTransition();   // VM exit: the host runs
        cpu.mmu.writePhysical(PT, 8, 0x300000L | P | RW | US);   // e.g. a hypervisor editing the guest's tables
        cpu.mmu.vmTransition();   // VM entry
        assertEquals(0x3000, read(0));
    }

    @Test
    void hostWriteThroughTheCodeMapContractCounts() {
        assertEquals(0x1000, read(0));
        ram.q(PT, 0x300000L | P | RW | US);   // a board write ...
        cpu.codeMap.written(PT >>> 12);        // ... tells the CodeMap, as every physical-memory writer must
        cpu.mmu.vmTransition();
        assertEquals(0x3000, read(0));
    }

    @Test
    void upperLevelChangeIsSeen() {
        assertEquals(0x1000, read(0));
        cpu.mmu.writePhysical(PD + 16, 8, PT_B | P | RW | US);   // PDE now points at the other page table
        cpu.mmu.writePhysical(PT_B, 8, 0x305000L | P | RW | US);
        cpu.mmu.vmTransition();
        assertEquals(0x3005, read(0));
    }

    @Test
    void clearedAccessedFlagIsSetAgainAfterTheTransition() {
        read(0);
        assertEquals(A, ram.q(PT) & A);
        cpu.mmu.writePhysical(PT, 8, ram.q(PT) & ~A);
        cpu.mmu.vmTransition();
        read(0);
        assertEquals(A, ram.q(PT) & A, "a fresh walk sets A again");
    }

    @Test
    void clearedDirtyFlagIsSetAgainByTheNextWrite() {
        cpu.mmu.write32(Segment.DS, LIN, 5);
        assertEquals(A | D, ram.q(PT) & (A | D));
        cpu.mmu.writePhysical(PT, 8, ram.q(PT) & ~D);
        cpu.mmu.vmTransition();
        cpu.mmu.write32(Segment.DS, LIN, 6);
        assertEquals(A | D, ram.q(PT) & (A | D), "the write walks again and sets D");
    }

    @Test
    void tablePagesGetNoFastWriteEntries() {
        cpu.mmu.write64(Segment.DS, PT_LINEAR + 8, 0x301000L | P | RW | US);
        long before = cpu.codeMap.tableWrites();
        read(0);   // walking marks PT as a table page
        cpu.mmu.write64(Segment.DS, PT_LINEAR + 8, 0x302000L | P | RW | US);
        assertTrue(cpu.codeMap.tableWrites() > before, "the second store was seen although the first cached its page");
    }

    @Test
    void differentRegistersGetTheirOwnSetsAndComeBackToThem() {
        read(0);
        long guestTag = cpu.mmu.contextTag();
        cpu.setCr3(PML4_B);   // the host's address space
        cpu.mmu.vmTransition();
        long hostTag = cpu.mmu.contextTag();
        assertNotEquals(guestTag, hostTag);
        read(0);
        cpu.setCr3(PML4);
        cpu.mmu.vmTransition();
        assertEquals(guestTag, cpu.mmu.contextTag(), "the guest's set comes back");
        cpu.setCr3(PML4_B);
        cpu.mmu.vmTransition();
        assertEquals(hostTag, cpu.mmu.contextTag(), "and the host's");
    }

    @Test
    void aWriteToAnyTablePageDropsEveryKeptSet() {
        read(0);
        long guestTag = cpu.mmu.contextTag();
        cpu.setCr3(PML4_B);
        cpu.mmu.vmTransition();
        cpu.mmu.writePhysical(PT_B + 8, 8, 0x301000L | P | RW | US);   // not walked yet: no cached translation depends on it
        cpu.setCr3(PML4);
        cpu.mmu.vmTransition();
        assertEquals(guestTag, cpu.mmu.contextTag(), "a write to a page no walk used changes nothing");
        cpu.setCr3(PML4_B);
        cpu.mmu.vmTransition();
        read(1);                                                        // now PT_B is a table page
        cpu.mmu.writePhysical(PT_B + 16, 8, 0x302000L | P | RW | US);   // only the other space changes
        cpu.setCr3(PML4);
        cpu.mmu.vmTransition();
        assertNotEquals(guestTag, cpu.mmu.contextTag(), "the count is per processor, not per space: every kept set goes");
    }

    @Test
    void accessRightRegistersArePartOfTheKey() {
        ram.q(PT, 0x200000L | P | US);   // read-only page
        cpu.mmu.flush(true);
        assertEquals(0x1000, read(0));
        cpu.setCr0(cpu.cr0 & ~Cr.CR0_WP);   // the other side runs without write protection
        cpu.mmu.vmTransition();
        cpu.mmu.write32(Segment.DS, LIN, 7);   // allowed at CPL 0 without WP, cached as writable
        cpu.setCr0(cpu.cr0 | Cr.CR0_WP);
        cpu.mmu.vmTransition();
        CpuFault f = assertThrows(CpuFault.class, () -> cpu.mmu.write32(Segment.DS, LIN, 8));
        assertEquals(14, f.vector, "with WP the supervisor write faults again");
    }

    @Test
    void aSetFilledUnderOtherRegistersIsNotKept() {
        read(0);
        cpu.setCr0(cpu.cr0 & ~Cr.CR0_WP);   // changed without a flush (MOV CR0 would flush; this models any path that does not)
        read(1);
        long tag = cpu.mmu.contextTag();
        cpu.setCr0(cpu.cr0 | Cr.CR0_WP);
        cpu.mmu.vmTransition();
        assertNotEquals(tag, cpu.mmu.contextTag(), "entries of two register sets: flushed, not kept");
    }

    @Test
    void globalEntriesLeftByMovCr3StayExactForTheirKey() {
        cpu.setCr4(cpu.cr4 | Cr.CR4_PGE);
        cpu.mmu.flush(true);
        ram.q(PT, 0x200000L | P | RW | US | 0x100);   // global
        assertEquals(0x1000, read(0));
        cpu.setCr3(PML4_B);                             // MOV CR3 keeps global entries
        cpu.mmu.flush(false);
        ram.q(PT_B, 0x304000L | P | RW | US);
        assertEquals(0x1000, read(0), "the global entry of the old space is used (SDM 4.10.4.1)");
        cpu.mmu.vmTransition();                        // a transition flushes it
        assertEquals(0x3004, read(0));
    }

    // ---- differential: keeping transitions against plain flushes ----

    /** One pair of processors for all tries (a fresh RAM per try costs more than the try). */
    static final Cpu KEEP = TestRam.cpu(), FLUSH = TestRam.cpu();

    /** One step of a random program. */
    record Step(int kind, int a, int b) { }

    @Provide
    Arbitrary<List<Step>> programs() {
        // few pages and register sets, so that programs revisit them often
        Arbitrary<Integer> kinds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(0)), net.jqwik.api.Tuple.of(1, Arbitraries.just(1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(2)), net.jqwik.api.Tuple.of(1, Arbitraries.just(3)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(5)), net.jqwik.api.Tuple.of(3, Arbitraries.just(6)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(8)), net.jqwik.api.Tuple.of(1, Arbitraries.just(9)));
        Arbitrary<Step> step = kinds.flatMap(kind -> Arbitraries.integers().between(0, 3)
                .flatMap(a -> Arbitraries.integers().between(0, 15).map(b -> new Step(kind, a, b))));
        return step.list().ofMinSize(1).ofMaxSize(40);
    }

    /**
     * The same program on two processors: one transitions with {@link Mmu#vmTransition}, the other
     * flushes every mapping instead. Every access must give the same value or fault, and memory
     * (so the accessed and dirty flags) must stay equal. Between a table write and the next
     * transition or full flush the TLB may legitimately hold stale entries (SDM 4.10.4.3), so
     * accesses are not made there.
     */
    @Property(tries = 1500)
    void keepingTransitionsBehaveLikeFlushes(@ForAll("programs") List<Step> program) {
        Cpu keep = KEEP, flush = FLUSH;
        for (Cpu c : new Cpu[] {keep, flush}) {
            build(TestRam.of(c));
            long64(c);
            c.mmu.flushAllContexts();   // nothing of the previous try survives
        }
        keep.mmu.vmTransition();
        boolean stale = false;
        List<String> log = new ArrayList<>();
        for (Step s : program) {
            log.add(s.toString());
            switch (s.kind()) {
                case 0, 1, 2 -> {   // read, write, fetch of page a at CPL 0 or 3
                    if (stale) continue;
                    String x = access(keep, s), y = access(flush, s);
                    assertEquals(y, x, "access differs after " + log);
                }
                case 3, 4 -> {      // the guest rewrites PTE a of the current space through its mapping
                    if (stale) continue;
                    long pte = pteValue(s.b());
                    String x = store(keep, PT_LINEAR + 8L * s.a(), pte), y = store(flush, PT_LINEAR + 8L * s.a(), pte);
                    assertEquals(y, x, "table store differs after " + log);
                    stale = true;
                }
                case 5 -> {         // the host rewrites a PTE of either space
                    long at = (s.b() % 2 == 0 ? PT : PT_B) + 8L * s.a();
                    for (Cpu c : new Cpu[] {keep, flush}) c.mmu.writePhysical(at, 8, pteValue(s.b()));
                    stale = true;
                }
                case 6, 7 -> {      // a VM transition to one of four register sets
                    for (Cpu c : new Cpu[] {keep, flush}) registers(c, s.a());
                    keep.mmu.vmTransition();
                    flush.mmu.flush(true);
                    stale = false;
                }
                case 8 -> {         // INVLPG
                    for (Cpu c : new Cpu[] {keep, flush}) c.mmu.invalidatePage(LIN + 0x1000L * s.a());
                }
                default -> {        // MOV CR3 to either root (CR4.PGE = 0: a full flush)
                    for (Cpu c : new Cpu[] {keep, flush}) {
                        c.setCr3(s.a() % 2 == 0 ? PML4 : PML4_B);
                        c.mmu.flush(true);
                    }
                    stale = false;
                }
            }
            // the entries a program can use: the upper levels and PTEs 0-3 of both spaces, and the self-map
            for (long at : TABLE_ENTRIES) {
                assertEquals(TestRam.of(flush).q(at), TestRam.of(keep).q(at), "tables differ at " + Long.toHexString(at) + " after " + log);
            }
        }
    }

    static final long[] TABLE_ENTRIES = {PML4, PDPT, PD + 16, PT, PT + 8, PT + 16, PT + 24, PT + 511 * 8,
            PML4_B, PDPT_B, PD_B + 16, PT_B, PT_B + 8, PT_B + 16, PT_B + 24, PT_B + 511 * 8};

    /** PTE values: present or not, writable or not, user or not, two frames, with or without XD. */
    static long pteValue(int v) {
        long frame = (v & 8) != 0 ? 0x300000L : 0x200000L;
        return frame | ((v & 1) != 0 ? 0 : P) | ((v & 2) != 0 ? RW : 0) | ((v & 4) != 0 ? US : 0) | (v == 15 ? 1L << 63 : 0);
    }

    /** Four register sets a host and guest might have: either root, WP on/off, SMEP on/off. */
    static void registers(Cpu c, int v) {
        c.setCr3((v & 1) != 0 ? PML4_B : PML4);
        c.setCr0((v & 2) != 0 ? c.cr0 & ~Cr.CR0_WP : c.cr0 | Cr.CR0_WP);
        c.setCr4((v & 4) != 0 ? c.cr4 | Cr.CR4_SMEP : c.cr4 & ~Cr.CR4_SMEP);
    }

    static String access(Cpu c, Step s) {
        c.cpl = s.b() % 2 == 0 ? 0 : 3;
        long lin = LIN + 0x1000L * s.a();
        try {
            return switch (s.kind()) {
                case 0 -> "read " + c.mmu.read32(Segment.DS, lin);
                case 1 -> {
                    c.mmu.write32(Segment.DS, lin + 4, s.b());
                    yield "wrote";
                }
                default -> "fetch " + Long.toHexString(c.mmu.fetchPhysical(lin));
            };
        } catch (CpuFault f) {
            return "fault " + f.vector + " " + f.errorCode;
        } finally {
            c.cpl = 0;
        }
    }

    static String store(Cpu c, long lin, long value) {
        try {
            c.mmu.write64(Segment.DS, lin, value);
            return "stored";
        } catch (CpuFault f) {
            return "fault " + f.vector + " " + f.errorCode;
        }
    }
}
