package dev.vmsim.core.arch;

/**
 * One valid TLB entry as a teaching view shows it.
 *
 * @param va     the virtual address of the cached page
 * @param tag    the context tag: the PCID (x86) or ASID (arm64) the entry belongs to; ignored when global
 * @param global a global entry (x86 G, arm64 nG clear), which matches every context
 * @param pa     the physical address of the page
 * @param perms  the cached permissions, in the architecture's words (x86 "RW US NX D", arm64 "EL0:R W X")
 */
public record TlbEntry(long va, int tag, boolean global, long pa, String perms) {}
