package lhv.hypervisor.vm;

import lhv.vmx.Vmx;

/**
 * The VMX layer's list of failing VM-entry checks for the current VMCS, one line each, appended to
 * a VMfailValid report (errors 7 and 8 name no field by themselves).
 *
 * <p>Context: Java host (VMX root software), after a failed VMLAUNCH/VMRESUME.
 */
final class EntryDiagnosis {
    private EntryDiagnosis() { }

    static String lines(Vmx vmx) {
        // NOT YET WIRED: the VMX layer's diagnose mode (EntryChecks.all) has not landed on this branch.
        return "";
    }
}
