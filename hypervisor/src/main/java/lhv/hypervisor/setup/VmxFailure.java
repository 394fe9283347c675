package lhv.hypervisor.setup;

/**
 * A VMX instruction issued by the hypervisor failed (VMfailInvalid, VMfailValid with its error
 * number, or a fault): the Java form of the seed's CHECK_VMWRITE/CHECK_VMREAD bailing out. Thrown to
 * unwind the bring-up; the hypervisor catches it in one place, reports the message and tears down.
 *
 * <p>Context: Java host (VMX root software).
 */
public final class VmxFailure extends RuntimeException {
    public VmxFailure(String message) {
        super(message, null, false, false);
    }
}
