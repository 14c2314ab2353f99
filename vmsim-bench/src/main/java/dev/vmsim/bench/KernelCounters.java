package dev.vmsim.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counters of one simulated machine and mm at one instant: the vmstat events keyed by their
 * /proc/vmstat names, mmap_lock statistics, TLB statistics and frame counts. {@link #minus}
 * gives the counts of an interval.
 */
public final class KernelCounters {
    /** Marks a counter the kernel under test does not provide (yet). */
    public static final long UNAVAILABLE = -1;

    private final Map<String, Long> vmstat;
    private final long mmapLockAcquisitions;
    private final long mmapLockContended;
    private final long mmapLockWaitNs;
    private final long tlbHits;
    private final long tlbMisses;
    private final long pageTableFrames;
    private final long allocatedFrames;

    public KernelCounters(
            final Map<String, Long> vmstat,
            final long mmapLockAcquisitions,
            final long mmapLockContended,
            final long mmapLockWaitNs,
            final long tlbHits,
            final long tlbMisses,
            final long pageTableFrames,
            final long allocatedFrames) {
        this.vmstat = Collections.unmodifiableMap(new LinkedHashMap<>(vmstat));
        this.mmapLockAcquisitions = mmapLockAcquisitions;
        this.mmapLockContended = mmapLockContended;
        this.mmapLockWaitNs = mmapLockWaitNs;
        this.tlbHits = tlbHits;
        this.tlbMisses = tlbMisses;
        this.pageTableFrames = pageTableFrames;
        this.allocatedFrames = allocatedFrames;
    }

    /** vmstat counters keyed by kernel name (pgfault, vma_lock_success, ...), in VmEvent order. */
    public Map<String, Long> vmstat() {
        return vmstat;
    }

    /** One vmstat counter, 0 if absent. */
    public long vmstat(final String kernelName) {
        return vmstat.getOrDefault(kernelName, 0L);
    }

    public long mmapLockAcquisitions() {
        return mmapLockAcquisitions;
    }

    public long mmapLockContended() {
        return mmapLockContended;
    }

    public long mmapLockWaitNs() {
        return mmapLockWaitNs;
    }

    public long tlbHits() {
        return tlbHits;
    }

    public long tlbMisses() {
        return tlbMisses;
    }

    /** TLB shootdowns: IPIs sent to flush other CPUs (nr_tlb_remote_flush). */
    public long tlbShootdowns() {
        return vmstat("nr_tlb_remote_flush");
    }

    /** Frames holding page tables (pgd and below), or {@link #UNAVAILABLE}. */
    public long pageTableFrames() {
        return pageTableFrames;
    }

    public long allocatedFrames() {
        return allocatedFrames;
    }

    /**
     * The counts of the interval from {@code before} to this snapshot. Gauges (frames) keep this
     * snapshot's value; an unavailable counter stays unavailable.
     */
    public KernelCounters minus(final KernelCounters before) {
        final Map<String, Long> d = new LinkedHashMap<>();
        for (final Map.Entry<String, Long> e : vmstat.entrySet()) {
            d.put(e.getKey(), e.getValue() - before.vmstat(e.getKey()));
        }
        return new KernelCounters(
                d,
                delta(mmapLockAcquisitions, before.mmapLockAcquisitions),
                delta(mmapLockContended, before.mmapLockContended),
                delta(mmapLockWaitNs, before.mmapLockWaitNs),
                delta(tlbHits, before.tlbHits),
                delta(tlbMisses, before.tlbMisses),
                pageTableFrames,
                allocatedFrames);
    }

    private static long delta(final long after, final long before) {
        return after == UNAVAILABLE || before == UNAVAILABLE ? UNAVAILABLE : after - before;
    }
}
