package lhv.hypervisor.vm;

import lhv.hypervisor.trace.ExitStats;

/**
 * How a run ended: the process exit status, the one-line reason, whether it was a failure, the exit
 * statistics, and the number of machine-memory regions still allocated after teardown (always 0
 * unless the hypervisor leaks; tests assert it).
 *
 * <p>Context: Java host.
 */
public record RunResult(int status, String why, boolean failure, ExitStats stats, int regionsLeft, long regionsAllocated) { }
