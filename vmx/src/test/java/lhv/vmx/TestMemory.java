package lhv.vmx;

import lhv.cpu.bus.RamOnlyMemory;

/** Plain RAM for tests: {@code size} bytes at physical address 0; other addresses read all ones. */
public final class TestMemory extends RamOnlyMemory {
    public TestMemory(long size) {
        super(size);
    }
}
