package lhv.vmx.controls;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ControlsTest {

    @ParameterizedTest
    @EnumSource(ControlWord.class)
    void bitsAreUniqueAndBelongToTheirWord(ControlWord w) {
        Set<Integer> seen = new HashSet<>();
        for (ControlBit b : w.bits()) {
            assertTrue(seen.add(b.bit()), b.toString());
            assertSame(w, b.word());
            assertEquals(w.section, b.section());
            assertSame(b, w.bit(b.bit()));
        }
    }

    /** Masks as published in Linux arch/x86/include/asm/vmx.h. */
    @Test
    void masksMatchLinux() {
        assertEquals(0x00000001, PinBasedControl.EXTERNAL_INTERRUPT_EXITING.mask());
        assertEquals(0x00000008, PinBasedControl.NMI_EXITING.mask());
        assertEquals(0x00000020, PinBasedControl.VIRTUAL_NMIS.mask());
        assertEquals(0x00000004, PrimaryProcessorControl.INTERRUPT_WINDOW_EXITING.mask());
        assertEquals(0x00000080, PrimaryProcessorControl.HLT_EXITING.mask());
        assertEquals(0x00008000, PrimaryProcessorControl.CR3_LOAD_EXITING.mask());
        assertEquals(0x00200000, PrimaryProcessorControl.USE_TPR_SHADOW.mask());
        assertEquals(0x00400000, PrimaryProcessorControl.NMI_WINDOW_EXITING.mask());
        assertEquals(0x02000000, PrimaryProcessorControl.USE_IO_BITMAPS.mask());
        assertEquals(0x10000000, PrimaryProcessorControl.USE_MSR_BITMAPS.mask());
        assertEquals(0x80000000, PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS.mask());
        assertEquals(0x00000002, SecondaryProcessorControl.ENABLE_EPT.mask());
        assertEquals(0x00000020, SecondaryProcessorControl.ENABLE_VPID.mask());
        assertEquals(0x00000080, SecondaryProcessorControl.UNRESTRICTED_GUEST.mask());
        assertEquals(0x00004000, SecondaryProcessorControl.VMCS_SHADOWING.mask());
        assertEquals(0x00000200, ExitControl.HOST_ADDRESS_SPACE_SIZE.mask());
        assertEquals(0x00008000, ExitControl.ACKNOWLEDGE_INTERRUPT_ON_EXIT.mask());
        assertEquals(0x00200000, ExitControl.LOAD_IA32_EFER.mask());
        assertEquals(0x00400000, ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE.mask());
        assertEquals(0x00000200, EntryControl.IA32E_MODE_GUEST.mask());
        assertEquals(0x00008000, EntryControl.LOAD_IA32_EFER.mask());
        assertEquals(0x00004000, EntryControl.LOAD_IA32_PAT.mask());
    }

    /** Linux's *_ALWAYSON_WITHOUT_TRUE_MSR values are the default1 classes of SDM A.2. */
    @Test
    void default1ClassesMatchLinux() {
        assertEquals(0x00000016, ControlWord.PIN_BASED.default1);
        assertEquals(0x0401e172, ControlWord.PRIMARY_PROCESSOR_BASED.default1);
        assertEquals(0x00036dff, ControlWord.EXIT.default1);
        assertEquals(0x000011ff, ControlWord.ENTRY.default1);
    }

    @Test
    void decodeNamesBits() {
        assertEquals(List.of("bit 1 (default1)", "HLT exiting", "activate secondary controls"),
                ControlWord.PRIMARY_PROCESSOR_BASED.decode(0x8000_0082));
        assertTrue(ControlWord.SECONDARY_PROCESSOR_BASED.decode(0).isEmpty());
        assertEquals(List.of("bit 29"), ControlWord.SECONDARY_PROCESSOR_BASED.decode(1 << 29));
    }
}
