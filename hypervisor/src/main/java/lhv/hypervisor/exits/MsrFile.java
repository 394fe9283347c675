package lhv.hypervisor.exits;

import java.util.HashMap;
import java.util.Map;

/**
 * The hypervisor's emulated MSRs: the values the guest reads and writes for every MSR whose bitmap
 * bit is set. Each starts at the value the processor had when the VM was set up; an MSR the
 * processor does not implement is absent and its access is answered with #GP(0).
 *
 * <p>Context: Java host (VMX root software), RDMSR/WRMSR exit handlers.
 */
public final class MsrFile {
    private final Map<Integer, Long> values = new HashMap<>();

    public void define(int index, long initial) {
        values.put(index, initial);
    }

    public boolean has(int index) {
        return values.containsKey(index);
    }

    public long read(int index) {
        return values.get(index);
    }

    public void write(int index, long value) {
        values.put(index, value);
    }
}
