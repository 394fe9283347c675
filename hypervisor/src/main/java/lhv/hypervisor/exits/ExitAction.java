package lhv.hypervisor.exits;

/**
 * What the exit loop does after a handler ran: resume the guest (VMRESUME), or end the run with an
 * exit status and a one-line reason. A closed set, so the loop's switch covers every case.
 *
 * <p>Context: Java host (VMX root software).
 */
public sealed interface ExitAction {
    record Resume() implements ExitAction { }

    /**
     * The run is over. {@code status} is the process exit status {@code hv run} returns;
     * {@code failure} tells an orderly guest end (HLT, exit hypercall, debug-exit) from a problem
     * (triple fault, unexpected exit, limits) that is reported as an error.
     */
    record End(int status, String why, boolean failure) implements ExitAction { }

    Resume RESUME = new Resume();

    static End guestEnded(int status, String why) {
        return new End(status, why, false);
    }

    static End failed(int status, String why) {
        return new End(status, why, true);
    }

    /**
     * Exit statuses of {@code hv run} other than the guest's own (README "Exit status"); where the
     * meaning is the same they equal those of {@code hv boot}.
     */
    int STATUS_USAGE = 2, STATUS_NO_VMX = 3, STATUS_GUEST_FAULT = 4, STATUS_VMX_FAILURE = 5, STATUS_LIMIT = 6,
            STATUS_TIMEOUT = 8, STATUS_NOT_IMPLEMENTED = 10, STATUS_INTERNAL_ERROR = 12;
}
