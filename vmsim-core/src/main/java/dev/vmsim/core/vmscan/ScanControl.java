package dev.vmsim.core.vmscan;

import dev.vmsim.core.rmap.TlbUnmapBatch;

/**
 * struct scan_control (mm/vmscan.c), the fields this reclaim reads: how much to reclaim, at which
 * priority, who reclaims (kswapd or the allocating task: current_is_kswapd), and the running
 * totals. One per reclaim pass, owned by the reclaiming thread; it also carries that thread's
 * batched TLB flush (current->tlb_ubc).
 */
public final class ScanControl {
    /** DEF_PRIORITY: the first pass scans lru_size >> 12 folios. */
    public static final int DEF_PRIORITY = 12;
    /** SWAP_CLUSTER_MAX: the batch reclaim isolates and the direct reclaimer's goal. */
    public static final int SWAP_CLUSTER_MAX = 32;

    static final int DEACTIVATE_ANON = 1;

    /** nr_to_reclaim. */
    public long nrToReclaim = SWAP_CLUSTER_MAX;
    /** priority: scan (size >> priority) per pass; lowered as passes fail. */
    public int priority = DEF_PRIORITY;
    /** current_is_kswapd(): counts go to the *_kswapd events, else *_direct. */
    public final boolean kswapd;
    /** may_deactivate: DEACTIVATE_ANON when the inactive anon list is low (prepare_scan_control). */
    int mayDeactivate;
    /** nr_scanned: inactive folios looked at by shrink_folio_list. */
    public long nrScanned;
    /** nr_reclaimed: folios freed. */
    public long nrReclaimed;
    /**
     * sc->nr: what shrink_folio_list found over the pass (struct reclaim_stat, summed by
     * shrink_inactive_list): folios isolated (taken), found dirty or under writeback (dirty), under
     * writeback and already marked for reclaim (congested), under writeback (writeback), under
     * writeback and rotated for immediate reclaim by kswapd (immediate). shrink_node reads them to
     * decide whether to throttle.
     */
    long nrTaken;

    long nrDirty;
    long nrCongested;
    long nrWriteback;
    long nrImmediate;
    /** The CPU whose lru_add batch reclaim drains and whose free list gets the freed frames. */
    public final int cpu;
    /** current->tlb_ubc. */
    public final TlbUnmapBatch tlbUbc = new TlbUnmapBatch();

    public ScanControl(final boolean kswapd, final int cpu) {
        this.kswapd = kswapd;
        this.cpu = cpu;
    }
}
