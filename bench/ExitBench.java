import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The VM-exit benchmark: runs guests/bench-cpuid (1,000,000 CPUIDs, each a full VM-exit round trip:
 * exit, the Java CPUID handler, VMRESUME) with {@code hv run -q --stats} several times in one JVM and
 * prints each run's round trips per second of wall time and per CPU-second of the running thread.
 * The first runs include JIT warm-up; the best of the later ones is the steady-state figure. (One
 * {@code ./hv run -q --stats guests/bench-cpuid/bench-cpuid.bin} is the cold whole-process figure.)
 *
 * <p>Context: a Java host program on the built jar; run with bench/run-exit-bench.
 */
public final class ExitBench {
    private static final Pattern WALL = Pattern.compile("total exits (\\d+) in ([\\d.]+) s: (\\d+) exits/s");
    private static final Pattern CPU = Pattern.compile("CPU time ([\\d.]+) s: (\\d+) exits per CPU-second");

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        String image = args.length > 1 ? args[1] : "guests/bench-cpuid/bench-cpuid.bin";
        PrintStream out = System.out;
        long bestWall = 0, bestCpu = 0;
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            int status;
            try {
                status = lhv.cli.Main.commandLine().execute("run", "-q", "--stats", image);
            } finally {
                System.setOut(out);
            }
            String text = buf.toString(StandardCharsets.UTF_8);
            Matcher w = WALL.matcher(text), c = CPU.matcher(text);
            if (status != 0 || !w.find()) {
                System.err.println("run " + i + " failed (status " + status + "):\n" + text);
                System.exit(1);
            }
            long wall = Long.parseLong(w.group(3)), cpu = c.find() ? Long.parseLong(c.group(2)) : -1;
            out.printf("run %d: %s exits, %8d exits/s wall, %8d exits per CPU-second%n", i, w.group(1), wall, cpu);
            if (i > 1) {
                bestWall = Math.max(bestWall, wall);
                bestCpu = Math.max(bestCpu, cpu);
            }
        }
        out.printf("best after warm-up: %d exits/s wall, %d exits per CPU-second%n", bestWall, bestCpu);
    }
}
