package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** lock_vma_under_rcu gave up (VMA_LOCK_ABORT): the fault falls back to the mmap_lock. */
@Name("vmsim.mm.VmaLockAbort")
@Label("VMA Lock Abort")
@Category({"vmsim", "mm"})
@Description(
        "lock_vma_under_rcu found no VMA, a write-locked one, or one that moved: VMA_LOCK_ABORT, mmap_lock fallback")
@StackTrace(false)
public final class VmaLockAbortEvent extends VirtualInstantEvent {
    @Label("Address")
    @MemoryAddress
    public long address;
}
