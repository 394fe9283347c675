/**
 * The VMX instructions (SDM Vol. 3C 31.3): {@link lhv.vmx.insn.X86VmxInstructions} is the x86
 * instruction path (mode/#UD/#GP checks, non-root VM exits, operands through the MMU, RFLAGS);
 * {@link lhv.vmx.insn.VmxOperations} is what each instruction does once those checks passed, shared
 * with the Java API of {@link lhv.vmx.Vmx}.
 */
package lhv.vmx.insn;
