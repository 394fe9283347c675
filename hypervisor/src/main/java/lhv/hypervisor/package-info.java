/** The seed's hypervisor in Java: VM configuration, VMX bring-up, exit handlers, exit loop, trace. */
package lhv.hypervisor;
