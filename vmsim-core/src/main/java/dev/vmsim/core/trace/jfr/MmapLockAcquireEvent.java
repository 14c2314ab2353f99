package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * An mmap_lock acquisition, from trace_mmap_lock_start_locking to trace_mmap_lock_acquire_returned:
 * its duration is the time the task waited (spinning or asleep) for the lock.
 */
@Name("vmsim.mm.MmapLockAcquire")
@Label("mmap_lock Acquire")
@Category({"vmsim", "mm", "mmap_lock"})
@Description("mmap_lock_start_locking to mmap_lock_acquire_returned: the duration is the wait for the lock")
@StackTrace(false)
public final class MmapLockAcquireEvent extends jdk.jfr.Event {
    @Label("Write")
    public boolean write;

    @Label("Success")
    @Description("false: a trylock that failed, or a killable wait that was killed")
    public boolean success;

    @Label("Virtual Time")
    @Description("Under --clock virtual: the simulated CPU's clock at the event, ns since the machine started (JFR's own"
            + " start time is the host's); 0 on the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualTime;

    @Label("Virtual Duration")
    @Description("Under --clock virtual: the duration in the simulated CPU's time (JFR's own duration is the host's); 0 on"
            + " the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualDuration;
}
