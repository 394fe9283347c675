package lhv.vmx.nonroot;

import lhv.vmx.TestMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The pure exit decisions of SDM Vol. 3C 26.1.3 and 26.2: I/O bitmaps, MSR bitmaps, CR0/CR4
 * guest/host masks, CR3-target values, the exception bitmap with #PF error-code mask/match.
 */
class ExitDecisionsTest {
    private final TestMemory mem = new TestMemory(64 * 1024);
    private static final long A = 0x1000, B = 0x2000, MSR = 0x3000;

    @Test
    void ioBitmaps() {
        mem.write(A + (0x60 >> 3), 1, 1 << (0x60 & 7));
        mem.write(B + (0xFFFF - 0x8000 >> 3), 1, 0);
        assertTrue(IoBitmaps.exits(mem, true, false, A, B, 0x60, 1));
        assertFalse(IoBitmaps.exits(mem, true, false, A, B, 0x61, 1));
        assertTrue(IoBitmaps.exits(mem, true, false, A, B, 0x5E, 4), "4-byte access 5E..61 touches 60");
        assertTrue(IoBitmaps.exits(mem, true, false, A, B, 0xFFFE, 4), "wraps around FFFFH");
        assertFalse(IoBitmaps.exits(mem, true, true, A, B, 0x70, 1), "unconditional exiting ignored with bitmaps");
        assertTrue(IoBitmaps.exits(mem, false, true, A, B, 0x70, 1));
        assertFalse(IoBitmaps.exits(mem, false, false, A, B, 0x60, 1));
    }

    @Test
    void msrBitmapsUseFourRegions() {
        mem.write(MSR + (0x10 >> 3), 1, 1);                      // read low: MSR 10H
        mem.write(MSR + 1024 + (0x82 >> 3), 1, 1 << (0x82 & 7));  // read high: C0000082H
        mem.write(MSR + 2048 + (0x1FF >> 3), 1, 0x80);           // write low: 1FFH
        mem.write(MSR + 3072, 1, 1);                              // write high: C0000000H
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0x10, false));
        assertFalse(MsrBitmaps.exits(mem, true, MSR, 0x10, true));
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0xC0000082, false));
        assertFalse(MsrBitmaps.exits(mem, true, MSR, 0xC0000082, true));
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0x1FF, true));
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0xC0000000, true));
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0x2000, false), "above the low range");
        assertTrue(MsrBitmaps.exits(mem, true, MSR, 0xC0002000, true), "above the high range");
        assertTrue(MsrBitmaps.exits(mem, false, MSR, 0x11, false), "no bitmaps: always");
    }

    @Test
    void crMasksAndShadows() {
        long mask = 1L << 3 | 1L << 16, shadow = 1L << 16;
        assertFalse(ControlRegisterShadowing.movToCrExits(mask, shadow, 0x10011), "TS=0, WP=1 match the shadow");
        assertTrue(ControlRegisterShadowing.movToCrExits(mask, shadow, 0x00011), "WP differs");
        assertFalse(ControlRegisterShadowing.movToCrExits(0, shadow, 0), "empty mask never exits");
        assertEquals(0x10011, ControlRegisterShadowing.read(mask, shadow, 0x00019), "TS, WP from the shadow");
        assertEquals(0x00019, ControlRegisterShadowing.written(mask, 0x00019, 0x10011), "owned bits keep their value");
    }

    @Test
    void lmswRules() {
        long mask = 0xF;
        assertTrue(ControlRegisterShadowing.lmswExits(mask, 0x0, 0x1), "sets PE while the shadow has PE=0");
        assertFalse(ControlRegisterShadowing.lmswExits(mask, 0x1, 0x0), "LMSW cannot clear PE");
        assertTrue(ControlRegisterShadowing.lmswExits(mask, 0x1, 0x9), "TS differs");
        assertFalse(ControlRegisterShadowing.lmswExits(0x1, 0x1, 0x8), "TS not owned");
        assertEquals(0x8 | 0x1, ControlRegisterShadowing.lmswApplied(0x1, 0x1, 0x8), "owned PE keeps CR0's value");
    }

    @Test
    void cltsAndCr3Targets() {
        assertTrue(ControlRegisterShadowing.cltsExits(0x8, 0x8));
        assertFalse(ControlRegisterShadowing.cltsExits(0x8, 0x0));
        assertFalse(ControlRegisterShadowing.cltsExits(0x0, 0x8));
        long[] targets = {0x1000, 0x2000, 0x3000, 0x4000};
        assertFalse(ControlRegisterShadowing.cr3LoadExits(true, targets, 2, 0x2000));
        assertTrue(ControlRegisterShadowing.cr3LoadExits(true, targets, 2, 0x3000), "only the first count values count");
        assertTrue(ControlRegisterShadowing.cr3LoadExits(true, targets, 0, 0x1000), "count 0: always");
        assertFalse(ControlRegisterShadowing.cr3LoadExits(false, targets, 0, 0x1000));
    }

    @Test
    void pageFaultErrorCodeMaskMatchInvertsTheBitmapBit() {
        // bit 14 set: exit iff PFEC & mask == match
        assertTrue(ExceptionBitmap.exits(1 << 14, 14, 0x2, 0x2, 0x2));
        assertFalse(ExceptionBitmap.exits(1 << 14, 14, 0x0, 0x2, 0x2));
        // bit 14 clear: exit iff PFEC & mask != match
        assertTrue(ExceptionBitmap.exits(0, 14, 0x0, 0x2, 0x2));
        assertFalse(ExceptionBitmap.exits(0, 14, 0x2, 0x2, 0x2));
        assertTrue(ExceptionBitmap.exits(1 << 3, 3, 0, 0, 0));
        assertFalse(ExceptionBitmap.exits(1 << 3, 4, 0, 0, 0));
    }
}
