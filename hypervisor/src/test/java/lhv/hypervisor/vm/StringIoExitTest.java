package lhv.hypervisor.vm;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * OUTS under `hv run`: the hypervisor's emulation of a trapped string I/O instruction leaves the
 * same UART output and registers as the processor running it untrapped (address size, count
 * register and index register written back with the address size), and a REP count far beyond one
 * exit's chunk is emulated in chunks, each a VM exit, instead of in one unbounded loop.
 */
class StringIoExitTest {
    /**
     * lea rsi, [rel msg]; mov rax, 0xFFFFFFFF00000000; or rsi, rax; mov ecx, 5; or rcx, rax;
     * mov dx, 0x3F8; addr32 rep outsb (ESI and ECX: the upper halves are ignored, then cleared);
     * mov eax, 0; mov ebx, 42; vmcall (exit 42); msg: "hello".
     */
    static final byte[] ADDR32_REP_OUTSB = {
        0x48, (byte) 0x8D, 0x35, 0x26, 0, 0, 0,
        0x48, (byte) 0xB8, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
        0x48, 0x09, (byte) 0xC6,
        (byte) 0xB9, 5, 0, 0, 0,
        0x48, 0x09, (byte) 0xC1,
        0x66, (byte) 0xBA, (byte) 0xF8, 0x03,
        0x67, (byte) 0xF3, 0x6E,
        0x31, (byte) 0xC0,
        (byte) 0xBB, 42, 0, 0, 0,
        0x0F, 0x01, (byte) 0xC1,
        'h', 'e', 'l', 'l', 'o'};

    /** mov esi, 0x300000; mov ecx, 10000; mov dx, 0x3F8; rep outsb; mov eax, 0; mov ebx, 42; vmcall. */
    static final byte[] LONG_REP_OUTSB = {
        (byte) 0xBE, 0, 0, 0x30, 0,
        (byte) 0xB9, 0x10, 0x27, 0, 0,
        0x66, (byte) 0xBA, (byte) 0xF8, 0x03,
        (byte) 0xF3, 0x6E,
        0x31, (byte) 0xC0,
        (byte) 0xBB, 42, 0, 0, 0,
        0x0F, 0x01, (byte) 0xC1};

    private static Runs run(byte[] code, String ioTraps, Path dump) throws Exception {
        Path flat = Files.createTempFile("guest", ".bin");
        try {
            Files.write(flat, code);
            return Runs.run(Runs.yaml("guest: {load-address: 0x300000}\nio-traps: [" + ioTraps + "]"),
                    o -> o.withImage(flat).withDumpState(dump));
        } finally {
            Files.delete(flat);
        }
    }

    private static long ioExits(Runs r) {
        return r.trace.stream().map(e -> e.get("name").asText()).filter("IO_INSTRUCTION"::equals).count();
    }

    @Test
    void trappedOutsWithAddressSize32MatchesTheProcessorRunningItUntrapped() throws Exception {
        Path trappedState = Files.createTempFile("state", ".json"), nativeState = Files.createTempFile("state", ".json");
        Runs trapped = run(ADDR32_REP_OUTSB, "0x3F8", trappedState);
        Runs untrapped = run(ADDR32_REP_OUTSB, "0x80", nativeState);
        assertEquals(42, trapped.result.status(), trapped.errors);
        assertEquals(42, untrapped.result.status(), untrapped.errors);
        assertEquals(1, ioExits(trapped));
        assertEquals(0, ioExits(untrapped));
        assertEquals("hello", trapped.uart);
        assertEquals(untrapped.uart, trapped.uart);
        String t = Files.readString(trappedState), n = Files.readString(nativeState);
        assertTrue(t.contains("\"rsi\" : \"0x300032\""), t);    // ESI + 5, zero-extended
        assertTrue(t.contains("\"rcx\" : \"0x0\""), t);         // ECX = 0 clears RCX
        for (String reg : new String[] {"rsi", "rcx", "rdi", "rip"}) {
            assertEquals(field(n, reg), field(t, reg), reg + " differs between the emulation and the processor");
        }
        Files.delete(trappedState);
        Files.delete(nativeState);
    }

    @Test
    void aLongRepOutsIsEmulatedInChunksEachAnExit() throws Exception {
        Path state = Files.createTempFile("state", ".json");
        Runs r = run(LONG_REP_OUTSB, "0x3F8", state);
        assertEquals(42, r.result.status(), r.errors);
        assertEquals(10000, r.uart.length());
        assertEquals(3, ioExits(r), "4096 + 4096 + 1808 elements");
        long elements = 0;
        for (JsonNode e : r.trace) if (e.has("elements")) elements += e.get("elements").asLong();
        assertEquals(10000, elements, r.trace.toString());
        String s = Files.readString(state);
        assertTrue(s.contains("\"rsi\" : \"0x302710\""), s);
        Files.delete(state);
    }

    private static String field(String json, String name) {
        int i = json.indexOf("\"" + name + "\" : \"");
        return i < 0 ? null : json.substring(i, json.indexOf('"', i + name.length() + 6) + 1);
    }
}
