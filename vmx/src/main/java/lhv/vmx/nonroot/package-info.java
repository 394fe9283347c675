/**
 * VMX non-root operation (SDM Vol. 3C chapter 26): {@link lhv.vmx.nonroot.Intercepts} decides for
 * every sensitive action whether it exits and how it behaves otherwise; the pure decisions (I/O and
 * MSR bitmaps, CR masks and shadows, exception bitmap) are small classes of their own.
 */
package lhv.vmx.nonroot;
