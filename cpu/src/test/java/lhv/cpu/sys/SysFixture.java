package lhv.cpu.sys;

import lhv.cpu.Cpu;
import lhv.cpu.Cr;
import lhv.cpu.Segment;
import lhv.cpu.mmu.TestRam;

/**
 * Test fixture: a processor on a small RAM with a GDT, an IDT and a TSS laid out at fixed physical
 * addresses, and builders for descriptors and gates (formats of SDM Vol. 3A 3.4.5, 6.11, 6.14.1).
 * Paging stays off, so linear = physical. Context: unit tests only.
 */
final class SysFixture {
    static final long GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, LDT = 0x4000;
    static final int CODE32 = 0x08, DATA32 = 0x10, CODE32_U = 0x1B, DATA32_U = 0x23, CODE64 = 0x28,
            CODE64_U = 0x33, TSS_SEL = 0x38, CODE16 = 0x48, DATA_RO = 0x50, CODE_XO = 0x58,
            DATA_ED = 0x60, DATA_NP = 0x68, CONF_CODE = 0x70, LDT_SEL = 0x78;

    final Cpu cpu = TestRam.cpu();
    final TestRam ram = TestRam.of(cpu);

    /** Access byte + flags nibble (G D L AVL) into a code/data descriptor. */
    static long seg(long base, long limit, int access, int flags) {
        long lo = (limit & 0xFFFF) | (base & 0xFFFF) << 16;
        long hi = ((base >>> 16) & 0xFF) | (long) access << 8 | ((limit >>> 16) & 0xF) << 16
                | (long) flags << 20 | ((base >>> 24) & 0xFF) << 24;
        return lo | hi << 32;
    }

    /** 8-byte gate (32-bit layout) or the low half of a 16-byte gate. */
    static long gate(int selector, long offset, int type, int dpl, int ist) {
        long lo = (offset & 0xFFFF) | (long) selector << 16;
        long hi = (offset & 0xFFFF0000L) | (long) (0x80 | dpl << 5 | type) << 8 | ist;
        return lo | hi << 32;
    }

    SysFixture() {
        long[] gdt = {
            0,
            seg(0, 0xFFFFF, 0x9B, 0xC), // 0x08 code32 DPL0
            seg(0, 0xFFFFF, 0x93, 0xC), // 0x10 data32 DPL0
            seg(0, 0xFFFFF, 0xFB, 0xC), // 0x18 code32 DPL3
            seg(0, 0xFFFFF, 0xF3, 0xC), // 0x20 data32 DPL3
            seg(0, 0xFFFFF, 0x9B, 0xA), // 0x28 code64 DPL0
            seg(0, 0xFFFFF, 0xFB, 0xA), // 0x30 code64 DPL3
            seg(TSS, 0x67, 0x89, 0),    // 0x38 32-bit TSS (also low half of the 64-bit one)
            0,                          // 0x40 upper half of a 64-bit TSS descriptor
            seg(0, 0xFFFF, 0x9B, 0),    // 0x48 code16 DPL0
            seg(0, 0xFFFFF, 0x91, 0xC), // 0x50 read-only data
            seg(0, 0xFFFFF, 0x99, 0xC), // 0x58 execute-only code
            seg(0x10000, 0x0FFF, 0x97, 0x4), // 0x60 expand-down data, B=1
            seg(0, 0xFFFFF, 0x13, 0xC), // 0x68 not-present data
            seg(0, 0xFFFFF, 0x9F, 0xC), // 0x70 conforming code DPL0
            seg(LDT, 0xFF, 0x82, 0),    // 0x78 LDT
            0,
        };
        for (int i = 0; i < gdt.length; i++) ram.q(GDT + 8L * i, gdt[i]);
        cpu.setGdtr(GDT, cpu.gdtrLimit);
        cpu.setGdtr(cpu.gdtrBase, gdt.length * 8 - 1);
        cpu.setIdtr(IDT, cpu.idtrLimit);
        cpu.setIdtr(cpu.idtrBase, 0xFFF);
    }

    /** 32-bit protected mode at CPL {@code cpl}, flat segments, paging off, TR = 32-bit TSS. */
    SysFixture protected32(int cpl) {
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_ET);
        cpu.setEfer(0);
        int cs = cpl == 0 ? CODE32 : CODE32_U, ds = cpl == 0 ? DATA32 : DATA32_U;
        cpu.seg[Segment.CS].set(cs, 0, 0xFFFFFFFF, cpl == 0 ? 0xC09B : 0xC0FB);
        for (int s : new int[] {Segment.SS, Segment.DS, Segment.ES, Segment.FS, Segment.GS}) {
            cpu.seg[s].set(ds, 0, 0xFFFFFFFF, cpl == 0 ? 0xC093 : 0xC0F3);
        }
        cpu.tr.set(TSS_SEL, TSS, 0x67, 0x8B);
        cpu.cpl = cpl;
        cpu.stateChanged();
        return this;
    }

    /** IA-32e mode, 64-bit code at CPL {@code cpl}, identity paging of the first 4 MiB with 2 MiB pages. */
    SysFixture long64(int cpl) {
        long pml4 = 0x20000, pdpt = 0x21000, pd = 0x22000;
        ram.q(pml4, pdpt | 7);
        ram.q(pdpt, pd | 7);
        ram.q(pd, 0x83 | 4);
        ram.q(pd + 8, 0x200000 | 0x83 | 4);
        cpu.setCr3(pml4);
        cpu.setCr4(Cr.CR4_PAE);
        cpu.setEfer(Cr.EFER_LME | Cr.EFER_LMA | Cr.EFER_SCE);
        cpu.setCr0(Cr.CR0_PE | Cr.CR0_PG | Cr.CR0_ET);
        ram.q(GDT + TSS_SEL, seg(TSS, 0x67, 0x89, 0));
        ram.q(GDT + TSS_SEL + 8, 0);
        cpu.seg[Segment.CS].set(cpl == 0 ? CODE64 : CODE64_U, 0, 0xFFFFFFFF, cpl == 0 ? 0xA09B : 0xA0FB);
        int ds = cpl == 0 ? DATA32 : DATA32_U;
        for (int s : new int[] {Segment.SS, Segment.DS, Segment.ES, Segment.FS, Segment.GS}) {
            cpu.seg[s].set(ds, 0, 0xFFFFFFFF, cpl == 0 ? 0xC093 : 0xC0F3);
        }
        cpu.tr.set(TSS_SEL, TSS, 0x67, 0x8B);
        cpu.cpl = cpl;
        cpu.stateChanged();
        cpu.mmu.flush(true);
        return this;
    }

    void idt32(int vector, long gate) {
        ram.q(IDT + 8L * vector, gate);
    }

    void idt64(int vector, int selector, long offset, int type, int dpl, int ist) {
        ram.q(IDT + 16L * vector, gate(selector, offset, type, dpl, ist));
        ram.q(IDT + 16L * vector + 8, offset >>> 32);
    }

    long pop32(long[] sp) {
        long v = ram.d(sp[0]) & 0xFFFFFFFFL;
        sp[0] += 4;
        return v;
    }
}
