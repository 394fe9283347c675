package lhv.platform.loader;

/**
 * An image that cannot be booted: missing, truncated, malformed, for another architecture, not
 * fitting guest RAM, or asking for something the loader does not offer. The message is one line
 * naming the problem, fit to print after "hv: ".
 *
 * <p>Context: Java host, before the guest starts. A loader throws it before writing anything to
 * guest memory, so a failed load never leaves a partially started guest.
 */
public final class LoadException extends Exception {
    public LoadException(String message) {
        super(message, null, false, false);
    }
}
