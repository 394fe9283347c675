package lhv.hypervisor.config;

/**
 * A mistake in a VM configuration file, with the place it was found (Jackson's line:column).
 *
 * <p>Context: Java host, before anything runs. The message is one line meant for the user:
 * {@code vm.yaml:12:5: unknown exception mnemonic 'PX' (expected one of DE, DB, ...)}.
 */
public final class ConfigError extends RuntimeException {
    public final Position position;

    public ConfigError(Position position, String message) {
        super(message, null, false, false);
        this.position = position;
    }

    /** The one line the user sees. */
    public String line() {
        return position == null || position == Position.NONE ? getMessage() : position + ": " + getMessage();
    }
}
