package lhv.cpu;

/** Operating mode of the processor, SDM Vol. 3A 2.2 and 9.8.5 (IA-32e sub-modes). */
public enum Mode {
    /** CR0.PE = 0. */
    REAL,
    /** CR0.PE = 1, RFLAGS.VM = 1, not IA-32e. */
    VIRTUAL_8086,
    /** CR0.PE = 1, legacy (not IA-32e) protected mode, 16- or 32-bit code per CS.D. */
    PROTECTED,
    /** IA-32e mode with CS.L = 0. */
    COMPATIBILITY,
    /** IA-32e mode with CS.L = 1. */
    LONG64
}
