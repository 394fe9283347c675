package lhv.cpu.exec;

import lhv.cpu.Cpu;
import lhv.cpu.StopReason;
import org.junit.jupiter.api.Test;

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
 * Replays vectors recorded on real x86-64 silicon by tools/gen-vectors/gen.py: each runs one
 * instruction snippet from given registers, flags and a 64-byte memory window at 0x200000, and
 * must end with the same registers, memory and (SDM-defined) flags.
 */
class DifferentialTest {

    @Test
    void integerInstructionsMatchSilicon() throws Exception {
        replay("/vectors/integer.txt.gz", Guest.long64(), 16, -1L);
    }

    /** Vectors recorded in compatibility mode (tools/gen-vectors/gen32.py), replayed as 32-bit protected-mode code. */
    @Test
    void thirtyTwoBitCodeMatchesSilicon() throws Exception {
        replay("/vectors/integer32.txt.gz", Guest.flat32(), 8, 0xFFFFFFFFL);
    }

    private void replay(String resource, Guest g, int regCount, long regMask) throws Exception {
        Cpu c = g.cpu;
        c.interpreter.setExtensions(true, true, true, true, true, true);   // every extension the vectors use (TZCNT, BMI1, BMI2, ADX...)
        HexFormat hex = HexFormat.of();
        List<String> failures = new ArrayList<>();
        int count = 0;
        try (InputStream in = getClass().getResourceAsStream(resource)) {
            assertNotNull(in, resource + " missing");
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.US_ASCII));
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("#")) continue;
                String[] f = line.split(";");
                String name = f[0];
                g.codeAt(Guest.CODE, f[1] + "f4");
                long[] inRegs = words(f[2]);
                long[] outRegs = words(f[4]);
                long mask = Long.parseLong(f[6], 16);
                for (int k = 0; k < 16; k++) c.gpr[k] = inRegs[k];
                c.gpr[Cpu.RSP] = Guest.STACK_TOP;
                c.setRflags(inRegs[16]);
                if (!f[3].equals("-")) g.codeAt(Guest.DATA, f[3]);
                c.rip = Guest.CODE;
                c.activityState = 0;
                StopReason stop = c.run(10_000);
                count++;
                StringBuilder why = new StringBuilder();
                if (stop != StopReason.HALTED) {
                    why.append(" stop=").append(stop).append(' ').append(c.notImplementedMessage)
                            .append(" fault=").append(c.interpreter.lastFault);
                } else {
                    for (int k = 0; k < regCount; k++) {
                        if (k != Cpu.RSP && (c.gpr[k] & regMask) != (outRegs[k] & regMask)) {
                            why.append(String.format(" r%d=%x want %x", k, c.gpr[k], outRegs[k]));
                        }
                    }
                    long fl = c.getRflags() & mask, want = outRegs[16] & mask;
                    if (fl != want) why.append(String.format(" flags=%x want %x (mask %x)", fl, want, mask));
                    if (!f[5].equals("-")) {
                        byte[] want64 = hex.parseHex(f[5]);
                        for (int k = 0; k < 64; k++) {
                            if ((byte) g.ram.b(Guest.DATA + k) != want64[k]) {
                                why.append(String.format(" mem[%d]=%02x want %02x", k, g.ram.b(Guest.DATA + k), want64[k]));
                                break;
                            }
                        }
                    }
                }
                if (!why.isEmpty()) failures.add(name + " in=" + f[2] + ":" + why);
            }
        }
        assertTrue(count > 1000, "too few vectors in " + resource + ": " + count);
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + count + " vectors differ, first ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
        }
    }

    private static long[] words(String s) {
        String[] p = s.trim().split(" ");
        long[] v = new long[p.length];
        for (int i = 0; i < p.length; i++) v[i] = Long.parseUnsignedLong(p[i], 16);
        return v;
    }
}
