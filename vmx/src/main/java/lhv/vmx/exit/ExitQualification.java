package lhv.vmx.exit;

/**
 * The structured exit qualifications of SDM Vol. 3C 28.2.1 (Tables 28-1 .. 28-7), one record per
 * format, each able to encode itself into the 64-bit VMCS field and to decode it again.
 *
 * <p>Context: encoded by the processor while it performs a VM exit (non-root intercept, VMX root
 * about to load host state); decoded by host software (the Java hypervisor's exit handlers, traces).
 * Reasons whose qualification is a plain number (linear address for INVLPG and #PF, the
 * instruction displacement for VMX and descriptor-table instructions, the MSR-load entry index for
 * exit 34) use {@code long} directly and need no record.
 */
public sealed interface ExitQualification {

    /** The value written to the EXIT_QUALIFICATION field. */
    long encode();

    /** Access types of a control-register access, SDM Table 28-3 bits 5:4. */
    enum CrAccessType { MOV_TO_CR, MOV_FROM_CR, CLTS, LMSW }

    /**
     * Control-register access (exit reason 28), SDM 28.2.1 Table 28-3: bits 3:0 CR number, 5:4 access
     * type, 6 LMSW operand type (1 = memory), 11:8 general-purpose register of MOV CR, 31:16 LMSW
     * source data. CLTS reports CR 0; LMSW reports CR 0 and clears the register field.
     */
    record CrAccess(int cr, CrAccessType type, boolean lmswMemoryOperand, int gpr, int lmswSourceData)
            implements ExitQualification {
        public static CrAccess movToCr(int cr, int gpr) { return new CrAccess(cr, CrAccessType.MOV_TO_CR, false, gpr, 0); }
        public static CrAccess movFromCr(int cr, int gpr) { return new CrAccess(cr, CrAccessType.MOV_FROM_CR, false, gpr, 0); }
        public static CrAccess clts() { return new CrAccess(0, CrAccessType.CLTS, false, 0, 0); }
        public static CrAccess lmsw(boolean memory, int sourceData) {
            return new CrAccess(0, CrAccessType.LMSW, memory, 0, sourceData & 0xFFFF);
        }

        @Override
        public long encode() {
            return (cr & 0xF) | (long) type.ordinal() << 4 | (lmswMemoryOperand ? 1L << 6 : 0)
                    | (long) (gpr & 0xF) << 8 | (long) (lmswSourceData & 0xFFFF) << 16;
        }

        public static CrAccess decode(long q) {
            return new CrAccess((int) q & 0xF, CrAccessType.values()[(int) (q >>> 4) & 3], (q & 1L << 6) != 0,
                    (int) (q >>> 8) & 0xF, (int) (q >>> 16) & 0xFFFF);
        }
    }

    /** MOV DR (exit reason 29), SDM Table 28-4: bits 2:0 DR number, 4 direction (1 = MOV from DR), 11:8 register. */
    record DrAccess(int dr, boolean fromDr, int gpr) implements ExitQualification {
        @Override
        public long encode() {
            return (dr & 7) | (fromDr ? 1L << 4 : 0) | (long) (gpr & 0xF) << 8;
        }

        public static DrAccess decode(long q) {
            return new DrAccess((int) q & 7, (q & 1L << 4) != 0, (int) (q >>> 8) & 0xF);
        }
    }

    /**
     * I/O instruction (exit reason 30), SDM Table 28-5: bits 2:0 size - 1 (0, 1 or 3), 3 direction
     * (1 = IN), 4 string, 5 REP prefixed, 6 operand encoding (1 = immediate), 31:16 port.
     */
    record IoAccess(int size, boolean in, boolean string, boolean rep, boolean immediate, int port)
            implements ExitQualification {
        @Override
        public long encode() {
            return (size - 1 & 7) | (in ? 1L << 3 : 0) | (string ? 1L << 4 : 0) | (rep ? 1L << 5 : 0)
                    | (immediate ? 1L << 6 : 0) | (long) (port & 0xFFFF) << 16;
        }

        public static IoAccess decode(long q) {
            return new IoAccess(((int) q & 7) + 1, (q & 1L << 3) != 0, (q & 1L << 4) != 0, (q & 1L << 5) != 0,
                    (q & 1L << 6) != 0, (int) (q >>> 16) & 0xFFFF);
        }
    }

    /** Sources of a task switch, SDM Table 28-2 bits 31:30. */
    enum TaskSwitchSource { CALL, IRET, JMP, IDT_TASK_GATE }

    /** Task switch (exit reason 9), SDM Table 28-2: bits 15:0 TSS selector, 31:30 source. */
    record TaskSwitch(int selector, TaskSwitchSource source) implements ExitQualification {
        @Override
        public long encode() {
            return (selector & 0xFFFF) | (long) source.ordinal() << 30;
        }

        public static TaskSwitch decode(long q) {
            return new TaskSwitch((int) q & 0xFFFF, TaskSwitchSource.values()[(int) (q >>> 30) & 3]);
        }
    }

    /**
     * Debug exception (exit reason 0 with #DB), SDM Table 28-1: bits 3:0 B0-B3, 13 BD, 14 BS, 16 RTM;
     * the bits that would have gone to DR6.
     */
    record DebugException(int breakpoints, boolean bd, boolean bs, boolean rtm) implements ExitQualification {
        @Override
        public long encode() {
            return (breakpoints & 0xF) | (bd ? 1L << 13 : 0) | (bs ? 1L << 14 : 0) | (rtm ? 1L << 16 : 0);
        }

        public static DebugException decode(long q) {
            return new DebugException((int) q & 0xF, (q & 1L << 13) != 0, (q & 1L << 14) != 0, (q & 1L << 16) != 0);
        }
    }

    /**
     * Exit qualification of an exit caused by a VMX or descriptor-table instruction with a memory
     * operand (SDM 28.2.1): the displacement sign-extended to 64 bits, or for RIP-relative
     * addressing the displacement plus the RIP of the next instruction; 0 for register operands.
     * Bits beyond the address size are undefined; we keep the sign extension.
     */
    static long displacement(lhv.cpu.decode.Insn insn, long nextRip) {
        if (!insn.mem) return 0;
        return insn.base == lhv.cpu.decode.Insn.RIP_BASE ? insn.disp + nextRip : insn.disp;
    }
}
