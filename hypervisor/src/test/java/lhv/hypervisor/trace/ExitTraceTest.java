package lhv.hypervisor.trace;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExitTraceTest {
    @Test
    void oneJsonObjectPerLineWithTheDesignKeysFirst() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ExitTrace t = new ExitTrace(out)) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("port", new ExitTrace.Hex(0x3F8));
            f.put("size", 1);
            f.put("direction", "out");
            f.put("rep", false);
            t.write(new ExitRecord(1, 30, "IO_INSTRUCTION", 0x3F80000L, 0x100010, 1, f));
            t.write(new ExitRecord(2, 12, "HLT", 0, 0x100011, 1, Map.of()));
        }
        assertEquals("""
                {"seq":1,"reason":30,"name":"IO_INSTRUCTION","qualification":"0x3f80000","rip":"0x100010","length":1,"port":"0x3f8","size":1,"direction":"out","rep":false}
                {"seq":2,"reason":12,"name":"HLT","qualification":"0x0","rip":"0x100011","length":1}
                """, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void statsCountByReason() {
        ExitStats s = new ExitStats();
        s.count(10, "CPUID");
        s.count(10, "CPUID");
        s.count(12, "HLT");
        s.finish(1000, 1_000_000_000L, -1);
        assertEquals(3, s.exits());
        assertEquals(2, s.count(10));
        assertEquals(3.0, s.exitsPerSecond(), 1e-9);
        assertEquals(0.001, s.mips(), 1e-12);
    }

    /**
     * The steady window starts at the last power-of-two exit count (from 2^16) at or below half the
     * run: here 2^18 of 600,000 exits, read at wall 2.0 s and CPU 1.5 s; the run ends at 4.0 s and
     * 3.5 s, so 337,856 exits in 2 s each way. A run under 2^17 exits has no steady window.
     */
    @Test
    void steadyStateWindowStartsAtTheLastPowerOfTwoInTheFirstHalf() {
        long[] wall = {0}, cpu = {0};
        ExitStats s = new ExitStats(() -> wall[0], () -> cpu[0]);
        for (int i = 1; i <= 600_000; i++) {
            // the clocks as they stand when exit i is counted
            wall[0] = i <= (1 << 18) ? 2_000_000_000L * i / (1 << 18) : 2_000_000_000L;
            cpu[0] = i <= (1 << 18) ? 1_500_000_000L * i / (1 << 18) : 1_500_000_000L;
            s.count(10, "CPUID");
        }
        wall[0] = 4_000_000_000L;
        cpu[0] = 3_500_000_000L;
        s.finish(600_000, 4_000_000_000L, 3_500_000_000L);
        assertEquals(337_856 / 2.0, s.steadyExitsPerSecond(), 1e-6);
        assertEquals(337_856 / 2.0, s.steadyExitsPerCpuSecond(), 1e-6);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.print(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains(
                "steady state (exits 262145-600000, after JIT warm-up): 168928 exits/s, 168928 exits per CPU-second"), out.toString(StandardCharsets.UTF_8));

        ExitStats shortRun = new ExitStats(() -> 5, () -> 5);
        for (int i = 0; i < (1 << 17) - 1; i++) shortRun.count(10, "CPUID");
        shortRun.finish(0, 1, 1);
        assertEquals(0, shortRun.steadyExitsPerSecond());
        ByteArrayOutputStream o2 = new ByteArrayOutputStream();
        shortRun.print(new PrintStream(o2, true, StandardCharsets.UTF_8));
        assertTrue(!o2.toString(StandardCharsets.UTF_8).contains("steady"), o2.toString(StandardCharsets.UTF_8));
    }

    /** Reasons below 128 are counted in an array, others in the map; the printout orders them by reason either way. */
    @Test
    void statsCountReasonsInAndOutsideTheArrayAndPrintThemInOrder() {
        ExitStats s = new ExitStats();
        s.count(200, "UNKNOWN_200");
        s.count(30, "IO_INSTRUCTION");
        s.count(200, "UNKNOWN_200");
        s.count(10, "CPUID");
        s.count(30, "IO_INSTRUCTION");
        s.count(30, "IO_INSTRUCTION");
        assertEquals(6, s.exits());
        assertEquals(1, s.count(10));
        assertEquals(3, s.count(30));
        assertEquals(2, s.count(200));
        assertEquals(0, s.count(12));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.print(new PrintStream(out, true, StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("""
                VM exits by reason:
                   10 CPUID                  1
                   30 IO_INSTRUCTION         3
                  200 UNKNOWN_200            2
                """), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void accessRightsDecoding() {
        assertEquals("type=b S=1 DPL=0 P=1 AVL=0 L=1 D/B=0 G=1", VmcsDump.accessRights(0xA09B));
        assertEquals("unusable", VmcsDump.accessRights(0x10000));
    }
}
