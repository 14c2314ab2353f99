package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** lock_vma_under_rcu gave up (VMA_LOCK_ABORT): the fault falls back to the mmap_lock. */
@Name("vmsim.mm.VmaLockAbort")
@Label("VMA Lock Abort")
@Category({"vmsim", "mm"})
@Description("lock_vma_under_rcu found no VMA, a write-locked one, or one that moved: VMA_LOCK_ABORT, mmap_lock fallback")
@StackTrace(false)
public final class VmaLockAbortEvent extends jdk.jfr.Event {
    @Label("Address")
    @MemoryAddress
    public long address;

    @Label("Virtual Time")
    @Description("Under --clock virtual: the simulated CPU's clock at the event, ns since the machine started (JFR's own"
            + " start time is the host's); 0 on the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualTime;
}
