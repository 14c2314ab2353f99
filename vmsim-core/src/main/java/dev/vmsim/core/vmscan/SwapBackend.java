package dev.vmsim.core.vmscan;

import dev.vmsim.core.mm.MmStruct;

/**
 * What reclaim (shrink_folio_list, try_to_unmap_one) asks of swap: mm/swap_state.c,
 * mm/swapfile.c and mm/page_io.c seen from mm/vmscan.c and mm/rmap.c. Reclaim codes against this
 * interface; the swap device implements it, and {@link #NONE} is a machine without swap, where
 * anonymous folios cannot be reclaimed (can_reclaim_anon_pages is false).
 *
 * <p><b>Context.</b> Every call on a folio is made with the folio locked ({@link
 * dev.vmsim.core.phys.FolioWait#trylock}), as the kernel's callers hold it.
 */
public interface SwapBackend {
    /** pageout()'s results (enum pageout_t). */
    enum Pageout {
        /** Writeback could not start: keep the folio, try later. */
        PAGE_KEEP,
        /** Writeback cannot be done for this folio: put it back on the active list. */
        PAGE_ACTIVATE,
        /** Writeback started; the folio is under PG_writeback until it completes. */
        PAGE_SUCCESS,
        /** The folio was clean: nothing to write. */
        PAGE_CLEAN
    }

    /** can_reclaim_anon_pages: is there swap with a free slot? */
    boolean canReclaimAnon();

    /**
     * folio_alloc_swap (add_to_swap): a slot for an anonymous folio, and the folio in the swap cache
     * (PG_swapcache set, folio->swap = the entry, PG_dirty set so it is written), the swap cache
     * holding one reference on the folio (folio_ref_add in add_to_swap_cache: __remove_mapping later
     * freezes the refcount at 2, the isolation's and this one). False when no slot is free; the folio
     * is then activated.
     */
    boolean addToSwap(int cpu, long pfn);

    /**
     * try_to_unmap_one's anonymous branch, for one PTE that maps {@code pfn} in {@code mm}: takes
     * one more reference on the folio's swap slot (folio_dup_swap / swap_duplicate) and returns the
     * swap PTE to install, in {@code mm}'s architecture's swap-PTE layout, with SWP_EXCLUSIVE when
     * {@code exclusive}. Returns -1 when the slot cannot take another reference; the unmap then
     * stops and the folio stays mapped.
     */
    long swapPte(MmStruct mm, long pfn, boolean exclusive);

    /**
     * pageout → swap_writeout: starts writing the dirty folio to its slot. On PAGE_SUCCESS, PG_dirty
     * is clear, PG_writeback set, and the folio unlocked (swap_writeout unlocks it once the write is
     * submitted); the completion (after the device's modelled latency) calls {@link
     * Vmscan#folioEndWriteback}, which rotates a PG_reclaim folio to the inactive tail before
     * folio_end_writeback. A write that completed before returning leaves PG_writeback clear; reclaim
     * then relocks the folio and frees it at once. On the other results the folio stays locked.
     */
    Pageout pageout(int cpu, long pfn);

    /**
     * __remove_mapping for a swap-cache folio, whose refcount reclaim has frozen: __delete_from_swap_cache
     * and put_swap_folio. The slot stays for the swap PTEs that reference it; the folio is then
     * free to go.
     */
    void deleteFromSwapCache(long pfn);

    /**
     * swap_duplicate (copy_nonpresent_pte at fork): one more swap PTE references {@code entry}'s
     * slot. 0, or a negative errno when the slot cannot take another reference (the fork then fails).
     */
    int swapDuplicate(long entry);

    /**
     * free_swap_and_cache (zap_nonpresent_ptes): a swap PTE referencing {@code entry} is gone; the
     * slot's count drops, and a cached folio no one needs any more may leave the swap cache.
     */
    void freeSwapAndCache(long entry);

    /**
     * The sleep of reclaim_throttle ({@link ReclaimThrottle}): until {@code deadlineNs} on the
     * machine's clock, or earlier when {@code wakeOnWrite} and a swap write in flight completes;
     * the device's completions due by then have run on return. Without a device: a plain sleep.
     */
    default void throttle(final long deadlineNs, final boolean wakeOnWrite) {
        final dev.vmsim.core.clock.Platform p = dev.vmsim.core.clock.Platform.current();
        if (deadlineNs > p.now()) {
            p.sleepUntil(deadlineNs, "reclaim_throttle");
        }
    }

    /** A machine without swap. */
    SwapBackend NONE = new SwapBackend() {
        @Override
        public boolean canReclaimAnon() {
            return false;
        }

        @Override
        public boolean addToSwap(final int cpu, final long pfn) {
            return false;
        }

        @Override
        public long swapPte(final MmStruct mm, final long pfn, final boolean exclusive) {
            return -1;
        }

        @Override
        public Pageout pageout(final int cpu, final long pfn) {
            return Pageout.PAGE_ACTIVATE;
        }

        @Override
        public void deleteFromSwapCache(final long pfn) {
            throw new IllegalStateException("no swap: pfn " + pfn + " cannot be in the swap cache");
        }

        @Override
        public int swapDuplicate(final long entry) {
            throw new IllegalStateException("no swap: a swap PTE cannot exist");
        }

        @Override
        public void freeSwapAndCache(final long entry) {
            throw new IllegalStateException("no swap: a swap PTE cannot exist");
        }
    };
}
