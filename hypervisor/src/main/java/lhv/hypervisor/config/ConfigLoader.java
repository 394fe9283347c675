package lhv.hypervisor.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import lhv.cpu.Vector;
import lhv.hypervisor.config.Node.Mapping;
import lhv.hypervisor.config.Node.Scalar;
import lhv.hypervisor.config.Node.Sequence;
import lhv.hypervisor.config.VmConfig.Controls;
import lhv.hypervisor.config.VmConfig.CrVirtualization;
import lhv.hypervisor.config.VmConfig.Guest;
import lhv.hypervisor.config.VmConfig.MsrEntry;
import lhv.hypervisor.config.VmConfig.Named;
import lhv.hypervisor.config.VmConfig.PortRange;
import lhv.hypervisor.config.VmConfig.SeedMistake;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a VM configuration (JSON, or YAML when the file ends in .yaml/.yml) into a {@link VmConfig}.
 * Every key missing from the file keeps its default ({@link VmConfig#defaults()}). Every mistake is
 * one {@link ConfigError} naming the line and column Jackson reports for the offending value.
 *
 * <p>Context: Java host, before the machine is built. Names that depend on the processor (control
 * bits) are only checked for spelling later, by the VMCS builder's ControlSelection, which keeps the
 * positions recorded here.
 */
public final class ConfigLoader {
    private static final Set<String> TOP_KEYS = Set.of("memory", "guest", "controls", "io-traps", "msr-traps",
            "cr0", "cr4", "exceptions", "stop-on-exceptions", "page-fault", "cr3-targets", "msr-areas", "cpuid",
            "preemption-timer", "seed-mistakes");

    private final String fileName;
    private final Path baseDir;

    private ConfigLoader(String fileName, Path baseDir) {
        this.fileName = fileName;
        this.baseDir = baseDir;
    }

    /** Loads {@code file}; an unreadable file is a ConfigError too. */
    public static VmConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigError(new Position(file.toString(), 0, 0), "cannot read config file: " + e.getMessage());
        }
        Path dir = file.toAbsolutePath().getParent();
        return parse(file.toString(), text, dir == null ? Path.of(".") : dir);
    }

    /** Parses {@code text}; YAML when the name ends in .yaml/.yml, otherwise JSON. */
    public static VmConfig parse(String fileName, String text, Path baseDir) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        boolean yaml = lower.endsWith(".yaml") || lower.endsWith(".yml");
        ConfigLoader loader = new ConfigLoader(fileName, baseDir);
        Node root = loader.readTree(yaml ? new YAMLFactory() : new JsonFactory(), new StringReader(text));
        return loader.build(root);
    }

    // ---- syntax: the located tree ----

    private Node readTree(JsonFactory factory, Reader in) {
        try (JsonParser p = factory.createParser(in)) {
            JsonToken t = p.nextToken();
            if (t == null) return new Mapping(new Position(fileName, 1, 1), Map.of(), Map.of());
            Node root = readValue(p);
            if (p.nextToken() != null) throw error(pos(p.currentTokenLocation()), "unexpected content after the configuration");
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String msg = e.getOriginalMessage();
            throw new ConfigError(loc == null ? new Position(fileName, 0, 0) : pos(loc),
                    "syntax error: " + msg.lines().findFirst().orElse(msg));
        } catch (IOException e) {
            throw new ConfigError(new Position(fileName, 0, 0), "cannot read config: " + e.getMessage());
        }
    }

    private Node readValue(JsonParser p) throws IOException {
        Position at = pos(p.currentTokenLocation());
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT -> {
                Map<String, Node> entries = new LinkedHashMap<>();
                Map<String, Position> keys = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    Position keyAt = pos(p.currentTokenLocation());
                    if (entries.containsKey(key)) throw error(keyAt, "duplicate key '" + key + "'");
                    p.nextToken();
                    entries.put(key, readValue(p));
                    keys.put(key, keyAt);
                }
                return new Mapping(at, entries, keys);
            }
            case START_ARRAY -> {
                List<Node> items = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) items.add(readValue(p));
                return new Sequence(at, items);
            }
            case VALUE_STRING -> { return new Scalar(at, p.getText()); }
            case VALUE_NUMBER_INT -> { return new Scalar(at, p.getBigIntegerValue()); }
            case VALUE_NUMBER_FLOAT -> { return new Scalar(at, p.getDecimalValue()); }
            case VALUE_TRUE -> { return new Scalar(at, Boolean.TRUE); }
            case VALUE_FALSE -> { return new Scalar(at, Boolean.FALSE); }
            case VALUE_NULL -> { return new Scalar(at, null); }
            default -> throw error(at, "unexpected " + t);
        }
    }

    private Position pos(JsonLocation loc) {
        return new Position(fileName, loc.getLineNr(), loc.getColumnNr());
    }

    private static ConfigError error(Position at, String message) {
        return new ConfigError(at, message);
    }

    // ---- meaning ----

    private VmConfig build(Node rootNode) {
        Mapping root = mapping(rootNode, "the configuration");
        checkKeys(root, TOP_KEYS, "");
        VmConfig d = VmConfig.defaults();

        long memory = d.memorySize();
        if (root.get("memory") != null) {
            memory = size(root.get("memory"), "memory");
            if (memory < (4L << 20) || memory % 4096 != 0 || memory > (1L << 32)) {
                throw error(root.get("memory").position(), "memory must be a multiple of 4 KiB between 4 MiB and 4 GiB");
            }
        }
        Guest guest = root.get("guest") == null ? d.guest() : guest(mapping(root.get("guest"), "guest"));
        Controls controls = root.get("controls") == null ? d.controls() : controls(mapping(root.get("controls"), "controls"), d.controls());

        List<PortRange> ports = d.ioTraps();
        if (root.get("io-traps") != null) ports = portRanges(sequence(root.get("io-traps"), "io-traps"));

        List<Integer> msrRead = d.msrReadTraps(), msrWrite = d.msrWriteTraps();
        if (root.get("msr-traps") != null) {
            Mapping m = mapping(root.get("msr-traps"), "msr-traps");
            checkKeys(m, Set.of("read", "write"), "msr-traps.");
            if (m.get("read") != null) msrRead = msrList(sequence(m.get("read"), "msr-traps.read"));
            if (m.get("write") != null) msrWrite = msrList(sequence(m.get("write"), "msr-traps.write"));
        }
        CrVirtualization cr0 = root.get("cr0") == null ? d.cr0() : crVirtualization(root.get("cr0"), "cr0");
        CrVirtualization cr4 = root.get("cr4") == null ? d.cr4() : crVirtualization(root.get("cr4"), "cr4");
        int exceptionBitmap = root.get("exceptions") == null ? d.exceptionBitmap() : vectors(root.get("exceptions"), "exceptions");
        int stop = root.get("stop-on-exceptions") == null ? d.stopOnExceptions() : vectors(root.get("stop-on-exceptions"), "stop-on-exceptions");
        int pfMask = d.pageFaultErrorCodeMask(), pfMatch = d.pageFaultErrorCodeMatch();
        if (root.get("page-fault") != null) {
            Mapping m = mapping(root.get("page-fault"), "page-fault");
            checkKeys(m, Set.of("mask", "match"), "page-fault.");
            if (m.get("mask") != null) pfMask = (int) number(m.get("mask"), "page-fault.mask", 0, 0xFFFFFFFFL);
            if (m.get("match") != null) pfMatch = (int) number(m.get("match"), "page-fault.match", 0, 0xFFFFFFFFL);
        }
        List<Long> cr3Targets = d.cr3Targets();
        if (root.get("cr3-targets") != null) {
            Sequence s = sequence(root.get("cr3-targets"), "cr3-targets");
            if (s.items().size() > VmConfig.MAX_CR3_TARGETS) {
                throw error(s.items().get(VmConfig.MAX_CR3_TARGETS).position(), "at most " + VmConfig.MAX_CR3_TARGETS
                        + " CR3-target values (SDM 25.6.7), found " + s.items().size());
            }
            List<Long> t = new ArrayList<>();
            for (Node n : s.items()) t.add(number(n, "a CR3-target value", 0, -1));
            cr3Targets = t;
        }
        List<MsrEntry> exitStore = d.exitMsrStore(), exitLoad = d.exitMsrLoad(), entryLoad = d.entryMsrLoad();
        if (root.get("msr-areas") != null) {
            Mapping m = mapping(root.get("msr-areas"), "msr-areas");
            checkKeys(m, Set.of("exit-store", "exit-load", "entry-load"), "msr-areas.");
            if (m.get("exit-store") != null) exitStore = msrEntries(sequence(m.get("exit-store"), "msr-areas.exit-store"));
            if (m.get("exit-load") != null) exitLoad = msrEntries(sequence(m.get("exit-load"), "msr-areas.exit-load"));
            if (m.get("entry-load") != null) entryLoad = msrEntries(sequence(m.get("entry-load"), "msr-areas.entry-load"));
        }
        boolean exposeVmx = d.exposeVmx();
        if (root.get("cpuid") != null) {
            Mapping m = mapping(root.get("cpuid"), "cpuid");
            checkKeys(m, Set.of("expose-vmx"), "cpuid.");
            if (m.get("expose-vmx") != null) exposeVmx = bool(m.get("expose-vmx"), "cpuid.expose-vmx");
        }
        long timer = d.preemptionTimer();
        if (root.get("preemption-timer") != null) timer = number(root.get("preemption-timer"), "preemption-timer", 0, 0xFFFFFFFFL);
        List<SeedMistake> mistakes = d.seedMistakes();
        if (root.get("seed-mistakes") != null) {
            mistakes = new ArrayList<>();
            for (Node n : sequence(root.get("seed-mistakes"), "seed-mistakes").items()) mistakes.add(seedMistake(n));
        }
        return new VmConfig(memory, guest, controls, ports, msrRead, msrWrite, cr0, cr4, exceptionBitmap, stop,
                pfMask, pfMatch, cr3Targets, exitStore, exitLoad, entryLoad, exposeVmx, timer, mistakes,
                new Position(fileName, 1, 1));
    }

    private Guest guest(Mapping m) {
        checkKeys(m, Set.of("image", "load-address", "entry", "stack-top"), "guest.");
        Guest d = Guest.demo();
        Path image = d.image();
        if (m.get("image") != null) {
            String name = string(m.get("image"), "guest.image");
            image = baseDir.resolve(name).normalize();
            if (!Files.isRegularFile(image)) throw error(m.get("image").position(), "guest image not found: " + image);
        }
        long load = m.get("load-address") == null ? d.loadAddress() : number(m.get("load-address"), "guest.load-address", 0, 0xFFFFFFFFL);
        long entry = m.get("entry") == null ? d.entry() : number(m.get("entry"), "guest.entry", 0, 0xFFFFFFFFL);
        long stack = m.get("stack-top") == null ? d.stackTop() : number(m.get("stack-top"), "guest.stack-top", 16, 0xFFFFFFFFL);
        return new Guest(image, load, entry, stack);
    }

    private Controls controls(Mapping m, Controls d) {
        checkKeys(m, Set.of("pin", "primary", "secondary", "exit", "entry"), "controls.");
        return new Controls(
                m.get("pin") == null ? d.pin() : names(m.get("pin"), "controls.pin"),
                m.get("primary") == null ? d.primary() : names(m.get("primary"), "controls.primary"),
                m.get("secondary") == null ? d.secondary() : names(m.get("secondary"), "controls.secondary"),
                m.get("exit") == null ? d.exit() : names(m.get("exit"), "controls.exit"),
                m.get("entry") == null ? d.entry() : names(m.get("entry"), "controls.entry"));
    }

    private List<Named> names(Node n, String what) {
        List<Named> out = new ArrayList<>();
        for (Node item : sequence(n, what).items()) out.add(new Named(string(item, "a control name in " + what), item.position()));
        return out;
    }

    private List<PortRange> portRanges(Sequence s) {
        List<PortRange> out = new ArrayList<>();
        for (Node n : s.items()) {
            if (n instanceof Mapping m) {
                checkKeys(m, Set.of("from", "to"), "io-traps[].");
                if (m.get("from") == null || m.get("to") == null) throw error(m.position(), "a port range needs 'from' and 'to'");
                int from = port(m.get("from")), to = port(m.get("to"));
                if (to < from) throw error(m.get("to").position(), "port range ends before it starts");
                out.add(new PortRange(from, to));
            } else {
                out.add(PortRange.of(port(n)));
            }
        }
        return out;
    }

    private int port(Node n) {
        long v = integer(n, "a port");
        if (v < 0 || v > 0xFFFF) {
            throw error(n.position(), "port " + hexOrText(n) + " is outside 0-0xFFFF (the I/O address space, SDM Vol. 1 19.2)");
        }
        return (int) v;
    }

    private List<Integer> msrList(Sequence s) {
        List<Integer> out = new ArrayList<>();
        for (Node n : s.items()) out.add(msr(n));
        return out;
    }

    private List<MsrEntry> msrEntries(Sequence s) {
        List<MsrEntry> out = new ArrayList<>();
        for (Node n : s.items()) {
            if (n instanceof Mapping m) {
                checkKeys(m, Set.of("msr", "value"), "msr area entry.");
                if (m.get("msr") == null) throw error(m.position(), "an MSR-area entry needs 'msr'");
                long value = m.get("value") == null ? 0 : number(m.get("value"), "an MSR value", 0, -1);
                out.add(new MsrEntry(msr(m.get("msr")), value));
            } else {
                out.add(new MsrEntry(msr(n), 0));
            }
        }
        return out;
    }

    /** An MSR by its SDM name (IA32_SYSENTER_CS) or by number. */
    private int msr(Node n) {
        if (n instanceof Scalar s && s.value() instanceof String text && !looksNumeric(text)) {
            Integer index = MsrNames.index(text);
            if (index == null) throw error(n.position(), "unknown MSR name '" + text + "' (use an SDM name such as IA32_SYSENTER_CS or a number)");
            return index;
        }
        return (int) number(n, "an MSR index", 0, 0xFFFFFFFFL);
    }

    private CrVirtualization crVirtualization(Node n, String what) {
        Mapping m = mapping(n, what);
        checkKeys(m, Set.of("mask", "shadow"), what + ".");
        long mask = m.get("mask") == null ? 0 : number(m.get("mask"), what + ".mask", 0, -1);
        Long shadow = null;
        Node s = m.get("shadow");
        if (s != null && !(s instanceof Scalar sc && "seed".equals(sc.value()))) shadow = number(s, what + ".shadow", 0, -1);
        return new CrVirtualization(mask, shadow);
    }

    /** Exceptions by mnemonic (PF, GP, UD...) or vector number; returns the bitmap. */
    private int vectors(Node n, String what) {
        int bits = 0;
        for (Node item : sequence(n, what).items()) {
            int vector;
            if (item instanceof Scalar s && s.value() instanceof String text && !looksNumeric(text)) {
                String mnemonic = text.trim().toUpperCase(Locale.ROOT);
                if (mnemonic.startsWith("#")) mnemonic = mnemonic.substring(1);
                Vector v = null;
                for (Vector c : Vector.values()) if (c.name().equals(mnemonic)) v = c;
                if (v == null) {
                    StringBuilder known = new StringBuilder();
                    for (Vector c : Vector.values()) known.append(known.isEmpty() ? "" : ", ").append(c.name());
                    throw error(item.position(), "unknown exception mnemonic '" + text + "' in " + what + " (expected one of " + known + ")");
                }
                vector = v.number;
            } else {
                vector = (int) number(item, "an exception vector", 0, 31);
            }
            bits |= 1 << vector;
        }
        return bits;
    }

    private SeedMistake seedMistake(Node n) {
        String name = string(n, "a seed mistake");
        for (SeedMistake m : SeedMistake.values()) if (m.configName.equals(name)) return m;
        StringBuilder known = new StringBuilder();
        for (SeedMistake m : SeedMistake.values()) known.append(known.isEmpty() ? "" : ", ").append(m.configName);
        throw error(n.position(), "unknown seed mistake '" + name + "' (expected one of " + known + ")");
    }

    // ---- scalars ----

    private Mapping mapping(Node n, String what) {
        if (n instanceof Mapping m) return m;
        throw error(n.position(), what + " must be a mapping, found " + n.kind());
    }

    private Sequence sequence(Node n, String what) {
        if (n instanceof Sequence s) return s;
        throw error(n.position(), what + " must be a list, found " + n.kind());
    }

    private String string(Node n, String what) {
        if (n instanceof Scalar s && s.value() instanceof String text) return text;
        throw error(n.position(), what + " must be a string, found " + n.kind());
    }

    private boolean bool(Node n, String what) {
        if (n instanceof Scalar s && s.value() instanceof Boolean b) return b;
        throw error(n.position(), what + " must be true or false, found " + n.kind());
    }

    /** A number within [min, max] (max = -1: any 64-bit value). */
    private long number(Node n, String what, long min, long max) {
        long v = integer(n, what);
        if (max != -1 && (Long.compareUnsigned(v, max) > 0 || v < min)) {
            throw error(n.position(), what + " " + hexOrText(n) + " is outside " + min + "-0x" + Long.toHexString(max));
        }
        return v;
    }

    private long size(Node n, String what) {
        if (n instanceof Scalar s && s.value() instanceof String text) {
            String t = text.trim().toUpperCase(Locale.ROOT).replace(" ", "");
            long unit = 1;
            for (String[] suffix : new String[][] {{"GIB", "30"}, {"MIB", "20"}, {"KIB", "10"}, {"G", "30"}, {"M", "20"}, {"K", "10"}}) {
                if (t.endsWith(suffix[0])) {
                    unit = 1L << Integer.parseInt(suffix[1]);
                    t = t.substring(0, t.length() - suffix[0].length());
                    break;
                }
            }
            Long v = parseInteger(t);
            if (v == null) throw error(n.position(), what + " must be a size such as 16M or 0x1000000, found '" + text + "'");
            return v * unit;
        }
        return integer(n, what);
    }

    /** An integer given as a JSON/YAML number or as a string such as "0x3F8". */
    private long integer(Node n, String what) {
        if (n instanceof Scalar s) {
            if (s.value() instanceof BigInteger b) {
                if (b.bitLength() > 64 || b.signum() < 0 && b.bitLength() > 63) throw error(n.position(), what + " does not fit in 64 bits");
                return b.longValue();
            }
            if (s.value() instanceof String text) {
                Long v = parseInteger(text.trim());
                if (v != null) return v;
            }
        }
        throw error(n.position(), what + " must be an integer (decimal or 0x hex), found "
                + (n instanceof Scalar s && s.value() instanceof String t ? "'" + t + "'" : n.kind()));
    }

    private static boolean looksNumeric(String text) {
        return parseInteger(text.trim()) != null;
    }

    private static Long parseInteger(String t) {
        try {
            t = t.replace("_", "");
            if (t.startsWith("0x") || t.startsWith("0X")) return Long.parseUnsignedLong(t.substring(2), 16);
            if (t.isEmpty() || !Character.isDigit(t.charAt(0)) && t.charAt(0) != '-') return null;
            return Long.parseLong(t);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String hexOrText(Node n) {
        if (n instanceof Scalar s && s.value() instanceof BigInteger b) return "0x" + b.toString(16);
        return n instanceof Scalar s ? String.valueOf(s.value()) : n.kind();
    }

    private void checkKeys(Mapping m, Set<String> allowed, String prefix) {
        for (Map.Entry<String, Position> k : m.keyPositions().entrySet()) {
            if (!allowed.contains(k.getKey())) {
                throw error(k.getValue(), "unknown key '" + prefix + k.getKey() + "' (expected one of "
                        + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }
}
