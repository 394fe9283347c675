package lhv.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What {@code hv} prints for help, version and bad options, compared with copies recorded from the
 * tool before its commands' models were built in code ({@link CommandModel}; the copies come from
 * the annotation-based commands of the same options): usage texts, one-line errors and exit
 * statuses must not change. The cases are {@code usage/cases.txt}, one command line a line; the
 * recorded output of line N is {@code usage/case-N.txt} (standard output, standard error, then
 * {@code status=S}).
 *
 * <p>Context: unit tests only; runs the command line in-process with standard output and error captured.
 */
class UsageTextTest {
    @Test
    void helpVersionAndErrorsReadAsRecorded() throws IOException {
        List<String> cases = resource("cases.txt").lines().toList();
        assertTrue(cases.size() >= 20, "cases missing");
        for (int i = 0; i < cases.size(); i++) {
            String line = cases.get(i);
            String[] args = line.isBlank() ? new String[0] : line.trim().split(" +");
            MainTest.Outcome o = MainTest.execute(true, args);
            String seen = (o.out() + o.err()).replace(System.lineSeparator(), "\n") + "status=" + o.status() + "\n";
            assertEquals(resource(String.format("case-%02d.txt", i)), seen, "hv " + line);
        }
    }

    static String resource(String name) throws IOException {
        try (InputStream in = UsageTextTest.class.getResourceAsStream("usage/" + name)) {
            assertNotNull(in, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
