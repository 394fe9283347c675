package lhv.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.FieldInstruction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VM entry and exit skip saving and loading a state group whose change counter did not move
 * (the change masks of {@code Cpu.watchStateChanges}; lhv.vmx.transition). That is only sound
 * while every write to that state goes through the counting setters. This test reads the bytecode
 * of every class of the product (all modules are on this module's class path) and fails for any
 * field store into the tracked fields outside the class that owns them. (The classes the translator
 * generates at run time store only RIP, the instruction start, the retired count and the
 * interpreter's budget: see the putfield sites of lhv.cpu.exec.Translator.)
 *
 * <p>Context: build-time check, plain JUnit over the compiled classes (java.lang.classfile).
 */
class StateWriteGuardTest {
    private static final Set<String> CPU_TRACKED = Set.of("cr0", "cr3", "cr4", "efer", "pat", "debugCtl", "sysenterCs",
            "sysenterEsp", "sysenterEip", "gdtrBase", "gdtrLimit", "idtrBase", "idtrLimit");
    private static final Set<String> SEGMENT_TRACKED = Set.of("selector", "base", "limit", "attributes");

    @Test
    void noClassStoresIntoTrackedStateDirectly() throws IOException {
        List<String> violations = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (byte[] bytes : productClasses()) {
            ClassModel cls = ClassFile.of().parse(bytes);
            seen.add(cls.thisClass().asInternalName());
            violations.addAll(directStores(cls));
        }
        // one class of every module, so that a class path without some module cannot pass unnoticed
        for (String c : List.of("lhv/cpu/Cpu", "lhv/cpu/sys/MsrFile", "lhv/vmx/transition/VmExit", "lhv/platform/loader/BootState",
                "lhv/machine/Machine", "lhv/hypervisor/setup/HostEnvironment", "lhv/cli/Main")) {
            assertTrue(seen.contains(c), c + " is among the scanned classes");
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void theScanFindsAStoreThatBypassesTheSetters() {
        // a class that writes cpu.cr3 and a segment base directly, as code that breaks the rule would
        byte[] bad = ClassFile.of().build(java.lang.constant.ClassDesc.of("lhv.cli.Bad"), cb -> cb.withMethodBody("poke",
                java.lang.constant.MethodTypeDesc.ofDescriptor("(Llhv/cpu/Cpu;Llhv/cpu/Segment;)V"), ClassFile.ACC_STATIC, code -> code
                        .aload(0).lconst_0().putfield(java.lang.constant.ClassDesc.of("lhv.cpu.Cpu"), "cr3", java.lang.constant.ConstantDescs.CD_long)
                        .aload(1).lconst_0().putfield(java.lang.constant.ClassDesc.of("lhv.cpu.Segment"), "base", java.lang.constant.ConstantDescs.CD_long)
                        .return_()));
        assertEquals(List.of("lhv/cli/Bad.poke stores lhv/cpu/Cpu.cr3", "lhv/cli/Bad.poke stores lhv/cpu/Segment.base"),
                directStores(ClassFile.of().parse(bad)));
    }

    private static List<String> directStores(ClassModel cls) {
        List<String> found = new ArrayList<>();
        String self = cls.thisClass().asInternalName();
        for (MethodModel m : cls.methods()) {
            CodeModel code = m.code().orElse(null);
            if (code == null) continue;
            for (var e : code) {
                if (!(e instanceof FieldInstruction f) || f.opcode() != Opcode.PUTFIELD) continue;
                String owner = f.owner().asInternalName(), name = f.name().stringValue();
                boolean tracked = owner.equals("lhv/cpu/Cpu") && CPU_TRACKED.contains(name)
                        || owner.equals("lhv/cpu/Segment") && SEGMENT_TRACKED.contains(name);
                if (tracked && !owner.equals(self)) found.add(self + "." + m.methodName().stringValue() + " stores " + owner + "." + name);
            }
        }
        return found;
    }

    /** Class files of packages lhv.* from every directory and jar on the class path except test classes. */
    private static List<byte[]> productClasses() throws IOException {
        List<byte[]> out = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (entry.contains("test-classes") || !Files.exists(p)) continue;
            if (Files.isDirectory(p)) {
                Path root = p.resolve("lhv");
                if (!Files.isDirectory(root)) continue;
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".class"))::iterator) out.add(Files.readAllBytes(f));
                }
            } else if (entry.endsWith(".jar")) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    for (Enumeration<JarEntry> en = jar.entries(); en.hasMoreElements(); ) {
                        JarEntry je = en.nextElement();
                        if (!je.getName().startsWith("lhv/") || !je.getName().endsWith(".class")) continue;
                        try (InputStream in = jar.getInputStream(je)) {
                            out.add(in.readAllBytes());
                        }
                    }
                }
            }
        }
        return out;
    }
}
