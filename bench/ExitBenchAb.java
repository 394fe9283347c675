import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares builds on the VM-exit benchmark inside one JVM: each jar gets a class loader of its own
 * and the runs alternate (jar 1, jar 2, ..., jar 1, ...), each {@code hv run -q --stats} of
 * guests/bench-cpuid as {@link ExitBench} does. On a shared machine separate processes land in
 * different speed modes (contention from other processes), which hides differences of a few per
 * cent between builds; runs that alternate in one process share the mode. Prints every round's
 * exits per CPU-second, then per jar the best and the median of the rounds after warm-up.
 *
 * <p>Context: a Java host program on built jars; run with bench/run-exit-ab.
 */
public final class ExitBenchAb {
    private static final Pattern CPU = Pattern.compile("CPU time ([\\d.]+) s: (\\d+) exits per CPU-second");
    /** Rounds left out of best and median: JIT warm-up. */
    private static final int WARM_UP = 3;

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ExitBenchAb ROUNDS JAR...");
            System.exit(2);
        }
        int rounds = Integer.parseInt(args[0]);
        String image = "guests/bench-cpuid/bench-cpuid.bin";
        List<String> jars = List.of(args).subList(1, args.length);
        List<Method> commandLines = new ArrayList<>();
        for (String jar : jars) {
            URLClassLoader loader = new URLClassLoader(new URL[] {new File(jar).toURI().toURL()}, ClassLoader.getPlatformClassLoader());
            commandLines.add(loader.loadClass("lhv.cli.Main").getMethod("commandLine"));
        }
        PrintStream out = System.out;
        List<List<Double>> rates = new ArrayList<>();
        for (int k = 0; k < jars.size(); k++) rates.add(new ArrayList<>());
        for (int r = 1; r <= rounds; r++) {
            StringBuilder line = new StringBuilder("round " + r + ":");
            for (int k = 0; k < jars.size(); k++) {
                Object commandLine = commandLines.get(k).invoke(null);
                Method execute = commandLine.getClass().getMethod("execute", String[].class);
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
                Object status;
                try {
                    status = execute.invoke(commandLine, (Object) new String[] {"run", "-q", "--stats", image});
                } finally {
                    System.setOut(out);
                }
                Matcher m = CPU.matcher(buf.toString(StandardCharsets.UTF_8));
                if (!Integer.valueOf(0).equals(status) || !m.find()) {
                    System.err.println(jars.get(k) + " round " + r + " failed (status " + status + "):\n" + buf);
                    System.exit(1);
                }
                double perCpuSecond = Long.parseLong(m.group(2)) / 1e6;
                rates.get(k).add(perCpuSecond);
                line.append(String.format("  %s %.2f M", new File(jars.get(k)).getName(), perCpuSecond));
            }
            out.println(line);
        }
        for (int k = 0; k < jars.size(); k++) {
            List<Double> later = new ArrayList<>(rates.get(k).subList(Math.min(WARM_UP, rounds - 1), rounds));
            Collections.sort(later);
            out.printf("%s: best %.2f M, median %.2f M exits per CPU-second (rounds %d-%d)%n", jars.get(k),
                    later.getLast(), later.get(later.size() / 2), Math.min(WARM_UP, rounds - 1) + 1, rounds);
        }
    }
}
