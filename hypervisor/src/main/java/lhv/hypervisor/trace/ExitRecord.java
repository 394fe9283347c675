package lhv.hypervisor.trace;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One VM exit as the trace reports it: sequence number, basic exit reason with its Linux name,
 * exit qualification, guest RIP, instruction length and the fields decoded for this reason (port,
 * MSR, control register, vector...). Decoded fields keep their insertion order in the output.
 *
 * <p>Context: Java host, built by the exit loop after reading the exit-information fields.
 */
public record ExitRecord(long seq, int reason, String name, long qualification, long rip, int length,
                         Map<String, Object> fields) {
    public ExitRecord {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }
}
