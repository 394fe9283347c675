package lhv.hypervisor.vm;

import lhv.hypervisor.config.VmConfig;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** `hv run IMAGE` with the user's own guest: an ELF64 executable and a flat binary at another address. */
class ImageRunTest {
    /** mov eax, 0; mov ebx, 42; vmcall (hypercall 0: exit with status 42). */
    static final byte[] EXIT_42 = {(byte) 0xB8, 0, 0, 0, 0, (byte) 0xBB, 42, 0, 0, 0, 0x0F, 0x01, (byte) 0xC1};

    @Test
    void elf64EntersAtItsEntryPoint() throws Exception {
        // One PT_LOAD segment: 8 bytes of padding then the code, loaded at 0x200000; e_entry 0x200008.
        int codeOffset = 120;
        ByteBuffer b = ByteBuffer.allocate(codeOffset + 8 + EXIT_42.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, 0x200008).putLong(32, 64)
                .putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putInt(68, 5).putLong(72, codeOffset).putLong(80, 0x200000).putLong(88, 0x200000)
                .putLong(96, 8 + EXIT_42.length).putLong(104, 0x1000);
        for (int i = 0; i < 8; i++) b.put(codeOffset + i, (byte) 0xF4);   // HLT: would end with status 0
        b.put(codeOffset + 8, EXIT_42);
        Path elf = Files.createTempFile("guest", ".elf");
        Files.write(elf, b.array());
        Runs r = Runs.run(VmConfig.defaults(), o -> o.withImage(elf));
        assertEquals(42, r.result.status(), r.errors);
        assertEquals("0x200012", r.trace.getLast().get("rip").asText());
        assertEquals(0, r.result.regionsLeft());
        Files.delete(elf);
    }

    @Test
    void flatBinaryAtAConfiguredAddressAndStack() throws Exception {
        Path flat = Files.createTempFile("guest", ".bin");
        Files.write(flat, EXIT_42);
        Path dump = Files.createTempFile("state", ".json");
        Runs r = Runs.run(Runs.yaml("guest: {load-address: 0x300000, stack-top: 0x400007}"), o -> o.withImage(flat).withDumpState(dump));
        assertEquals(42, r.result.status(), r.errors);
        assertEquals("0x30000a", r.trace.getLast().get("rip").asText());
        String state = Files.readString(dump);
        // RSP = stack top aligned down to 16 (the seed's rule); RIP after the VMCALL; RBX = 42.
        assertEquals(true, state.contains("\"rsp\" : \"0x400000\""), state);
        assertEquals(true, state.contains("\"rip\" : \"0x30000d\""), state);
        assertEquals(true, state.contains("\"rbx\" : \"0x2a\""), state);
        Files.delete(flat);
        Files.delete(dump);
    }
}
