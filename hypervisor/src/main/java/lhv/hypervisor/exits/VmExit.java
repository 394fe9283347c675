package lhv.hypervisor.exits;

import lhv.vmx.exit.ExitReason;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit-information fields of the current VM exit (SDM 25.9), read once by the exit loop, plus
 * the fields a handler decodes for the trace. One instance is reused for every exit; the decoded
 * map exists only while tracing, so the common path allocates nothing for it.
 *
 * <p>Context: Java host (VMX root software), between a VM exit and the next VMRESUME.
 */
public final class VmExit {
    public long seq;
    /** The full exit-reason field (bit 31 = VM-entry failure). */
    public int reasonField;
    public long qualification;
    public long rip;
    public int length;
    private final Map<String, Object> decoded;

    public VmExit(boolean tracing) {
        this.decoded = tracing ? new LinkedHashMap<>() : null;
    }

    public int basicReason() {
        return reasonField & 0xFFFF;
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

    /** Starts a new exit: clears what the previous handler decoded. */
    public void begin(long seq, int reasonField, long qualification, long rip, int length) {
        reset();
        this.seq = seq;
        this.reasonField = reasonField;
        this.qualification = qualification;
        this.rip = rip;
        this.length = length;
    }
}
