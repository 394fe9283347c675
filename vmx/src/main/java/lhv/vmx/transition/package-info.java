/**
 * VM entries after the checks (SDM Vol. 3C chapter 27) and VM exits (chapter 28), with the MSR
 * areas both use.
 */
package lhv.vmx.transition;
