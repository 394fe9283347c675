package lhv.hypervisor.config;

import lhv.cpu.Msr;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * MSR names as the SDM spells them (Vol. 4 Table 2-2), both ways, taken from the processor's own
 * table {@link Msr} so there is one list of MSRs in the product.
 *
 * <p>Context: Java host (config parsing, trace and report formatting).
 */
public final class MsrNames {
    private static final Map<String, Integer> BY_NAME = new HashMap<>();
    private static final Map<Integer, String> BY_INDEX = new HashMap<>();

    static {
        for (Field f : Msr.class.getFields()) {
            if (f.getType() == int.class && Modifier.isStatic(f.getModifiers())) {
                try {
                    int index = f.getInt(null);
                    BY_NAME.put(f.getName(), index);
                    BY_INDEX.putIfAbsent(index, f.getName());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private MsrNames() { }

    /** The index of the MSR called {@code name} (case-insensitive), or null. */
    public static Integer index(String name) {
        return BY_NAME.get(name.trim().toUpperCase(Locale.ROOT));
    }

    /** The SDM name of MSR {@code index}, or its hex number. */
    public static String name(int index) {
        String n = BY_INDEX.get(index);
        return n != null ? n : "0x" + Integer.toHexString(index);
    }
}
