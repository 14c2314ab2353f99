package dev.vmsim.core.phys;

/**
 * What the allocation slow path calls when reclaim has failed (__alloc_pages_may_oom →
 * out_of_memory): implemented by the machine's OOM killer ({@code dev.vmsim.core.oom.OomKiller}).
 */
@FunctionalInterface
public interface OutOfMemory {
    /**
     * out_of_memory: true when it made progress (a victim was killed and reaped, or an earlier
     * victim is still on its way out) and the allocation should be retried; false when nothing
     * could be killed.
     */
    boolean outOfMemory(int cpu);
}
