package lhv.hypervisor.trace;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The guest's architectural state when a run ends, as {@code --dump-state FILE} writes it: general
 * registers, RIP, RFLAGS, control registers, EFER and segment selectors (design.md).
 *
 * <p>Context: Java host, after the last VM exit. General registers other than RSP are not part of
 * the VMCS (SDM 27.1: VM exits leave them as the guest had them), so they come from the processor;
 * RSP, RIP, RFLAGS, CRs, EFER and selectors come from the VMCS guest-state area.
 */
public record GuestState(long[] gpr, long rip, long rflags, long cr0, long cr2, long cr3, long cr4,
                         long efer, int[] selectors) {
    private static final String[] GPR = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
    private static final String[] SEG = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};

    public void writeJson(OutputStream stream) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(stream)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            for (int i = 0; i < 16; i++) g.writeStringField(GPR[i], ExitTrace.hex(gpr[i]));
            g.writeStringField("rip", ExitTrace.hex(rip));
            g.writeStringField("rflags", ExitTrace.hex(rflags));
            g.writeStringField("cr0", ExitTrace.hex(cr0));
            g.writeStringField("cr2", ExitTrace.hex(cr2));
            g.writeStringField("cr3", ExitTrace.hex(cr3));
            g.writeStringField("cr4", ExitTrace.hex(cr4));
            g.writeStringField("efer", ExitTrace.hex(efer));
            g.writeObjectFieldStart("selectors");
            for (int i = 0; i < SEG.length; i++) g.writeStringField(SEG[i], ExitTrace.hex(selectors[i]));
            g.writeEndObject();
            g.writeEndObject();
        }
    }
}
