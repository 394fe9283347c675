package lhv.cpu.decode;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Instruction lengths against an independent decoder: binutils objdump's verdict on random byte
 * strings (tools/gen-vectors/gen-lengths.py), in 64-, 32- and 16-bit code.
 */
class DecoderLengthTest {

    @ParameterizedTest
    @ValueSource(ints = {64, 32, 16})
    void lengthsMatchObjdump(int bits) throws Exception {
        Decoder decoder = new Decoder();
        Insn insn = new Insn();
        List<String> failures = new ArrayList<>();
        int count = 0;
        try (InputStream in = getClass().getResourceAsStream("/vectors/lengths-" + bits + ".txt.gz")) {
            assertNotNull(in);
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.US_ASCII));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#")) continue;
                String[] f = line.trim().split("\\s+");
                byte[] bytes = HexFormat.of().parseHex(f[0]);
                int want = Integer.parseInt(f[1]);
                decoder.decode(insn, k -> bytes[k] & 0xFF, bits / 8);
                count++;
                if (insn.length != want) {
                    failures.add(f[0] + " objdump " + want + " (" + (f.length > 2 ? f[2] : "") + "), ours " + insn.length
                            + " " + Op.name(insn.op));
                }
            }
        }
        assertTrue(count > 1000);
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + count + " lengths differ:\n" + String.join("\n", failures.subList(0, Math.min(60, failures.size()))));
        }
    }
}
