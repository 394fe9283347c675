package lhv.hypervisor.vm;

import com.fasterxml.jackson.databind.JsonNode;
import lhv.hypervisor.config.VmConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `hv run` with no config and no image: the built-in demo guest, end to end. */
class DemoRunTest {
    static Runs demo;

    @BeforeAll
    static void runDemo() throws Exception {
        demo = Runs.run(VmConfig.defaults());
    }

    @Test
    void endsWithHltAndFreesEverything() {
        assertEquals(0, demo.result.status(), demo.errors);
        assertFalse(demo.result.failure());
        assertEquals("the guest halted with interrupts disabled", demo.result.why());
        assertEquals(0, demo.result.regionsLeft());
        // guest memory, 4 host regions, VMXON, VMCS, I/O bitmaps A and B, MSR bitmap, 3 MSR areas
        assertEquals(13, demo.result.regionsAllocated());
        assertTrue(demo.board.closed);
        assertEquals("", demo.errors);
    }

    @Test
    void printsTheSeedsDebugLinesInOrder() {
        assertTrue(demo.console.contains("VM exit reason is [30] IO_INSTRUCTION\nI/O read of port 0x8000: no device, all ones\n"),
                demo.console);
        List<String> lines = demo.console.lines().filter(l -> !l.startsWith("vmcall ") && !l.startsWith("I/O ")).toList();
        assertEquals("VMX support present! continuing...", lines.get(0));
        assertEquals("VMXON Region setup success", lines.get(1));
        assertEquals("VMCS Region setup success", lines.get(2));
        assertEquals("VMCS control fields set successfully", lines.get(3));
        for (int i = 4; i < lines.size() - 1; i++) assertTrue(lines.get(i).startsWith("VM exit reason is ["), lines.get(i));
        assertEquals("VM exit reason is [12] HLT", lines.get(lines.size() - 2));
        assertEquals("VMXOFF operation succeeded!", lines.getLast());
        assertEquals(demo.trace.size(), lines.size() - 5);
    }

    @Test
    void exitSequenceShowsEveryFeature() {
        assertEquals(List.of("CPUID", "CPUID", "IO_INSTRUCTION", "IO_INSTRUCTION", "IO_INSTRUCTION", "MSR_WRITE", "MSR_READ",
                "CR_ACCESS", "CR_ACCESS", "CR_ACCESS", "EXCEPTION_NMI", "VMCALL", "HLT"), demo.namesWithoutCounting());
        assertEquals(39, demo.trace.size());
        for (int i = 0; i < demo.trace.size(); i++) assertEquals(i + 1, demo.trace.get(i).get("seq").asInt());
    }

    @Test
    void guestReportsWhatEachFeatureDid() {
        String out = demo.uart;
        assertTrue(out.contains("signature 'LHVisor-Java', CPUID.1:ECX.VMX as seen = 0x0  exits=2"), out);
        assertTrue(out.contains("UART scratch): wrote 0x5a, read 0x5a  exits=2"), out);
        assertTrue(out.contains("no device): read 0xff  exits=1"), out);
        assertTrue(out.contains("IA32_SYSENTER_CS (in the MSR bitmap): wrote 0x10, read 0x10  exits=2"), out);
        assertTrue(out.contains("IA32_SYSENTER_ESP (not in the bitmap): wrote 0x1234, read 0x1234  exits=0"), out);
        // CR0 = host CR0 0x80050033 with PG hidden by the read shadow; after the write PG reads as 1.
        assertTrue(out.contains("from the shadow): 0x50033  exits=0"), out);
        assertTrue(out.contains("read back 0x80050033  exits=1"), out);
        assertTrue(out.contains("cr3       write of CR3-target value 0x200000  exits=0"), out);
        assertTrue(out.contains("cr3       write of non-target value 0x"), out);
        assertTrue(out.contains("handled by the guest's IDT, count 0x1  exits=1"), out);
        assertTrue(out.contains("hypercall 1 (print) returned  exits=1"), out);
        assertTrue(demo.console.contains("vmcall    hypercall 1 printed this line"), demo.console);
    }

    @Test
    void traceDecodesEachReason() {
        List<JsonNode> io = demo.trace.stream().filter(j -> j.get("name").asText().equals("IO_INSTRUCTION")).toList();
        assertEquals("0x3ff", io.get(0).get("port").asText());
        assertEquals("out", io.get(0).get("direction").asText());
        assertEquals("A", io.get(0).get("bitmap").asText());
        assertEquals("0x5a", io.get(0).get("value").asText());
        assertEquals("in", io.get(1).get("direction").asText());
        assertEquals("0x8000", io.get(2).get("port").asText());
        assertEquals("B", io.get(2).get("bitmap").asText());
        assertEquals("0xff", io.get(2).get("value").asText());
        assertEquals(1, io.get(2).get("size").asInt());
        // I/O exit qualification, SDM Table 28-5: port 0x8000 in bits 31:16, IN (bit 3), size 1.
        assertEquals("0x80000008", io.get(2).get("qualification").asText());

        List<JsonNode> cr = demo.trace.stream().filter(j -> j.get("name").asText().equals("CR_ACCESS")).toList();
        assertEquals(List.of(0, 4, 3), cr.stream().map(j -> j.get("cr").asInt()).toList());
        assertTrue(cr.stream().allMatch(j -> j.get("access").asText().equals("mov_to_cr")));

        JsonNode msr = demo.trace.stream().filter(j -> j.get("name").asText().equals("MSR_READ")).findFirst().orElseThrow();
        assertEquals("IA32_SYSENTER_CS", msr.get("msr_name").asText());
        assertEquals("0x10", msr.get("value").asText());

        JsonNode ex = demo.trace.stream().filter(j -> j.get("name").asText().equals("EXCEPTION_NMI")).findFirst().orElseThrow();
        assertEquals(6, ex.get("vector").asInt());
        assertEquals("#UD", ex.get("exception").asText());
        assertEquals(0, ex.get("reason").asInt());

        JsonNode hlt = demo.trace.getLast();
        assertEquals(12, hlt.get("reason").asInt());
        assertEquals(1, hlt.get("length").asInt());
        assertTrue(hlt.get("rip").asText().startsWith("0x100"));
    }
}
