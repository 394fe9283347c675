package lhv.platform.loader;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Rflags;
import lhv.cpu.Segment;

import java.util.List;

/**
 * The processor state a loader hands the guest at its entry point, applied to a freshly reset
 * processor by {@link #applyTo}.
 *
 * <p>Context: Java host, after the image was written to guest memory and before the first
 * instruction runs.
 *
 * <p>Two shapes exist. {@link Mode#PROTECTED_FLAT}: 32-bit protected mode with flat 4 GiB code and
 * data segments, paging off, as the Multiboot specification (section 3.2, "Machine state")
 * requires. {@link Mode#LONG_64}: 64-bit mode with identity paging, what a hypervisor gives its
 * guest (see {@link LongModeEntry}).
 *
 * @param warnings things the user should know (e.g. a video mode the loader cannot set); the
 *                 command line prints them, the load itself succeeded
 */
public record BootState(Mode mode, String format, long entry, long eax, long ebx, long ecx, long esp,
                        long cr0, long cr3, long cr4, long efer,
                        int codeSelector, int dataSelector, int codeAttributes, int dataAttributes,
                        long gdtBase, int gdtLimit, List<String> warnings) {

    public enum Mode { PROTECTED_FLAT, LONG_64 }

    /** Loads this state into {@code cpu} (which must be in its reset state). */
    public void applyTo(Cpu cpu) {
        java.util.Arrays.fill(cpu.gpr, 0);
        cpu.gpr[Cpu.RAX] = eax;
        cpu.gpr[Cpu.RBX] = ebx;
        cpu.gpr[Cpu.RCX] = ecx;
        cpu.gpr[Cpu.RSP] = esp;
        cpu.rip = entry;
        cpu.setRflags(Rflags.FIXED1); // IF=0, VM=0
        cpu.setCr0(cr0);
        cpu.setCr3(cr3);
        cpu.setCr4(cr4);
        cpu.setEfer(efer);
        cpu.setGdtr(gdtBase, gdtLimit);
        // Multiboot: the real-mode interrupt vector table the BIOS leaves behind (as under QEMU);
        // 64-bit entry: no IDT at all, the guest must load its own before enabling events.
        cpu.setIdtr(0, mode == Mode.PROTECTED_FLAT ? 0x3FF : 0);
        for (int s = 0; s < 6; s++) {
            if (s == Segment.CS) cpu.seg[s].set(codeSelector, 0, 0xFFFF_FFFF, codeAttributes);
            else cpu.seg[s].set(dataSelector, 0, 0xFFFF_FFFF, dataAttributes);
        }
        cpu.cpl = 0;
        cpu.stateChanged();
    }

    /** Segment access rights (VMX layout) of a flat 32-bit code segment: execute/read, accessed, S, P, D, G. */
    public static final int CODE32_AR = 0xB | Segment.AR_S | Segment.AR_P | Segment.AR_DB | Segment.AR_G;
    /** A flat 64-bit code segment: as {@link #CODE32_AR} with L=1 and D=0. */
    public static final int CODE64_AR = 0xB | Segment.AR_S | Segment.AR_P | Segment.AR_L | Segment.AR_G;
    /** A flat data segment: read/write, accessed, S, P, B, G. */
    public static final int DATA_AR = 0x3 | Segment.AR_S | Segment.AR_P | Segment.AR_DB | Segment.AR_G;

    /** The GDT descriptor (SDM Vol. 3A 3.4.5) of a flat 4 GiB segment with access rights {@code ar}. */
    static long descriptor(int ar) {
        long limitLow = 0xFFFF, limitHigh = 0xF;
        long access = ar & 0xFF;            // type, S, DPL, P
        long flags = (ar >>> 12) & 0xF;     // AVL, L, D/B, G
        return limitLow | (access << 40) | (limitHigh << 48) | (flags << 52);
    }

    static final long CR0_PROTECTED = Cr.CR0_PE | Cr.CR0_ET;
}
