package lhv.vmx.caps;

import static org.junit.jupiter.api.Assertions.*;

import lhv.cpu.CpuFault;
import lhv.cpu.Msr;
import lhv.cpu.model.CpuModel;
import lhv.vmx.controls.ControlBit;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.controls.EntryControl;
import lhv.vmx.controls.ExitControl;
import lhv.vmx.controls.PinBasedControl;
import lhv.vmx.controls.PrimaryProcessorControl;
import lhv.vmx.controls.SecondaryProcessorControl;
import lhv.vmx.vmcs.VmcsField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class VmxCapabilitiesTest {
    private final VmxCapabilities caps = VmxCapabilities.skylakeClient();

    /** Values published for the i7-6700K (VirtualBox CPU database), before our reductions. */
    private static final long PUB_PIN = 0x7f00000016L, PUB_PROC = 0xfff9fffe0401e172L,
            PUB_PROC2 = 0x1ffcff00000000L, PUB_EXIT = 0x1ffffff00036dffL, PUB_ENTRY = 0x3ffff000011ffL,
            PUB_TRUE_PROC = 0xfff9fffe04006172L, PUB_TRUE_EXIT = 0x1ffffff00036dfbL,
            PUB_TRUE_ENTRY = 0x3ffff000011fbL, PUB_MISC = 0x7004c1e7L, PUB_VMCS_ENUM = 0x2e;

    @Test
    void basic() {
        assertEquals(4, caps.revisionId());
        assertEquals(4096, caps.regionSize());
        assertFalse(caps.limitsAddressesTo32Bits());
        assertEquals(6, caps.vmcsMemoryType());
        assertTrue(caps.reportsInsOutsInfo());
        assertTrue(caps.hasTrueControls());
        assertEquals(0x00d8_1000_0000_0004L, caps.basic);
    }

    @Test
    void weOnlyRemovedSettingsFromThePublishedValues() {
        long[][] pairs = {{caps.pinBased, PUB_PIN}, {caps.procBased, PUB_PROC}, {caps.procBased2, PUB_PROC2},
                {caps.exit, PUB_EXIT}, {caps.entry, PUB_ENTRY}, {caps.trueProcBased, PUB_TRUE_PROC},
                {caps.trueExit, PUB_TRUE_EXIT}, {caps.trueEntry, PUB_TRUE_ENTRY}};
        for (long[] p : pairs) {
            assertEquals((int) p[1], (int) p[0], "allowed-0 settings unchanged");
            long ours1 = p[0] >>> 32, pub1 = p[1] >>> 32;
            assertEquals(0, ours1 & ~pub1, "no allowed-1 setting added");
        }
        assertEquals(0, caps.misc & ~PUB_MISC, "no MISC capability added");
        assertEquals(PUB_VMCS_ENUM, caps.vmcsEnum, "highest supported field index as published");
    }

    @ParameterizedTest
    @EnumSource(ControlWord.class)
    void mustBeOneBitsAreAllowedToBeOne(ControlWord w) {
        assertEquals(caps.mustBeOne(w), caps.mustBeOne(w) & caps.mayBeOne(w));
        // The non-TRUE MSR reports the whole default1 class as must-be-1 (SDM A.2).
        if (w.trueCapabilityMsr != -1) {
            long nonTrue = caps.msr(w.capabilityMsr);
            assertEquals(w.default1, (int) nonTrue & w.default1);
            // TRUE MSRs may only relax default1 bits.
            assertEquals(0, (caps.mustBeOne(w) ^ (int) nonTrue) & ~w.default1);
        }
    }

    /** Every flexible or must-be-1 bit outside the default1 class is a control our enums name. */
    @ParameterizedTest
    @EnumSource(ControlWord.class)
    void everyAllowedBitIsANamedControl(ControlWord w) {
        long[] published = switch (w) {
            case PIN_BASED -> new long[]{PUB_PIN};
            case PRIMARY_PROCESSOR_BASED -> new long[]{PUB_PROC, PUB_TRUE_PROC};
            case SECONDARY_PROCESSOR_BASED -> new long[]{PUB_PROC2};
            case EXIT -> new long[]{PUB_EXIT, PUB_TRUE_EXIT};
            case ENTRY -> new long[]{PUB_ENTRY, PUB_TRUE_ENTRY};
        };
        for (long msr : published) {
            int allowed1 = (int) (msr >>> 32);
            assertEquals(0, allowed1 & ~w.default1 & ~w.definedMask(),
                    w + ": published allowed-1 bits without a named control: " + Integer.toHexString(allowed1 & ~w.default1 & ~w.definedMask()));
        }
        assertEquals(0, caps.mayBeOne(w) & ~w.default1 & ~w.definedMask());
        // and every must-be-1 bit in the TRUE MSR is either default1 or a named control
        assertEquals(0, caps.mustBeOne(w) & ~w.default1 & ~w.definedMask());
    }

    @Test
    void absentFeaturesCannotBeEnabled() {
        for (ControlBit c : new ControlBit[]{SecondaryProcessorControl.ENABLE_EPT, SecondaryProcessorControl.ENABLE_VPID,
                SecondaryProcessorControl.UNRESTRICTED_GUEST, SecondaryProcessorControl.VIRTUALIZE_APIC_ACCESSES,
                SecondaryProcessorControl.VIRTUALIZE_X2APIC_MODE, SecondaryProcessorControl.APIC_REGISTER_VIRTUALIZATION,
                SecondaryProcessorControl.VIRTUAL_INTERRUPT_DELIVERY, SecondaryProcessorControl.VMCS_SHADOWING,
                SecondaryProcessorControl.ENABLE_VM_FUNCTIONS, SecondaryProcessorControl.ENABLE_PML,
                PinBasedControl.PROCESS_POSTED_INTERRUPTS, PrimaryProcessorControl.ACTIVATE_TERTIARY_CONTROLS,
                EntryControl.ENTRY_TO_SMM, EntryControl.DEACTIVATE_DUAL_MONITOR_TREATMENT}) {
            assertFalse(caps.allows(c), c.toString());
        }
        for (ControlBit c : new ControlBit[]{PinBasedControl.ACTIVATE_VMX_PREEMPTION_TIMER, PinBasedControl.VIRTUAL_NMIS,
                PrimaryProcessorControl.USE_IO_BITMAPS, PrimaryProcessorControl.USE_MSR_BITMAPS,
                PrimaryProcessorControl.MONITOR_TRAP_FLAG, PrimaryProcessorControl.ACTIVATE_SECONDARY_CONTROLS,
                SecondaryProcessorControl.DESCRIPTOR_TABLE_EXITING, SecondaryProcessorControl.ENABLE_RDTSCP,
                SecondaryProcessorControl.WBINVD_EXITING, SecondaryProcessorControl.RDRAND_EXITING,
                SecondaryProcessorControl.RDSEED_EXITING, ExitControl.HOST_ADDRESS_SPACE_SIZE,
                ExitControl.LOAD_IA32_EFER, ExitControl.SAVE_VMX_PREEMPTION_TIMER_VALUE, EntryControl.IA32E_MODE_GUEST,
                EntryControl.LOAD_IA32_EFER, EntryControl.LOAD_IA32_PAT}) {
            assertTrue(caps.allows(c), c.toString());
        }
    }

    @Test
    void fieldsExistOnlyWithTheirFeature() {
        assertFalse(caps.supports(VmcsField.VIRTUAL_PROCESSOR_ID));
        assertFalse(caps.supports(VmcsField.EPT_POINTER));
        assertFalse(caps.supports(VmcsField.GUEST_PDPTR0));
        assertFalse(caps.supports(VmcsField.GUEST_PHYSICAL_ADDRESS));
        assertFalse(caps.supports(VmcsField.VMREAD_BITMAP));
        assertFalse(caps.supports(VmcsField.GUEST_BNDCFGS));
        assertTrue(caps.supports(VmcsField.GUEST_RIP));
        assertTrue(caps.supports(VmcsField.MSR_BITMAP));
        assertTrue(caps.supports(VmcsField.SECONDARY_VM_EXEC_CONTROL));
        assertTrue(caps.supports(VmcsField.VMX_PREEMPTION_TIMER_VALUE));
        assertTrue(caps.supports(VmcsField.GUEST_IA32_EFER));
        assertTrue(caps.supports(VmcsField.HOST_IA32_PERF_GLOBAL_CTRL));
        assertTrue(caps.supports(VmcsField.TPR_THRESHOLD));
    }

    @Test
    void misc() {
        assertEquals(7, caps.preemptionTimerRate());
        assertTrue(caps.storesLmaOnExit());
        assertTrue(caps.supportsActivityState(0));
        assertTrue(caps.supportsActivityState(1));
        assertFalse(caps.supportsActivityState(2));
        assertFalse(caps.supportsActivityState(3));
        assertEquals(4, caps.cr3TargetCount());
        assertEquals(512, caps.maxMsrListSize());
        assertFalse(caps.vmwriteAnyField());
        assertTrue(caps.allowsZeroLengthInjection());
    }

    @Test
    void fixedCrBits() {
        assertTrue(caps.cr0Valid(0x8000_0031L));
        assertFalse(caps.cr0Valid(0x8000_0011L), "NE must be 1");
        assertFalse(caps.cr0Valid(0x31L), "PG must be 1");
        assertTrue(caps.cr4Valid(0x2020L));
        assertFalse(caps.cr4Valid(0x20L), "VMXE must be 1");
        assertFalse(caps.cr4Valid(0x2000L | (1L << 14)), "SMXE unsupported");
    }

    @Test
    void msrExistence() {
        assertNull(caps.msr(Msr.IA32_VMX_EPT_VPID_CAP));
        assertNull(caps.msr(Msr.IA32_VMX_VMFUNC));
        assertEquals(caps.procBased2, caps.msr(Msr.IA32_VMX_PROCBASED_CTLS2));
        assertEquals(caps.trueEntry, caps.msr(Msr.IA32_VMX_TRUE_ENTRY_CTLS));
        assertEquals(0x2eL, caps.msr(Msr.IA32_VMX_VMCS_ENUM));
        assertNull(VmxCapabilities.forModel(CpuModel.withoutVmx()));
        assertNotNull(VmxCapabilities.forModel(CpuModel.withVmx()));
    }

    @Test
    void msrProvider() {
        FeatureControl fc = FeatureControl.atReset();
        VmxMsrs msrs = new VmxMsrs(caps, fc);
        assertTrue(msrs.handles(Msr.IA32_VMX_BASIC));
        assertTrue(msrs.handles(Msr.IA32_FEATURE_CONTROL));
        assertFalse(msrs.handles(Msr.IA32_VMX_EPT_VPID_CAP), "absent MSR left to the core (#GP)");
        assertFalse(msrs.handles(Msr.IA32_EFER));
        assertEquals(caps.basic, msrs.read(null, Msr.IA32_VMX_BASIC));
        CpuFault f = assertThrows(CpuFault.class, () -> msrs.write(null, Msr.IA32_VMX_BASIC, 0));
        assertEquals(13, f.vector);
        assertNull(VmxMsrs.forModel(null, fc));
    }

    @Test
    void featureControl() {
        FeatureControl fc = FeatureControl.atReset();
        assertEquals(0, fc.value());
        assertFalse(fc.vmxonAllowedOutsideSmx());
        assertThrows(CpuFault.class, () -> fc.write(FeatureControl.VMXON_INSIDE_SMX), "no SMX");
        assertThrows(CpuFault.class, () -> fc.write(1L << 20), "no LMCE");
        fc.write(FeatureControl.VMXON_OUTSIDE_SMX);
        assertFalse(fc.vmxonAllowedOutsideSmx(), "not locked yet");
        fc.write(FeatureControl.LOCK | FeatureControl.VMXON_OUTSIDE_SMX);
        assertTrue(fc.vmxonAllowedOutsideSmx());
        assertThrows(CpuFault.class, () -> fc.write(FeatureControl.LOCK | FeatureControl.VMXON_OUTSIDE_SMX),
                "any write once locked");
        fc.reset();
        assertEquals(0, fc.value());
        fc.write(FeatureControl.LOCK);
        assertFalse(fc.vmxonAllowedOutsideSmx(), "locked with VMX disabled");
    }

    @Test
    void report() {
        var entries = CapabilityReport.decode(caps);
        assertEquals(VmxCapabilities.MSR_INDICES.length, entries.size());
        var pin = entries.get(1);
        assertEquals("IA32_VMX_PINBASED_CTLS", pin.name());
        assertTrue(pin.lines().stream().anyMatch(l -> l.contains("NMI exiting") && l.endsWith("0 or 1")));
        assertTrue(pin.lines().stream().anyMatch(l -> l.startsWith("bit  1") && l.endsWith("must be 1")));
        assertTrue(pin.lines().stream().anyMatch(l -> l.contains("process posted interrupts") && l.endsWith("must be 0")));
        var ept = entries.stream().filter(e -> e.index() == Msr.IA32_VMX_EPT_VPID_CAP).findFirst().orElseThrow();
        assertNull(ept.value());
        assertEquals(CapabilityReport.Setting.MUST_BE_1, CapabilityReport.Setting.of(0x0000_0001_0000_0001L, 0));
        assertEquals(CapabilityReport.Setting.FLEXIBLE, CapabilityReport.Setting.of(0x0000_0001_0000_0000L, 0));
        assertEquals(CapabilityReport.Setting.MUST_BE_0, CapabilityReport.Setting.of(0, 0));
        String text = CapabilityReport.render(caps);
        assertTrue(text.contains("IA32_VMX_BASIC (0x480) = 0x00d8100000000004"), text);
        assertTrue(text.contains("IA32_VMX_EPT_VPID_CAP (0x48c) = absent"), text);
        assertTrue(text.contains("VMCS revision identifier        4"), text);
    }
}
