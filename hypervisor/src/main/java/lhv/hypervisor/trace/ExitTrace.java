package lhv.hypervisor.trace;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The exit trace of {@code --trace FILE}: JSON Lines, one object per VM exit, with the keys of
 * design.md ({@code seq, reason, name, qualification, rip, length}) followed by the fields decoded
 * for the reason. Numbers that are addresses or bit fields are written as hex strings, counts and
 * small indices as JSON numbers.
 *
 * <p>Context: Java host, called once per exit from the exit loop; owns its output stream.
 */
public final class ExitTrace implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();
    private final JsonGenerator out;

    public ExitTrace(OutputStream stream) {
        try {
            out = JSON.createGenerator(stream);
            out.setRootValueSeparator(new com.fasterxml.jackson.core.io.SerializedString("\n"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void write(ExitRecord r) {
        try {
            out.writeStartObject();
            out.writeNumberField("seq", r.seq());
            out.writeNumberField("reason", r.reason());
            out.writeStringField("name", r.name());
            out.writeStringField("qualification", hex(r.qualification()));
            out.writeStringField("rip", hex(r.rip()));
            out.writeNumberField("length", r.length());
            for (Map.Entry<String, Object> f : r.fields().entrySet()) {
                Object v = f.getValue();
                if (v instanceof Hex h) out.writeStringField(f.getKey(), hex(h.value()));
                else if (v instanceof Long l) out.writeNumberField(f.getKey(), l);
                else if (v instanceof Integer i) out.writeNumberField(f.getKey(), i);
                else if (v instanceof Boolean b) out.writeBooleanField(f.getKey(), b);
                else out.writeStringField(f.getKey(), String.valueOf(v));
            }
            out.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    /** Marks a decoded value to be written as a hex string. */
    public record Hex(long value) { }

    @Override
    public void close() {
        try {
            out.writeRaw('\n');
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
