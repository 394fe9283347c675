package lhv.cpu;

/**
 * The guest executed something this processor model does not implement yet (x87, SSE, AVX, ...).
 * Not an architectural event: the run stops with "not implemented: WHAT at ADDRESS" rather than
 * pretending the instruction is undefined (#UD).
 *
 * <p>Context: thrown by the interpreter; the run loop turns it into {@link StopReason#NOT_IMPLEMENTED}.
 */
public final class NotImplemented extends RuntimeException {
    public final String what;

    public NotImplemented(String what) {
        super(what, null, false, false);
        this.what = what;
    }
}
