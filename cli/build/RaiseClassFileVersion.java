import java.io.IOException;
import java.io.OutputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.ClassModel;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeTransform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Build step of the {@code hv} jar (run by Maven after shading, as a single-file program): raises
 * the class files under a package prefix from an old class-file version to {@code 52} (Java 8),
 * with the StackMapTable attributes that version requires, so that the JDK's AOT cache can keep
 * them.
 *
 * <p>Why: picocli's class files are Java 5 (major version 49). A class older than 50 is verified by
 * the old type-inferencing verifier, which records no verification constraints, so the JDK 25 AOT
 * cache leaves out every such class that was linked during the training run ("Skipping ...: Old
 * class has been linked", {@code -Xlog:aot}); each {@code hv} start then loads, parses and verifies
 * about 170 picocli classes from the jar, the largest single part of a short run's start-up. Each
 * method's code is rebuilt unchanged except for the stack maps the class-file API computes; every
 * rewritten class is checked with the class-file API's verifier here, and the JVM's type-checking
 * verifier checks it again when it is loaded. The jar records what was changed in
 * {@code META-INF/CHANGED-CLASS-FILES.txt}.
 *
 * <p>Context: build time only (Maven {@code package} phase of the cli module), never at run time.
 *
 * <p>Usage: {@code java RaiseClassFileVersion.java JAR PACKAGE-PREFIX...} (prefixes as {@code picocli/}).
 */
public final class RaiseClassFileVersion {
    static final int TARGET_MAJOR = ClassFile.JAVA_8_VERSION;
    static final String RECORD = "META-INF/CHANGED-CLASS-FILES.txt";

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: java RaiseClassFileVersion.java JAR PACKAGE-PREFIX...");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        List<String> prefixes = List.of(args).subList(1, args.length);
        Path out = jar.resolveSibling(jar.getFileName() + ".tmp");
        List<String> raised = new ArrayList<>(), problems = new ArrayList<>();
        try (ZipFile in = new ZipFile(jar.toFile());
             URLClassLoader jarClasses = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
             OutputStream file = Files.newOutputStream(out);
             ZipOutputStream zip = new ZipOutputStream(file)) {
            // Stack maps name the common supertype where branches merge: the JDK's classes and the jar's.
            ClassFile cf = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
                            .orElse(ClassHierarchyResolver.ofResourceParsing(jarClasses))));
            for (var entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry e = entries.nextElement();
                if (e.getName().equals(RECORD)) continue;
                byte[] bytes = in.getInputStream(e).readAllBytes();
                if (e.getName().endsWith(".class") && prefixes.stream().anyMatch(e.getName()::startsWith)) {
                    ClassModel model = cf.parse(bytes);
                    if (model.majorVersion() < TARGET_MAJOR) {
                        bytes = raise(cf, model);
                        for (var error : cf.verify(bytes)) problems.add(e.getName() + ": " + error.getMessage());
                        raised.add(e.getName() + " (major version " + model.majorVersion() + " -> " + TARGET_MAJOR + ")");
                    }
                }
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(e.getTime());
                zip.putNextEntry(copy);
                zip.write(bytes);
                zip.closeEntry();
            }
            ZipEntry record = new ZipEntry(RECORD);
            zip.putNextEntry(record);
            zip.write(("Class files changed by the build (cli/build/RaiseClassFileVersion.java): class-file version\n"
                    + "raised and stack maps added, code otherwise unchanged, so that the JDK's AOT cache can keep them.\n\n"
                    + String.join("\n", raised) + "\n").getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(out);
            throw e;
        }
        if (raised.isEmpty()) { // already raised (an earlier build): the jar stays as it is
            Files.deleteIfExists(out);
            System.out.println("RaiseClassFileVersion: no class files older than version " + TARGET_MAJOR + " under " + prefixes + " in " + jar);
            return;
        }
        if (!problems.isEmpty()) {
            Files.deleteIfExists(out);
            problems.forEach(System.err::println);
            System.err.println("RaiseClassFileVersion: " + problems.size() + " verification errors; " + jar + " left unchanged");
            System.exit(1);
        }
        Files.move(out, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.println("RaiseClassFileVersion: " + raised.size() + " class files raised to version " + TARGET_MAJOR + " in " + jar);
    }

    /** The same class at version 52: every method's code rebuilt (so its stack maps are computed). */
    static byte[] raise(ClassFile cf, ClassModel model) {
        return cf.transformClass(model, ClassTransform.transformingMethodBodies(CodeTransform.ACCEPT_ALL)
                .andThen((builder, element) -> {
                    if (element instanceof ClassFileVersion) builder.withVersion(TARGET_MAJOR, 0);
                    else builder.with(element);
                }));
    }
}
