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
            default:
                if (f.name().endsWith("_AR_BYTES")) return accessRights(v);
                return "";
        }
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
