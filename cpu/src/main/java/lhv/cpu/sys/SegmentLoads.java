package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.Mode;
import lhv.cpu.Segment;
import lhv.cpu.mmu.Mmu;

/**
 * Loading segment registers, LDTR and TR with their protection checks (SDM Vol. 3A 3.4.3, 5.5-5.7,
 * 5.10; Vol. 2 MOV/POP/LDS.., LLDT, LTR), and the descriptor-probing instructions LAR, LSL, VERR,
 * VERW (SDM 5.10.3 and Vol. 2).
 *
 * <p>Context: guest instruction execution. Faults carry the selector error code (index, TI; EXT = 0).
 */
final class SegmentLoads {
    private final Cpu cpu;
    private final Descriptor d = new Descriptor();

    SegmentLoads(Cpu cpu) {
        this.cpu = cpu;
    }

    /** MOV/POP to a data or stack segment register, LDS/LES/LFS/LGS/LSS. */
    void load(int seg, int selector) {
        selector &= 0xFFFF;
        Segment s = cpu.seg[seg];
        if (cpu.mode == Mode.REAL) {
            // SDM 20.1.1: base = selector * 16; limit and attributes stay (they may come from
            // protected mode), but the register becomes usable.
            s.loadReal(selector);
            s.setAttributes((s.attributes & ~Segment.AR_UNUSABLE) | Segment.AR_P | Segment.AR_S);
            return;
        }
        if (cpu.mode == Mode.VIRTUAL_8086) {
            // SDM 20.2.1: 8086 semantics with a 64 KiB limit; the access rights are those of a
            // present, accessed, writable data segment at DPL 3.
            s.set(selector, (long) selector << 4, 0xFFFF, 0xF3);
            return;
        }
        if (seg == Segment.CS) throw CpuFault.ud();
        int index = selector & 0xFFFC;
        if (seg == Segment.SS) {
            if (index == 0) {
                // SDM Vol. 2 MOV: a null SS is allowed only in 64-bit mode at CPL < 3 with RPL = CPL.
                if (cpu.mode == Mode.LONG64 && cpu.cpl != 3 && (selector & 3) == cpu.cpl) {
                    s.set(selector, 0, 0, Segment.AR_UNUSABLE | 0x93 | cpu.cpl << 5);
                    return;
                }
                throw CpuFault.gp0();
            }
            if (!Descriptor.fetch(cpu, selector, d)) throw CpuFault.gp(index);
            if ((selector & 3) != cpu.cpl || !d.writableData() || d.dpl() != cpu.cpl) throw CpuFault.gp(index);
            if (!d.present()) throw CpuFault.ss(index);
            d.setAccessed(cpu);
            d.loadInto(s, selector);
            return;
        }
        if (index == 0) {
            // A null selector makes DS/ES/FS/GS unusable; using it later faults outside 64-bit mode
            // (SDM 5.4.1). Intel processors also clear the base (AMD keeps it: Linux X86_BUG_NULL_SEG).
            s.set(selector, 0, 0, Segment.AR_UNUSABLE);
            return;
        }
        if (!Descriptor.fetch(cpu, selector, d)) throw CpuFault.gp(index);
        if (!d.codeOrData() || (d.isCode() && !d.readable())) throw CpuFault.gp(index);
        // Data and non-conforming code: both RPL and CPL must be <= DPL (SDM 5.6).
        if ((d.isData() || !d.conforming()) && ((selector & 3) > d.dpl() || cpu.cpl > d.dpl())) throw CpuFault.gp(index);
        if (!d.present()) throw CpuFault.np(index);
        d.setAccessed(cpu);
        // In 64-bit mode too, a descriptor load gives FS/GS a 32-bit base (SDM 3.4.4).
        d.loadInto(s, selector);
    }

    /** LLDT (SDM Vol. 2): null selector leaves LDTR unusable. */
    void lldt(int selector) {
        requireProtectedCpl0();
        selector &= 0xFFFF;
        int index = selector & 0xFFFC;
        if (index == 0) {
            cpu.ldtr.set(selector, 0, 0, Segment.AR_UNUSABLE);
            return;
        }
        if ((selector & 4) != 0) throw CpuFault.gp(index);
        if (!Descriptor.fetch(cpu, selector, d)) throw CpuFault.gp(index);
        if (d.codeOrData() || d.type() != Descriptor.LDT) throw CpuFault.gp(index);
        if (!d.present()) throw CpuFault.np(index);
        long base = d.base();
        if (Descriptor.ia32e(cpu)) {
            if (!Descriptor.fetchUpper(cpu, d)) throw CpuFault.gp(index);
            // SDM 3.5.2: the upper type field of a 16-byte descriptor must be 0.
            if (((d.upper2 >>> 8) & 0x1F) != 0) throw CpuFault.gp(index);
            base = d.base64();
            if (!Mmu.canonical(base)) throw CpuFault.gp(index);
        }
        cpu.ldtr.set(selector, base, d.limit(), d.attributes());
    }

    /** LTR: loads TR from an available TSS descriptor and marks it busy in the GDT (SDM Vol. 2 LTR). */
    void ltr(int selector) {
        requireProtectedCpl0();
        selector &= 0xFFFF;
        int index = selector & 0xFFFC;
        if (index == 0) throw CpuFault.gp0();
        if ((selector & 4) != 0) throw CpuFault.gp(index);
        if (!Descriptor.fetch(cpu, selector, d)) throw CpuFault.gp(index);
        boolean ia32e = Descriptor.ia32e(cpu);
        int t = d.type();
        if (d.codeOrData() || !(t == Descriptor.TSS_AVAIL || (!ia32e && t == Descriptor.TSS16_AVAIL))) throw CpuFault.gp(index);
        if (!d.present()) throw CpuFault.np(index);
        long base = d.base();
        if (ia32e) {
            if (!Descriptor.fetchUpper(cpu, d)) throw CpuFault.gp(index);
            if (((d.upper2 >>> 8) & 0x1F) != 0) throw CpuFault.gp(index);
            base = d.base64();
            if (!Mmu.canonical(base)) throw CpuFault.gp(index);
        }
        // Busy flag: type bit 1 (SDM 7.2.2).
        d.hi |= 2 << 8;
        cpu.mmu.writeLinear(d.address + 5, 1, (d.hi >>> 8) & 0xFF, true);
        cpu.tr.set(selector, base, d.limit(), d.attributes());
    }

    private void requireProtectedCpl0() {
        if (cpu.mode == Mode.REAL || cpu.mode == Mode.VIRTUAL_8086) throw CpuFault.ud();
        if (cpu.cpl != 0) throw CpuFault.gp0();
    }

    // ---- LAR / LSL / VERR / VERW (SDM 5.10.3, Vol. 2) ----

    /** Whether the descriptor may be probed at the current privilege: conforming code always, else DPL >= max(CPL, RPL). */
    private boolean visible(int selector) {
        if (cpu.mode == Mode.REAL || cpu.mode == Mode.VIRTUAL_8086) throw CpuFault.ud();
        if ((selector & 0xFFFC) == 0) return false;
        if (!Descriptor.fetch(cpu, selector, d)) return false;
        if (d.conforming()) return true;
        return d.dpl() >= cpu.cpl && d.dpl() >= (selector & 3);
    }

    private boolean systemTypeValid(boolean forLar) {
        boolean ia32e = Descriptor.ia32e(cpu);
        int t = d.type();
        return switch (t) {
            case Descriptor.LDT, Descriptor.TSS_AVAIL, Descriptor.TSS_BUSY -> true;
            case Descriptor.TSS16_AVAIL, Descriptor.TSS16_BUSY -> !ia32e;
            case Descriptor.CALL_GATE -> forLar;
            case Descriptor.CALL_GATE16, Descriptor.TASK_GATE -> forLar && !ia32e;
            default -> false;
        };
    }

    /** LAR: access rights (dword 1 masked with 0x00F0FF00, SDM Vol. 2 LAR) or -1 when ZF must be cleared. */
    long lar(int selector) {
        if (!visible(selector)) return -1;
        if (!d.codeOrData() && !systemTypeValid(true)) return -1;
        return d.hi & 0x00F0FF00L;
    }

    /** LSL: byte-granular limit or -1 when ZF must be cleared. */
    long lsl(int selector) {
        if (!visible(selector)) return -1;
        if (!d.codeOrData() && !systemTypeValid(false)) return -1;
        return d.limit() & 0xFFFFFFFFL;
    }

    boolean verr(int selector) {
        if (!visible(selector) || !d.codeOrData()) return false;
        return d.readable();
    }

    boolean verw(int selector) {
        if (!visible(selector) || !d.codeOrData()) return false;
        return d.writableData() && !d.conforming();
    }
}
