import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The VM-exit benchmark: runs guests/bench-cpuid (10,000,000 CPUIDs, each a full VM-exit round trip:
 * exit, the Java CPUID handler, VMRESUME) with {@code ./hv run -q --stats}, each run a fresh process
 * started by the launcher as a user starts it (with its AOT cache and training profiles), and prints each run's round trips per second of wall time and per CPU-second of
 * the running thread, whole run including JIT warm-up (about 0.3 s of it), and the steady-state rate
 * {@code --stats} reports (from the last power-of-two exit count in the first half to the end). Fresh processes because
 * several runs in one JVM measure the JIT's profile pollution more than the product (each run's new
 * machine and translated-code classes make later runs' call sites megamorphic: their figures
 * scattered 1.9-4.4 M where fresh long runs agree within a few percent).
 *
 * <p>Context: a Java program in the repository root; run with bench/run-exit-bench [runs] [image].
 */
public final class ExitBench {
    private static final Pattern WALL = Pattern.compile("total exits (\\d+) in ([\\d.]+) s: (\\d+) exits/s");
    private static final Pattern CPU = Pattern.compile("CPU time ([\\d.]+) s: (\\d+) exits per CPU-second");
    private static final Pattern STEADY = Pattern.compile("steady state \\(exits (\\d+)-\\d+, after JIT warm-up\\): (\\d+) exits/s(?:, (\\d+) exits per CPU-second)?");

    public static void main(String[] args) throws IOException, InterruptedException {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String image = args.length > 1 ? args[1] : "guests/bench-cpuid/bench-cpuid.bin";
        long bestWall = 0, bestCpu = 0, bestSteady = 0;
        List<Long> cpus = new ArrayList<>(), steadies = new ArrayList<>();
        for (int i = 1; i <= runs; i++) {
            Process p = new ProcessBuilder("./hv", "run", "-q", "--stats", image).redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = p.waitFor();
            Matcher w = WALL.matcher(text), c = CPU.matcher(text), st = STEADY.matcher(text);
            if (status != 0 || !w.find()) {
                System.err.println("run " + i + " failed (status " + status + "):\n" + text);
                System.exit(1);
            }
            long wall = Long.parseLong(w.group(3)), cpu = c.find() ? Long.parseLong(c.group(2)) : -1;
            long steady = -1;
            if (st.find()) steady = st.group(3) != null ? Long.parseLong(st.group(3)) : Long.parseLong(st.group(2));
            System.out.printf("run %d: %s exits, %8d exits/s wall, %8d exits per CPU-second; steady state %8d per CPU-second%n",
                    i, w.group(1), wall, cpu, steady);
            bestWall = Math.max(bestWall, wall);
            bestCpu = Math.max(bestCpu, cpu);
            bestSteady = Math.max(bestSteady, steady);
            cpus.add(cpu);
            steadies.add(steady);
        }
        cpus.sort(null);
        steadies.sort(null);
        System.out.printf("best: %d exits/s wall, %d exits per CPU-second; median %d per CPU-second%n",
                bestWall, bestCpu, cpus.get(cpus.size() / 2));
        System.out.printf("steady state (the run's second half and more, after JIT warm-up): best %d, median %d exits per CPU-second%n",
                bestSteady, steadies.get(steadies.size() / 2));
    }
}
