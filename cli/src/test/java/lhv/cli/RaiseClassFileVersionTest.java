package lhv.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The build step that raises picocli's class files in {@code hv.jar} ({@code cli/build/RaiseClassFileVersion.java}),
 * run as the build runs it on a jar of picocli's own class files plus a file of another package: every
 * picocli class comes out at version 52 with the same instructions in every method, the JVM's verifier
 * accepts each one, the other entries are unchanged, and a second run leaves the jar alone.
 *
 * <p>Context: unit tests only; starts the JDK's single-file launcher in a child process.
 */
class RaiseClassFileVersionTest {
    @TempDir Path dir;

    @Test
    void picocliComesOutAtVersion52WithTheSameCode() throws Exception {
        Path picocli = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path jar = dir.resolve("hv.jar");
        byte[] other = "not a class of picocli".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> before = new TreeMap<>();
        try (ZipFile in = new ZipFile(picocli.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(jar))) {
            for (var entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry e = entries.nextElement();
                if (e.getName().startsWith("META-INF/versions/")) continue; // the shade plugin leaves module-info out too
                byte[] bytes = in.getInputStream(e).readAllBytes();
                before.put(e.getName(), bytes);
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(bytes);
                out.closeEntry();
            }
            before.put("lhv/Other.txt", other);
            out.putNextEntry(new ZipEntry("lhv/Other.txt"));
            out.write(other);
            out.closeEntry();
        }
        assertTrue(before.keySet().stream().filter(n -> n.endsWith(".class"))
                .allMatch(n -> ClassFile.of().parse(before.get(n)).majorVersion() < 50), "picocli is no longer Java 5: this step may be unneeded");

        assertEquals(0, raise(jar), "the build step failed");
        Map<String, byte[]> after = read(jar);
        String record = new String(after.remove("META-INF/CHANGED-CLASS-FILES.txt"), StandardCharsets.UTF_8);
        assertEquals(before.keySet(), after.keySet());
        List<String> classes = new ArrayList<>();
        for (var e : before.entrySet()) {
            String name = e.getKey();
            if (!name.endsWith(".class")) {
                assertArrayEquals(e.getValue(), after.get(name), name);
                continue;
            }
            classes.add(name.substring(0, name.length() - 6).replace('/', '.'));
            ClassModel old = ClassFile.of().parse(e.getValue()), raised = ClassFile.of().parse(after.get(name));
            assertEquals(52, raised.majorVersion(), name);
            assertEquals(opcodes(old), opcodes(raised), name);
            assertTrue(record.contains(name + " (major version 49 -> 52)"), name + " missing from the record");
        }

        // Initialising a class links it, and linking runs the JVM's type-checking verifier on every method.
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            for (String c : classes) assertEquals(loader, Class.forName(c, true, loader).getClassLoader(), c);
        }

        byte[] raisedJar = Files.readAllBytes(jar);
        assertEquals(0, raise(jar), "a second run failed");
        assertArrayEquals(raisedJar, Files.readAllBytes(jar), "a second run changed the jar");
        assertFalse(Files.exists(dir.resolve("hv.jar.tmp")));
    }

    /** Runs the build step as the cli module's POM does; returns its exit status. */
    static int raise(Path jar) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), Path.of("build", "RaiseClassFileVersion.java").toString(), jar.toString(), "picocli/")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    static Map<String, byte[]> read(Path jar) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (ZipFile in = new ZipFile(jar.toFile())) {
            for (var entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry e = entries.nextElement();
                m.put(e.getName(), in.getInputStream(e).readAllBytes());
            }
        }
        return m;
    }

    /** Each method's name, descriptor and instruction opcodes, in order. */
    static List<String> opcodes(ClassModel c) {
        List<String> out = new ArrayList<>();
        for (MethodModel m : c.methods()) {
            StringBuilder sb = new StringBuilder(m.methodName().stringValue()).append(m.methodType().stringValue()).append(':');
            m.code().ifPresent((CodeModel code) -> code.forEach(el -> {
                if (el instanceof Instruction i) sb.append(' ').append(i.opcode());
            }));
            out.add(sb.toString());
        }
        return out;
    }
}
