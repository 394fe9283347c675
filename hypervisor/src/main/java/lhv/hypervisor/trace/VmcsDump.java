package lhv.hypervisor.trace;

import lhv.cpu.Vector;
import lhv.vmx.caps.VmxCapabilities;
import lhv.vmx.controls.ControlWord;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.exit.VmInstructionError;
import lhv.vmx.vmcs.VmcsField;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * {@code hv vmcs}: every VMCS field this processor supports, by name (SDM Appendix B, Linux
 * spelling), with its encoding, value and a decoding where the value has structure: control words
 * as the names of their set bits, access rights as type/S/DPL/P/L/D/G/unusable, the exception bitmap
 * as mnemonics, the exit reason and VM-instruction error by name.
 *
 * <p>Context: Java host, VMX root, with the VMCS current.
 */
public final class VmcsDump {
    private VmcsDump() { }

    public static void print(PrintStream out, VmxCapabilities caps, ToLongFunction<VmcsField> read) {
        for (VmcsField f : VmcsField.values()) {
            if (!caps.supports(f)) continue;
            long v = read.applyAsLong(f);
            String decoded = decode(f, v);
            out.println(String.format("%04x %-36s = 0x%-16x %s", f.encoding, f.name(), v, decoded).stripTrailing());
        }
    }

    static String decode(VmcsField f, long v) {
        switch (f) {
            case PIN_BASED_VM_EXEC_CONTROL: return names(ControlWord.PIN_BASED, v);
            case CPU_BASED_VM_EXEC_CONTROL: return names(ControlWord.PRIMARY_PROCESSOR_BASED, v);
            case SECONDARY_VM_EXEC_CONTROL: return names(ControlWord.SECONDARY_PROCESSOR_BASED, v);
            case VM_EXIT_CONTROLS: return names(ControlWord.EXIT, v);
            case VM_ENTRY_CONTROLS: return names(ControlWord.ENTRY, v);
            case EXCEPTION_BITMAP: {
                List<String> l = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    if ((v & (1L << i)) != 0) l.add(Vector.of(i) != null ? "#" + Vector.of(i).name() : "vector " + i);
                }
                return "[" + String.join(", ", l) + "]";
            }
            case VM_EXIT_REASON: {
                ExitReason r = ExitReason.of((int) v);
                return (r != null ? r.name() : "reason " + (v & 0xFFFF)) + ((v & (1L << 31)) != 0 ? " (VM-entry failure)" : "");
            }
            case VM_INSTRUCTION_ERROR: {
                VmInstructionError e = VmInstructionError.of(v);
                return e != null ? e.description : v == 0 ? "" : "error " + v;
            }
            case VM_EXIT_INTR_INFO: case VM_ENTRY_INTR_INFO_FIELD: case IDT_VECTORING_INFO_FIELD:
                return eventInfo(v);
            case GUEST_ACTIVITY_STATE:
                return switch ((int) v) { case 0 -> "active"; case 1 -> "HLT"; case 2 -> "shutdown"; case 3 -> "wait-for-SIPI"; default -> "?"; };
            case GUEST_INTERRUPTIBILITY_INFO:
                return bits(v, "blocking by STI", "blocking by MOV SS", "blocking by SMI", "blocking by NMI", "enclave interruption");
            case GUEST_CR0: case HOST_CR0: case CR0_GUEST_HOST_MASK: case CR0_READ_SHADOW:
                return bits(v, "PE", "MP", "EM", "TS", "ET", "NE", null, null, null, null, null, null, null, null, null, null,
                        "WP", null, "AM", null, null, null, null, null, null, null, null, null, null, "NW", "CD", "PG");
            case GUEST_CR4: case HOST_CR4: case CR4_GUEST_HOST_MASK: case CR4_READ_SHADOW:
                return bits(v, "VME", "PVI", "TSD", "DE", "PSE", "PAE", "MCE", "PGE", "PCE", "OSFXSR", "OSXMMEXCPT", "UMIP",
                        "LA57", "VMXE", "SMXE", null, "FSGSBASE", "PCIDE", "OSXSAVE", null, "SMEP", "SMAP", "PKE");
            case GUEST_RFLAGS:
                return bits(v, "CF", null, "PF", null, "AF", null, "ZF", "SF", "TF", "IF", "DF", "OF", null, null, "NT", null,
                        "RF", "VM", "AC", "VIF", "VIP", "ID");
            default:
                if (f.name().endsWith("_AR_BYTES")) return accessRights(v);
                return "";
        }
    }

    /** Interruption-information format, SDM 25.8.3 / 25.9.2: vector, type, error code, valid. */
    static String eventInfo(long v) {
        if ((v & (1L << 31)) == 0) return "not valid";
        String[] types = {"external interrupt", "reserved", "NMI", "hardware exception", "software interrupt",
                "privileged software exception", "software exception", "other event"};
        int vector = (int) v & 0xFF;
        Vector x = Vector.of(vector);
        int type = (int) (v >>> 8) & 7;
        return "vector " + vector + (type == 3 && x != null ? " (#" + x.name() + ")" : "") + ", " + types[type]
                + ((v & (1L << 11)) != 0 ? ", error code" : "");
    }

    private static String bits(long v, String... names) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < names.length; i++) if (names[i] != null && (v & (1L << i)) != 0) l.add(names[i]);
        return "[" + String.join(" ", l) + "]";
    }

    private static String names(ControlWord w, long v) {
        return "[" + String.join(", ", w.decode((int) v)) + "]";
    }

    /** VMX access-rights format, SDM 25.4.1 Table 25-2. */
    static String accessRights(long ar) {
        if ((ar & (1L << 16)) != 0) return "unusable";
        return String.format("type=%x S=%d DPL=%d P=%d AVL=%d L=%d D/B=%d G=%d", ar & 0xF, (ar >> 4) & 1, (ar >> 5) & 3,
                (ar >> 7) & 1, (ar >> 12) & 1, (ar >> 13) & 1, (ar >> 14) & 1, (ar >> 15) & 1);
    }
}
