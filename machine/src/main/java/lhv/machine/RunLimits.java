package lhv.machine;

import java.time.Duration;

/**
 * Bounds of a bare-metal run: retired instructions (0 = none) and wall-clock time (null = none).
 *
 * <p>Context: Java host configuration of {@link Machine#run}.
 */
public record RunLimits(long maxInstructions, Duration timeout) {
    public static final RunLimits NONE = new RunLimits(0, null);

    public RunLimits {
        if (maxInstructions < 0) throw new IllegalArgumentException("maxInstructions must be >= 0");
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) throw new IllegalArgumentException("timeout must be > 0");
    }
}
