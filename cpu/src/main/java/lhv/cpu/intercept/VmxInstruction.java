package lhv.cpu.intercept;

/** The VMX instructions the interpreter decodes and hands to {@link Virtualization#execute}. */
public enum VmxInstruction {
    VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME, VMCALL,
    INVEPT, INVVPID, VMFUNC
}
