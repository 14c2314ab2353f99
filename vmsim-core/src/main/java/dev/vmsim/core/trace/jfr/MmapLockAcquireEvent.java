package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * An mmap_lock acquisition, from trace_mmap_lock_start_locking to trace_mmap_lock_acquire_returned:
 * its duration is the time the task waited (spinning or asleep) for the lock.
 */
@Name("vmsim.mm.MmapLockAcquire")
@Label("mmap_lock Acquire")
@Category({"vmsim", "mm", "mmap_lock"})
@Description("mmap_lock_start_locking to mmap_lock_acquire_returned: the duration is the wait for the lock")
@StackTrace(false)
public final class MmapLockAcquireEvent extends VirtualSpanEvent {
    @Label("Write")
    public boolean write;

    @Label("Success")
    @Description("false: a trylock that failed, or a killable wait that was killed")
    public boolean success;
}
