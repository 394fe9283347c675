/**
 * The VMX instructions (SDM Vol. 3C 31.3), one class per instruction for what it does once the
 * checks shared by all of them passed ({@link lhv.vmx.insn.Vmxon}, {@link lhv.vmx.insn.Vmxoff},
 * {@link lhv.vmx.insn.Vmclear}, {@link lhv.vmx.insn.Vmptrld}, {@link lhv.vmx.insn.VmreadVmwrite},
 * {@link lhv.vmx.insn.VmlaunchVmresume}, {@link lhv.vmx.insn.Vmcall}; failures through
 * {@link lhv.vmx.insn.VmFail}); {@link lhv.vmx.insn.X86VmxInstructions} is the x86 path in front of
 * them (mode/#UD/#GP checks, non-root VM exits, operands through the MMU, RFLAGS). The Java API of
 * {@link lhv.vmx.Vmx} calls the same classes.
 */
package lhv.vmx.insn;
