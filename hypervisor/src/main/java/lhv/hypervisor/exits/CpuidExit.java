package lhv.hypervisor.exits;

import lhv.cpu.Cpu;
import lhv.cpu.CpuFault;
import lhv.cpu.model.CpuModel;

import java.nio.charset.StandardCharsets;

/**
 * CPUID (exit reason 10; CPUID exits unconditionally in VMX non-root operation, SDM 26.1.2): the
 * model's values pass through, with CPUID.1:ECX.VMX cleared unless the config exposes it, the
 * "hypervisor present" bit CPUID.1:ECX[31] set, and the hypervisor leaves 0x40000000-0x400000FF
 * answered with our signature (the range software reserves for hypervisors).
 *
 * <p>Context: Java host (VMX root software).
 */
final class CpuidExit implements ExitHandler {
    /** "LHVisor-Java" in EBX, ECX, EDX of leaf 0x40000000. */
    static final String SIGNATURE = "LHVisor-Java";
    static final int HYPERVISOR_BASE = 0x40000000, HYPERVISOR_MAX = 0x40000001;

    /**
     * The answers given so far, direct-mapped by leaf and sub-leaf: they depend only on the processor
     * model and the config, both fixed for a run (one handler per run's dispatch table), so a guest
     * asking again costs no model lookup and no allocation.
     */
    private final long[] cachedKeys = new long[16];
    private final int[][] cachedValues = new int[16][];
    private Vcpu cachedFor;

    @Override
    public ExitAction handle(VmExit exit, Vcpu vcpu) {
        int leaf = (int) vcpu.cpu.gpr[Cpu.RAX], sub = (int) vcpu.cpu.gpr[Cpu.RCX];
        int[] r = cached(vcpu, leaf, sub);
        vcpu.setGpr32(Cpu.RAX, r[0]);
        vcpu.setGpr32(Cpu.RBX, r[1]);
        vcpu.setGpr32(Cpu.RCX, r[2]);
        vcpu.setGpr32(Cpu.RDX, r[3]);
        if (exit.tracing()) {
            exit.note("leaf", hex(leaf));
            exit.note("subleaf", hex(sub));
        }
        vcpu.advanceRip(exit);
        return ExitAction.RESUME;
    }

    private int[] cached(Vcpu vcpu, int leaf, int sub) {
        if (vcpu != cachedFor) {
            java.util.Arrays.fill(cachedValues, null);
            cachedFor = vcpu;
        }
        long key = (long) leaf << 32 | (sub & 0xFFFFFFFFL);
        int slot = (leaf ^ leaf >>> 27 ^ sub) & 15;
        int[] r = cachedValues[slot];
        if (r == null || cachedKeys[slot] != key) {
            r = values(vcpu, leaf, sub);
            cachedKeys[slot] = key;
            cachedValues[slot] = r;
        }
        return r;
    }

    static int[] values(Vcpu vcpu, int leaf, int sub) {
        if ((leaf & 0xFFFFFF00) == HYPERVISOR_BASE) {
            if (leaf == HYPERVISOR_BASE) {
                byte[] s = SIGNATURE.getBytes(StandardCharsets.US_ASCII);
                return new int[] {HYPERVISOR_MAX, le(s, 0), le(s, 4), le(s, 8)};
            }
            return new int[4];   // 0x40000001: no paravirtual features
        }
        int[] r;
        try {
            r = vcpu.cpu.model.cpuid(leaf, sub); // a fresh array per call (CpuModel builds it)
        } catch (CpuFault | UnsupportedOperationException e) {
            r = new int[4];
        }
        if (leaf == 1) {
            if (!vcpu.config.exposeVmx()) r[2] &= ~CpuModel.ECX1_VMX;
            r[2] |= 1 << 31;
        }
        return r;
    }

    private static int le(byte[] s, int i) {
        return (s[i] & 0xFF) | (s[i + 1] & 0xFF) << 8 | (s[i + 2] & 0xFF) << 16 | (s[i + 3] & 0xFF) << 24;
    }

    private static lhv.hypervisor.trace.ExitTrace.Hex hex(int v) {
        return new lhv.hypervisor.trace.ExitTrace.Hex(v & 0xFFFFFFFFL);
    }
}
