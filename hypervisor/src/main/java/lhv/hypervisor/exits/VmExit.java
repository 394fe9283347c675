package lhv.hypervisor.exits;

import lhv.hypervisor.setup.CheckedVmcs;
import lhv.vmx.exit.ExitReason;
import lhv.vmx.vmcs.VmcsField;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit-information fields of the current VM exit (SDM 25.9), read by the exit loop, plus the
 * fields a handler decodes for the trace. One instance is reused for every exit; the decoded map
 * exists only while tracing, so the common path allocates nothing for it.
 *
 * <p>The exit reason and the guest RIP are read when the exit begins. The exit qualification and
 * the instruction length are read on first use ({@link #qualification()}, {@link #length()}):
 * a CPUID exit's handler needs only the length, and quiet runs without a trace never print the
 * qualification. Both are read-only exit-information fields that only a VM exit changes, and the
 * hypervisor never writes them, so a later read yields what an early one would have; anything that
 * may write the VMCS before they are read calls {@link #readAll()} first.
 *
 * <p>Context: Java host (VMX root software), between a VM exit and the next VMRESUME.
 */
public final class VmExit {
    public long seq;
    /** The full exit-reason field (bit 31 = VM-entry failure). */
    public int reasonField;
    public long rip;
    private long qualification;
    private int length;
    /** Where the fields not read yet come from (the current VMCS of the exit loop). */
    private CheckedVmcs vmcs;
    private boolean qualificationRead, lengthRead;
    private final Map<String, Object> decoded;

    public VmExit(boolean tracing) {
        this.decoded = tracing ? new LinkedHashMap<>() : null;
    }

    public int basicReason() {
        return reasonField & 0xFFFF;
    }

    /** The exit qualification (SDM 25.9.1). */
    public long qualification() {
        if (!qualificationRead) {
            qualification = vmcs.read(VmcsField.EXIT_QUALIFICATION);
            qualificationRead = true;
        }
        return qualification;
    }

    /** The VM-exit instruction length (SDM 25.9.4). */
    public int length() {
        if (!lengthRead) {
            length = vmcs.read32(VmcsField.VM_EXIT_INSTRUCTION_LEN);
            lengthRead = true;
        }
        return length;
    }

    /** Reads the fields not read yet (before anything that may write the VMCS, e.g. a test hook). */
    public void readAll() {
        qualification();
        length();
    }

    /** The Linux name of the basic reason (design.md), or "UNKNOWN_n". */
    public String name() {
        return nameOf(basicReason());
    }

    public static String nameOf(int basic) {
        ExitReason r = ExitReason.of(basic);
        return r != null ? r.name() : "UNKNOWN_" + basic;
    }

    /** Records a decoded field for the trace (ignored when not tracing). */
    public void note(String key, Object value) {
        if (decoded != null) decoded.put(key, value);
    }

    public boolean tracing() {
        return decoded != null;
    }

    public Map<String, Object> decoded() {
        return decoded == null ? Map.of() : decoded;
    }

    void reset() {
        if (decoded != null) decoded.clear();
    }

    /** Starts a new exit whose fields are all known: clears what the previous handler decoded. */
    public void begin(long seq, int reasonField, long qualification, long rip, int length) {
        reset();
        this.seq = seq;
        this.reasonField = reasonField;
        this.qualification = qualification;
        this.rip = rip;
        this.length = length;
        this.qualificationRead = this.lengthRead = true;
    }

    /**
     * Starts a new exit whose qualification and instruction length are read from {@code vmcs} when
     * first asked for (the exit-information fields of the VM exit that just happened).
     */
    public void begin(long seq, int reasonField, long rip, CheckedVmcs vmcs) {
        reset();
        this.seq = seq;
        this.reasonField = reasonField;
        this.rip = rip;
        this.vmcs = vmcs;
        this.qualificationRead = this.lengthRead = false;
    }
}
