package lhv.cpu.mmu;

import lhv.cpu.Cpu;
import lhv.cpu.NotImplemented;

/**
 * Segmentation, paging and the software TLB: turns (segment, offset) into linear and linear into
 * physical addresses with every check of SDM Vol. 3A chapters 3 and 4, then accesses physical memory.
 *
 * <p>Context: guest instruction execution (data accesses, instruction fetch, implicit supervisor
 * accesses to descriptor tables, the TSS and the IDT) and the VMX layer (guest-linear accesses made
 * by VMX instructions). Faults are thrown as {@link lhv.cpu.CpuFault} (#GP/#SS/#PF with the right
 * error code and CR2 value).
 *
 * <p>SKELETON: the processor issue fills every method; the signatures are the contract between the
 * interpreter, the system unit and the VMX layer.
 */
public final class Mmu {
    /** Access kinds for {@link #translate}. */
    public static final int READ = 0, WRITE = 1, EXECUTE = 2;

    private final Cpu cpu;

    public Mmu(Cpu cpu) {
        this.cpu = cpu;
    }

    // ---- logical (segment:offset) accesses at the current privilege level ----
    public int read8(int seg, long offset) { throw new NotImplemented("mmu"); }
    public int read16(int seg, long offset) { throw new NotImplemented("mmu"); }
    public int read32(int seg, long offset) { throw new NotImplemented("mmu"); }
    public long read64(int seg, long offset) { throw new NotImplemented("mmu"); }
    public void write8(int seg, long offset, int value) { throw new NotImplemented("mmu"); }
    public void write16(int seg, long offset, int value) { throw new NotImplemented("mmu"); }
    public void write32(int seg, long offset, int value) { throw new NotImplemented("mmu"); }
    public void write64(int seg, long offset, long value) { throw new NotImplemented("mmu"); }

    /** Segmentation only: checks limit/type/canonicality for an access of {@code size} bytes, returns the linear address. */
    public long linear(int seg, long offset, int size, int access) { throw new NotImplemented("mmu"); }

    // ---- linear accesses (after segmentation) ----
    /** Reads {@code size} bytes at a linear address; {@code supervisor} for implicit system accesses (GDT, IDT, TSS). */
    public long readLinear(long linear, int size, boolean supervisor) { throw new NotImplemented("mmu"); }
    public void writeLinear(long linear, int size, long value, boolean supervisor) { throw new NotImplemented("mmu"); }

    /** Paging: linear to physical for an access kind at CPL (or supervisor), setting A/D bits; throws #PF. */
    public long translate(long linear, int access, boolean supervisor) { throw new NotImplemented("mmu"); }

    /** Physical address of the instruction byte at linear {@code linear} (execute access, current CPL). */
    public long fetchPhysical(long linear) { throw new NotImplemented("mmu"); }

    /** INVLPG: drop the translation of one linear page (SDM 4.10.4.1). */
    public void invalidatePage(long linear) { throw new NotImplemented("mmu"); }

    /** Drops all translations, or all but global ones (MOV to CR3 with CR4.PGE=1), SDM 4.10.4.1. */
    public void flush(boolean includeGlobal) { throw new NotImplemented("mmu"); }
}
