package dev.vmsim.core.trace.jfr;

import jdk.jfr.Category;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** trace_mmap_lock_released: the mmap_lock is released (read or write). */
@Name("vmsim.mm.MmapLockRelease")
@Label("mmap_lock Release")
@Category({"vmsim", "mm", "mmap_lock"})
@StackTrace(false)
public final class MmapLockReleaseEvent extends VirtualInstantEvent {
    @Label("Write")
    public boolean write;
}
