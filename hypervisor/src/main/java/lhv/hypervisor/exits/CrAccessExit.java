package lhv.hypervisor.exits;

import lhv.cpu.Cr;
import lhv.hypervisor.trace.ExitTrace.Hex;
import lhv.vmx.exit.ExitQualification.CrAccess;
import lhv.vmx.vmcs.VmcsField;

/**
 * Control-register access (exit reason 28), SDM 26.1.3 and Table 28-3.
 *
 * <p>MOV to CR0/CR4 exits when it would change a bit the host owns (guest/host mask bit 1) to a
 * value different from the read shadow. The hypervisor then lets the guest believe it succeeded:
 * owned bits go into the read shadow (what the guest reads back), unowned bits into the guest's real
 * CR, which is kept within the VMX fixed bits (SDM 24.8). CLTS and LMSW are treated the same way.
 * MOV to CR3 exits when CR3-load exiting is on and the value is not a CR3-target value; it is
 * emulated by writing GUEST_CR3. MOV from CR3 (CR3-store exiting) and MOV to/from CR8 are emulated.
 *
 * <p>Context: Java host (VMX root software).
 */
final class CrAccessExit implements ExitHandler {
    private static final String[] TYPES = {"mov_to_cr", "mov_from_cr", "clts", "lmsw"};

    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        CrAccess a = CrAccess.decode(exit.qualification());
        exit.note("cr", a.cr());
        exit.note("access", TYPES[a.type().ordinal()]);
        switch (a.type()) {
            case MOV_TO_CR -> {
                exit.note("register", a.gpr());
                long value = vcpu.gpr(a.gpr());
                exit.note("value", new Hex(value));
                switch (a.cr()) {
                    case 0 -> writeMasked(vcpu, value, true);
                    case 4 -> writeMasked(vcpu, value, false);
                    case 3 -> vcpu.vmcs.write(VmcsField.GUEST_CR3, value);
                    case 8 -> vcpu.cr8 = value & 0xF;
                    default -> { return unexpected(a); }
                }
            }
            case MOV_FROM_CR -> {
                exit.note("register", a.gpr());
                long value = switch (a.cr()) {
                    case 3 -> vcpu.vmcs.read(VmcsField.GUEST_CR3);
                    case 8 -> vcpu.cr8;
                    default -> -1;
                };
                if (value == -1 && a.cr() != 3) return unexpected(a);
                exit.note("value", new Hex(value));
                vcpu.setGpr(a.gpr(), value);
            }
            case CLTS -> writeMasked(vcpu, visibleCr0(vcpu) & ~Cr.CR0_TS, true);
            case LMSW -> {
                // LMSW loads CR0[3:0] but cannot clear PE (SDM Vol. 2 LMSW).
                long cr0 = visibleCr0(vcpu);
                long src = a.lmswSourceData() & 0xF;
                exit.note("value", new Hex(src));
                writeMasked(vcpu, (cr0 & ~0xEL) | src | (cr0 & Cr.CR0_PE), true);
            }
        }
        vcpu.advanceRip(exit);
        return ExitAction.RESUME;
    }

    /** CR0 as the guest sees it: owned bits from the shadow, the rest from the real CR0 (SDM 26.3). */
    private static long visibleCr0(Vcpu vcpu) {
        long mask = vcpu.vmcs.read(VmcsField.CR0_GUEST_HOST_MASK);
        return (vcpu.vmcs.read(VmcsField.CR0_READ_SHADOW) & mask) | (vcpu.vmcs.read(VmcsField.GUEST_CR0) & ~mask);
    }

    private static void writeMasked(Vcpu vcpu, long value, boolean cr0) {
        VmcsField maskField = cr0 ? VmcsField.CR0_GUEST_HOST_MASK : VmcsField.CR4_GUEST_HOST_MASK;
        VmcsField shadowField = cr0 ? VmcsField.CR0_READ_SHADOW : VmcsField.CR4_READ_SHADOW;
        VmcsField guestField = cr0 ? VmcsField.GUEST_CR0 : VmcsField.GUEST_CR4;
        long mask = vcpu.vmcs.read(maskField);
        long shadow = vcpu.vmcs.read(shadowField);
        long guest = vcpu.vmcs.read(guestField);
        long fixed0 = cr0 ? vcpu.caps.cr0Fixed0 : vcpu.caps.cr4Fixed0;
        long fixed1 = cr0 ? vcpu.caps.cr0Fixed1 : vcpu.caps.cr4Fixed1;
        long newGuest = ((value & ~mask) | (guest & mask) | fixed0) & fixed1;
        long newShadow = (value & mask) | (shadow & ~mask);
        vcpu.vmcs.write(guestField, newGuest);
        vcpu.vmcs.write(shadowField, newShadow);
        vcpu.console.step((cr0 ? "CR0" : "CR4") + " write 0x" + Long.toHexString(value) + ": guest 0x"
                + Long.toHexString(newGuest) + ", read shadow 0x" + Long.toHexString(newShadow));
    }

    private static ExitAction unexpected(CrAccess a) {
        return ExitAction.failed(ExitAction.STATUS_GUEST_FAULT, "unexpected control-register access exit: " + a);
    }
}
