package lhv.vmx.entry;

import lhv.cpu.bus.PhysicalMemory;
import lhv.vmx.caps.VmxCapabilities;

/**
 * What the VM-entry checks need besides the VMCS: the processor's capabilities, its physical-address
 * width (CPUID.80000008H:EAX[7:0]), physical memory (for the VMCS link pointer's revision identifier,
 * the virtual-APIC page's VTPR and the guest PDPTEs), whether the processor is in IA-32e mode at the
 * time of VM entry (IA32_EFER.LMA, SDM 27.2.4), the current-VMCS pointer (SDM 27.3.1.5), and the
 * reserved bits of IA32_PERF_GLOBAL_CTRL on this model.
 *
 * <p>Context: built by VMLAUNCH/VMRESUME (VMX root operation) or {@code hv check}; immutable.
 */
public record EntryContext(VmxCapabilities caps, int physicalAddressWidth, PhysicalMemory memory,
                           boolean hostIa32eMode, long currentVmcsPointer, long perfGlobalCtrlReserved) {

    /**
     * IA32_PERF_GLOBAL_CTRL bits that do not exist on the modelled i7-6700K (4 general-purpose and
     * 3 fixed counters: bits 3:0 and 34:32 defined), as its published MSR write mask shows.
     */
    public static final long SKYLAKE_PERF_GLOBAL_CTRL_RESERVED = 0xFFFF_FFF8_FFFF_FFF0L;

    public static EntryContext of(VmxCapabilities caps, int physicalAddressWidth, PhysicalMemory memory,
                                  boolean hostIa32eMode, long currentVmcsPointer) {
        return new EntryContext(caps, physicalAddressWidth, memory, hostIa32eMode, currentVmcsPointer,
                SKYLAKE_PERF_GLOBAL_CTRL_RESERVED);
    }

    /** The context for the modelled i7-6700K (MAXPHYADDR 39). */
    public static EntryContext of(VmxCapabilities caps, PhysicalMemory memory, boolean hostIa32eMode,
                                  long currentVmcsPointer) {
        return of(caps, VmxCapabilities.SKYLAKE_PHYSICAL_ADDRESS_WIDTH, memory, hostIa32eMode, currentVmcsPointer);
    }

    /** True when {@code pa} sets no bit at or above the physical-address width. */
    public boolean withinPhysicalWidth(long pa) {
        return (pa >>> physicalAddressWidth) == 0;
    }
}
