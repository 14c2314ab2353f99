package dev.vmsim.core.phys;

/**
 * What the page allocator asks of reclaim (mm/vmscan.c seen from mm/page_alloc.c and mm/swap.c):
 * implemented by {@link dev.vmsim.core.vmscan.Vmscan}, installed with {@link
 * FrameAllocator#setReclaim}. An allocator without one never reclaims (a bare allocator in a unit
 * test).
 */
public interface PageReclaim {
    /** wakeup_kswapd: the zone fell to its low watermark. Never sleeps. */
    void wakeupKswapd();

    /**
     * try_to_free_pages: direct reclaim in the allocating task (counted allocstall). Returns the
     * pages reclaimed (the progress the slow path retries on).
     */
    long tryToFreePages(int cpu);

    /**
     * zone_reclaimable_pages (mm/vmscan.c): the folios on the zone's LRU lists that reclaim could
     * still free: the file lists, and the anon lists only while can_reclaim_anon_pages (swap with a
     * free slot); the zone's free pages when that is 0. Folios isolated by a reclaimer are off the
     * lists and not counted, as in the kernel. Read without lru_lock (zone_page_state_snapshot).
     */
    long zoneReclaimablePages();

    /**
     * lru_add_drain_all: every CPU's lru_add batch moved to the LRU lists, so that the folios they
     * hold are seen (and counted) by reclaim.
     */
    void lruAddDrainAll();

    /**
     * __folio_put's page_cache_release for a folio whose last reference went while it was on an
     * LRU list: lruvec_del_folio under lru_lock, PG_lru and PG_active cleared, before the frame is
     * freed.
     */
    void releaseLruFolio(long pfn);

    /**
     * The same for a batch whose last references went together (folios_put_refs): the folios of
     * {@code pfns[0..n)} that are on an LRU leave it under one hold of lru_lock.
     */
    void releaseLruFolios(long[] pfns, int n);
}
