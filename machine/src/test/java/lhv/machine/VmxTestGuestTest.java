package lhv.machine;

import lhv.cpu.model.CpuModel;
import lhv.platform.loader.BootImage;
import lhv.platform.loader.LoadException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Boots the committed VT-x test guest (guests/vmx-test/vmx-test.elf: an x86 hypervisor that enters
 * VMX operation, launches a nested guest and checks every VM exit it causes) on the VMX-capable
 * machine, end to end, and checks its TAP report and exit status. The expected lines are the
 * guest's own descriptions of the SDM facts it checks (guests/vmx-test/README.md).
 *
 * <p>Context: Java host; the whole processor, VMX and board run the guest as `hv boot` would.
 */
class VmxTestGuestTest {
    static final Path IMAGE = Path.of("..", "guests", "vmx-test", "vmx-test.elf");

    /** The checks a correct processor must report as "ok" (a selection covering every exit kind). */
    static final List<String> REQUIRED = List.of(
            "CPUID.1:ECX.VMX[bit 5] is set",
            "VMXON succeeds",
            "VMPTRLD of the VMCS region succeeds",
            "VMRESUME of a clear VMCS fails with VM-instruction error 5",
            "VMREAD of an unsupported field encoding fails with error 12",
            "every VMWRITE of the VMCS set-up succeeds",
            "VMLAUNCH with a CR3-target count above IA32_VMX_MISC's fails with error 7",
            "VMLAUNCH with host TR selector 0 fails with error 8",
            "VMLAUNCH with guest RFLAGS bit 1 clear fails with exit reason 33 | 80000000H",
            "VMLAUNCH enters the guest",
            "guest: VM-entry MSR-load area set IA32_SYSENTER_CS to 77H",
            "CPUID exits with reason 10",
            "VM-exit MSR-store area holds the guest's IA32_SYSENTER_CS (77H)",
            "VM-exit MSR-load area gave the host IA32_SYSENTER_CS 55H (after host state set it to 0)",
            "OUT 80H exit: qualification 00800040H (1 byte, OUT, immediate, port 80H), length 2",
            "IN 1234H exit: qualification 12340009H (2 bytes, IN, DX, port 1234H), length 2",
            "OUT 9000H exit: qualification 90000003H (4 bytes, OUT, DX, port 9000H), length 1",
            "guest: IN from port 3FDH (bitmap A bit clear) does not exit",
            "IN 7FFFH exit: qualification 7FFF0009H (2 bytes, IN, DX, port 7FFFH), length 2",
            "IN FFFFH exit: qualification FFFF0009H (2 bytes, IN, DX, port FFFFH), length 2",
            "REP OUTSB exit: qualification 00800030H (1 byte, OUT, string, REP, DX, port 80H), length 2",
            "OUTS exit: guest-linear address is the source operand's address",
            "OUTS exit: instruction information gives 64-bit address size and DS",
            "RDMSR 175H (read-low bitmap bit set) exits with reason 31",
            "WRMSR 176H (write-low bitmap bit set) exits with reason 32",
            "RDMSR C0000080H (read-high bitmap bit set) exits with reason 31",
            "RDMSR 40000000H (outside the bitmap ranges) exits with reason 31",
            "guest: RDMSR 174H (read bit clear) does not exit",
            "guest: WRMSR 174H (write bit clear) does not exit",
            "MOV CR0,RCX exit: qualification 100H (CR0, MOV to CR, RCX), length 3",
            "MOV CR4,RDX exit: qualification 204H (CR4, MOV to CR, RDX), length 3",
            "guest: MOV to CR3 of CR3-target value 0 does not exit",
            "MOV CR3,RBX exit: qualification 303H (CR3, MOV to CR, RBX), length 3",
            "guest: CLTS with CR0.TS masked but clear in the shadow does not exit",
            "LMSW exit: qualification = source data << 16 | access type 3 (LMSW) | CR0",
            "VMREAD exit: instruction information names RDI (field) and RAX (register destination)",
            "VMX-preemption timer expiry exits with reason 52",
            "guest: INT3 (#BP not in the exception bitmap) is delivered through the guest IDT",
            "UD2 exit: interruption information 80000306H (valid, hardware exception, vector 6)",
            "#PF exit: qualification = faulting address 40000000H, interruption information 80000B0EH",
            "#PF exit: exit interruption error code 2 (write to a not-present page)",
            "guest: read #PF (error code 0 does not match) is delivered through the guest IDT",
            "MOV RAX,DR7 exit: qualification 17H (DR7, MOV from DR, RAX), length 3",
            "MOV DR7,RBX exit: qualification 307H (DR7, MOV to DR, RBX), length 3",
            "HLT exits with reason 12",
            "guest: #BP injected by VM entry (type 6, length 1) reached the guest IDT and returned after HLT",
            "VMCALL exits with reason 18",
            "VM exit cleared the valid bit of the VM-entry interruption-information field",
            "VMCALL in VMX root operation fails with VM-instruction error 1",
            "VMXOFF succeeds");

    @Test
    void vmxTestGuestPassesEveryCheck() throws LoadException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        RunResult r;
        try (Machine m = Machine.builder().console(console).build()) {
            m.boot(BootImage.of(IMAGE));
            r = m.run(new RunLimits(50_000_000, Duration.ofSeconds(60)));
        }
        String out = console.toString(StandardCharsets.US_ASCII);
        assertEquals(Outcome.DEBUG_EXIT, r.outcome(), r.summary() + "\n" + out);
        assertFalse(out.contains("not ok"), out);
        for (String check : REQUIRED) {
            assertTrue(out.lines().anyMatch(l -> l.matches("ok \\d+ - " + java.util.regex.Pattern.quote(check))),
                    "missing \"ok - " + check + "\" in:\n" + out);
        }
        assertTrue(out.contains(" passed, 0 failed\n1.."), out);
        assertEquals(1, r.exitStatus(), "debug-exit value 0 (all passed) -> status 1\n" + out);
    }

    @Test
    void withoutVmxTheGuestSkipsExactlyAsUnderQemuTcg() throws LoadException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        RunResult r;
        try (Machine m = Machine.builder().cpuModel(CpuModel.withoutVmx()).vmx(false).console(console).build()) {
            m.boot(BootImage.of(IMAGE));
            r = m.run(new RunLimits(1_000_000, Duration.ofSeconds(30)));
        }
        // What qemu-system-x86_64 -kernel vmx-test.elf prints after the firmware (TCG has no VMX).
        assertEquals("""
                # vmx-test: VT-x test guest (Multiboot ELF32, long mode, VMX host + nested guest)
                # long mode active, paging identity-maps 1 GiB
                # VMX not supported (CPUID.1:ECX.VMX = 0)
                1..0 # SKIP VMX not supported
                """, console.toString(StandardCharsets.US_ASCII));
        assertEquals(5, r.exitStatus(), "debug-exit value 2 -> status 5");
    }
}
