package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** trace_mmap_lock_released: the mmap_lock is released (read or write). */
@Name("vmsim.mm.MmapLockRelease")
@Label("mmap_lock Release")
@Category({"vmsim", "mm", "mmap_lock"})
@StackTrace(false)
public final class MmapLockReleaseEvent extends jdk.jfr.Event {
    @Label("Write")
    public boolean write;

    @Label("Virtual Time")
    @Description("Under --clock virtual: the simulated CPU's clock at the event, ns since the machine started (JFR's own"
            + " start time is the host's); 0 on the host clock")
    @Timespan(Timespan.NANOSECONDS)
    public long virtualTime;
}
