package lhv.cpu.decode;

/**
 * Source of the bytes of one instruction for the {@link Decoder}.
 *
 * <p>Context: guest instruction fetch. The processor's implementation translates page by page and
 * may throw {@link lhv.cpu.CpuFault} (#PF, #GP for the code-segment limit): a byte is only fetched
 * when the decoder needs it, so an instruction faults on a page only if it extends into it.
 */
public interface CodeFetch {
    /** The byte at offset {@code index} (0..14) from the start of the instruction, 0..255. */
    int byteAt(int index);
}
