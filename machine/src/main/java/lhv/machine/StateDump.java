package lhv.machine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import lhv.cpu.Cpu;
import lhv.cpu.Segment;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The processor's final state as JSON ({@code --dump-state FILE}): general registers, RIP, RFLAGS,
 * control registers, EFER and segment selectors (grouped under "selectors", as {@code hv run}
 * writes them), every value a hex string ("0x...") so 64-bit values survive JSON readers that use
 * doubles; also the operating mode and the retired-instruction count.
 *
 * <p>Context: Java host, after a run.
 */
public final class StateDump {
    private static final String[] GPR_NAMES = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

    private StateDump() { }

    /** The state as an ordered map (names in the SDM's lower-case spelling). */
    public static Map<String, Object> of(Cpu cpu) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < 16; i++) m.put(GPR_NAMES[i], hex(cpu.gpr[i]));
        m.put("rip", hex(cpu.rip));
        m.put("rflags", hex(cpu.getRflags()));
        m.put("cr0", hex(cpu.cr0));
        m.put("cr2", hex(cpu.cr2));
        m.put("cr3", hex(cpu.cr3));
        m.put("cr4", hex(cpu.cr4));
        m.put("cr8", hex(cpu.cr8));
        m.put("efer", hex(cpu.efer));
        // Same shape as the hosted hypervisor's dump (hv run): selectors grouped in one object.
        Map<String, Object> selectors = new LinkedHashMap<>();
        for (int s = 0; s < 6; s++) selectors.put(Segment.NAMES[s].toLowerCase(java.util.Locale.ROOT), hex(cpu.seg[s].selector));
        selectors.put("ldtr", hex(cpu.ldtr.selector));
        selectors.put("tr", hex(cpu.tr.selector));
        m.put("selectors", selectors);
        m.put("mode", cpu.mode.name());
        m.put("instructions", cpu.instructionsRetired);
        return m;
    }

    /** Writes {@link #of} to {@code file}, pretty-printed. */
    public static void write(Cpu cpu, Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), of(cpu));
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
