package dev.vmsim.core.swap;

import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.vmscan.SwapBackend;

/**
 * A machine's swap: one device ({@link SwapInfo}, type 0), its swap cache ({@link SwapCache}) and
 * its request queue ({@link SwapIo}), with the entry points of mm/swapfile.c, mm/swap_state.c and
 * mm/page_io.c that the fault path, zap, fork and reclaim call. Reclaim sees it as a {@link
 * SwapBackend}.
 *
 * <p><b>References.</b> A folio in the swap cache holds one reference of its own (add_to_swap_cache's
 * folio_ref_add), dropped by delete_from_swap_cache. A slot's swap_map count is its swap PTEs; its
 * SWAP_HAS_CACHE bit is the swap-cache folio. Only order-0 folios exist.
 *
 * <p><b>Folio lock.</b> Every change of a folio's swap-cache membership is made with the folio
 * locked (PG_locked), as in the kernel; a new folio for swap-in is locked before it is visible.
 *
 * <p>Departures: one swap device; get_swap_device takes no reference, so {@link Swapoff} does not
 * wait for its holders (a fault that read a swap PTE before swapoff changed it finds the PTE changed
 * under the PTL and retries, and the device's objects stay valid for it); no memcg, so
 * mem_cgroup_swap_full is vm_swap_full; no zswap, no SWP_SYNCHRONOUS_IO skip of the swap cache
 * (every swap-in goes through the cache, as for a block device); freed folios go back with
 * {@link #folioPut}, which does not yet take them off an LRU (mp-int wires the LRU).
 */
public final class Swap implements SwapBackend {
    private final Machine machine;
    private final SwapInfo si;
    private final SwapCache cache;
    private final SwapIo io;
    private final Swapin swapin;
    private final SwapParams params;

    public Swap(final Machine machine, final int type, final SwapParams params) {
        this.machine = machine;
        this.params = params;
        final PhysicalMemory mem = machine.memory();
        this.si = new SwapInfo(type, params.pages(), (int) mem.frameSize(), 64);
        this.cache = new SwapCache(params.pages());
        this.io = new SwapIo(
                params.readNs(),
                params.writeNs(),
                params.queueDepth(),
                machine.platform().isVirtual()
                        ? SwapIo.Mode.VIRTUAL
                        : machine.runsInline() ? SwapIo.Mode.SYNCHRONOUS : SwapIo.Mode.HOST);
        this.swapin = new Swapin(this);
    }

    public Machine machine() {
        return machine;
    }

    public SwapInfo info() {
        return si;
    }

    public SwapCache cache() {
        return cache;
    }

    public SwapIo io() {
        return io;
    }

    public SwapParams params() {
        return params;
    }

    /** swapin_readahead and read_swap_cache_async. */
    public Swapin swapin() {
        return swapin;
    }

    FrameAllocator frames() {
        return machine.frames();
    }

    MemMap memMap() {
        return machine.frames().memMap();
    }

    FolioWait folioWait() {
        return machine.frames().folioWait();
    }

    /** The entry of slot {@code offset} on this device. */
    public long entry(final long offset) {
        return SwpEntry.swpEntry(si.type(), offset);
    }

    private long offsetOf(final long entry) {
        if (SwpEntry.swpType(entry) != si.type()) {
            throw new IllegalArgumentException(
                    "swap entry of type " + SwpEntry.swpType(entry) + " on device " + si.type());
        }
        return SwpEntry.swpOffset(entry);
    }

    /** Is {@code entry} a slot of this device (get_swap_device succeeding)? */
    public boolean isOurs(final long entry) {
        return SwpEntry.swpType(entry) == si.type()
                && SwpEntry.swpOffset(entry) > 0
                && SwpEntry.swpOffset(entry) < si.pages();
    }

    // ---------------------------------------------------------------- mm/swapfile.c

    /** get_nr_swap_pages: free slots; none once swapoff has taken the device out of service. */
    public long nrSwapPages() {
        return si.writeOk() ? si.usablePages() - si.inusePages() : 0;
    }

    /** total_swap_pages: swapoff subtracts the device's pages as it starts, reinsert_swap_info adds them back. */
    public long totalSwapPages() {
        return si.writeOk() ? si.usablePages() : 0;
    }

    /** vm_swap_full: more than half of swap in use (nr_swap_pages * 2 &lt; total_swap_pages). */
    public boolean vmSwapFull() {
        return nrSwapPages() * 2 < totalSwapPages();
    }

    /** swap_duplicate: one more count reference (0, or a negative errno: the slot is free or at SWAP_MAP_MAX). */
    @Override
    public int swapDuplicate(final long entry) {
        return si.swapDuplicate(offsetOf(entry));
    }

    /** swap_free: drops one count reference; the slot is freed when nothing holds it any more. */
    public void swapFree(final long entry) {
        si.swapEntryPut(offsetOf(entry));
    }

    /** __swap_count: the slot's count without SWAP_HAS_CACHE. */
    public int swapCount(final long entry) {
        return si.swapCount(offsetOf(entry));
    }

    /**
     * free_swap_and_cache (zap of a swap PTE): drops the PTE's reference; if then only the swap cache
     * holds the slot, tries to reclaim the cached folio (__try_to_reclaim_swap with TTRS_UNMAPPED |
     * TTRS_FULL): when it is unmapped or swap is over half full, and it is not under writeback, it
     * leaves the swap cache and the slot is freed. A folio whose lock is taken is left alone
     * (folio_trylock), for reclaim to find.
     */
    @Override
    public void freeSwapAndCache(final long entry) {
        final long offset = offsetOf(entry);
        if (si.swapEntryPut(offset) == SwapInfo.SWAP_HAS_CACHE) {
            tryToReclaimSwap(entry);
        }
    }

    private void tryToReclaimSwap(final long entry) {
        final long pfn = swapCacheGetFolioNoRa(entry);
        if (pfn < 0) {
            return;
        }
        final FolioWait fw = folioWait();
        if (fw.trylock(pfn)) {
            try {
                final boolean needReclaim = frames().mapcount(pfn) == 0 || vmSwapFull();
                if (needReclaim && folioSwapcacheFreeable(pfn, entry)) {
                    deleteFromSwapCacheAndPut(pfn);
                    memMap().set(pfn, PageFlags.PG_DIRTY); // folio_set_dirty: its only copy is here now
                }
            } finally {
                fw.unlock(pfn);
            }
        }
        folioPut(pfn);
    }

    private boolean folioSwapcacheFreeable(final long pfn, final long entry) {
        final MemMap mm = memMap();
        return mm.test(pfn, PageFlags.PG_SWAPCACHE)
                && mm.privateValue(pfn) == entry
                && !mm.test(pfn, PageFlags.PG_WRITEBACK);
    }

    /**
     * folio_free_swap (try_to_free_swap): frees the swap-cache copy of a locked folio that no swap
     * PTE references any more (folio_swapped false) and is not under writeback; the folio is marked
     * dirty, since it is now the only copy. Returns whether it did.
     */
    public boolean folioFreeSwap(final long pfn) {
        final MemMap mm = memMap();
        if (!mm.test(pfn, PageFlags.PG_SWAPCACHE) || mm.test(pfn, PageFlags.PG_WRITEBACK)) {
            return false;
        }
        if (si.swapCount(offsetOf(mm.privateValue(pfn))) > 0) {
            return false;
        }
        deleteFromSwapCacheAndPut(pfn);
        mm.set(pfn, PageFlags.PG_DIRTY);
        return true;
    }

    /**
     * free_swap_cache (mm/swap_state.c), for a folio whose last mapping an unmap just removed: if it
     * is in the swap cache, no longer mapped, and its lock free, folio_free_swap.
     */
    public void freeSwapCache(final long pfn) {
        final MemMap mm = memMap();
        if (mm.test(pfn, PageFlags.PG_SWAPCACHE)
                && frames().mapcount(pfn) == 0
                && folioWait().trylock(pfn)) {
            try {
                folioFreeSwap(pfn);
            } finally {
                folioWait().unlock(pfn);
            }
        }
    }

    /** folio_put: drops a reference; the frame is freed with the last. The one place swap frees a folio. */
    public void folioPut(final long pfn) {
        frames().put(cpu(), pfn);
    }

    static int cpu() {
        final dev.vmsim.core.cpu.Cpu c = dev.vmsim.core.cpu.Cpu.current();
        return c == null ? 0 : c.id();
    }

    // ---------------------------------------------------------------- mm/swap_state.c

    /**
     * add_to_swap_cache: the locked folio {@code pfn} becomes the swap cache's for {@code entry}
     * (whose SWAP_HAS_CACHE the caller set): one reference for the cache, PG_swapcache and
     * PG_swapbacked set, folio->swap = entry. Returns false if the cache slot is taken (-EEXIST).
     */
    boolean addToSwapCache(final long pfn, final long entry) {
        final MemMap mm = memMap();
        mm.setPrivateValue(pfn, entry);
        mm.set(pfn, PageFlags.PG_SWAPBACKED);
        frames().get(pfn); // folio_ref_add(folio, nr): the cache's reference
        mm.set(pfn, PageFlags.PG_SWAPCACHE);
        if (!cache.insert(offsetOf(entry), pfn)) {
            mm.clear(pfn, PageFlags.PG_SWAPCACHE);
            mm.setPrivateValue(pfn, 0);
            folioPut(pfn);
            return false;
        }
        return true;
    }

    /**
     * __delete_from_swap_cache: removes the locked folio from the swap cache (PG_swapcache clear,
     * folio->swap = 0). Neither the folio's reference nor the slot's SWAP_HAS_CACHE is touched.
     * Returns the entry it had.
     */
    long deleteFromSwapCacheOnly(final long pfn) {
        final MemMap mm = memMap();
        final long entry = mm.privateValue(pfn);
        if (!mm.test(pfn, PageFlags.PG_SWAPCACHE)) {
            throw new IllegalStateException("pfn " + pfn + " is not in the swap cache");
        }
        if (!folioWait().isLocked(pfn)) {
            throw new IllegalStateException("__delete_from_swap_cache of unlocked pfn " + pfn);
        }
        cache.remove(offsetOf(entry), pfn);
        mm.setPrivateValue(pfn, 0);
        mm.clear(pfn, PageFlags.PG_SWAPCACHE);
        return entry;
    }

    /** delete_from_swap_cache: __delete_from_swap_cache, put_swap_folio, and the cache's reference dropped. */
    void deleteFromSwapCacheAndPut(final long pfn) {
        final long entry = deleteFromSwapCacheOnly(pfn);
        si.clearCache(offsetOf(entry));
        folioPut(pfn);
    }

    /**
     * swap_cache_get_folio: the folio the swap cache holds for {@code entry}, with a reference taken,
     * or -1. A folio that readahead brought in and no one has used yet (PG_readahead, which is
     * PG_reclaim's bit) counts a swap_ra_hit and loses the mark.
     */
    public long swapCacheGetFolio(final long entry) {
        io.reap(); // virtual clock: the completions this CPU's clock has passed
        final long pfn = swapCacheGetFolioNoRa(entry);
        if (pfn >= 0
                && memMap().testAndClear(pfn, PageFlags.PG_RECLAIM)
                && !memMap().test(pfn, PageFlags.PG_WRITEBACK)) {
            machine.vmstat().count(VmEvent.SWAP_RA_HIT);
        }
        return pfn;
    }

    /** filemap_get_folio on the swap cache: lookup, folio_try_get, recheck it is still that entry's. */
    long swapCacheGetFolioNoRa(final long entry) {
        final long offset = offsetOf(entry);
        for (; ; ) {
            final long pfn = cache.lookup(offset);
            if (pfn < 0) {
                return -1;
            }
            if (!frames().tryGet(pfn)) {
                if (cache.lookup(offset) == pfn) {
                    // Being freed: its removal from the cache is imminent. cpu_relax through the
                    // platform, so that under the virtual clock the freeing CPU gets to run.
                    Platform.current().spinWait();
                }
                continue;
            }
            if (memMap().test(pfn, PageFlags.PG_SWAPCACHE) && memMap().privateValue(pfn) == entry) {
                return pfn;
            }
            folioPut(pfn); // reused for something else since the lookup
            if (cache.lookup(offset) == pfn) {
                return -1;
            }
        }
    }

    // ---------------------------------------------------------------- SwapBackend (reclaim's side)

    /** can_reclaim_anon_pages: a free slot exists. */
    @Override
    public boolean canReclaimAnon() {
        return nrSwapPages() > 0;
    }

    /**
     * folio_alloc_swap + add_to_swap_cache (add_to_swap): a slot with SWAP_HAS_CACHE for the locked
     * anonymous folio, the folio in the swap cache and dirty (it must be written before it can go).
     */
    @Override
    public boolean addToSwap(final int cpu, final long pfn) {
        if (!folioWait().isLocked(pfn)) {
            throw new IllegalStateException("add_to_swap of unlocked pfn " + pfn);
        }
        final long offset = si.allocSlot(cpu);
        if (offset == 0) {
            return false;
        }
        final long entry = entry(offset);
        if (!addToSwapCache(pfn, entry)) {
            si.clearCache(offset); // put_swap_folio
            return false;
        }
        memMap().set(pfn, PageFlags.PG_DIRTY); // folio_mark_dirty
        // An anonymous folio is uptodate from birth (__folio_mark_uptodate in do_anonymous_page and
        // wp_page_copy, which do not keep the bit here); the swap cache needs it for do_swap_page.
        memMap().set(pfn, PageFlags.PG_UPTODATE);
        return true;
    }

    /**
     * try_to_unmap_one's swap step for one PTE of the swap-cache folio {@code pfn}: swap_duplicate
     * on its slot and the swap PTE in {@code mm}'s layout (exclusive when {@code exclusive}). The
     * caller installs it and counts MM_SWAPENTS up and MM_ANONPAGES down (try_to_unmap_one). -1 if
     * the slot cannot take another reference.
     */
    @Override
    public long swapPte(final MmStruct mm, final long pfn, final boolean exclusive) {
        final long entry = memMap().privateValue(pfn);
        if (!memMap().test(pfn, PageFlags.PG_SWAPCACHE) || swapDuplicate(entry) < 0) {
            return -1;
        }
        final PageTableFormat fmt = mm.pageTables().format();
        long pte = fmt.swpEntryToPte(entry);
        if (exclusive) {
            pte = fmt.pteSwpMkexclusive(pte);
        }
        return pte; // the caller counts MM_SWAPENTS as it installs it (try_to_unmap_one)
    }

    /**
     * pageout → swap_writeout → __swap_writepage for the locked swap-cache folio: folio_clear_dirty_for_io
     * (PAGE_CLEAN if it was clean), PG_reclaim set; a folio no swap PTE references any more just
     * leaves the swap cache (folio_free_swap) instead; otherwise folio_start_writeback, the folio
     * <b>unlocked</b> (as the kernel's writeout does: reclaim must not unlock it again), and a write
     * of its page to the slot submitted. The write's completion stores the page and calls
     * folio_end_writeback. Counts pswpout.
     */
    @Override
    public Pageout pageout(final int cpu, final long pfn) {
        io.reap();
        final MemMap mm = memMap();
        final FolioWait fw = folioWait();
        if (!mm.test(pfn, PageFlags.PG_SWAPCACHE)) {
            return Pageout.PAGE_ACTIVATE;
        }
        if (!mm.testAndClear(pfn, PageFlags.PG_DIRTY)) {
            return Pageout.PAGE_CLEAN;
        }
        mm.set(pfn, PageFlags.PG_RECLAIM);
        if (folioFreeSwap(pfn)) {
            mm.clear(pfn, PageFlags.PG_RECLAIM);
            fw.unlock(pfn);
            return Pageout.PAGE_SUCCESS;
        }
        final long entry = mm.privateValue(pfn);
        final long offset = offsetOf(entry);
        final long[] page = readFrame(pfn);
        mm.set(pfn, PageFlags.PG_WRITEBACK); // folio_start_writeback
        fw.unlock(pfn);
        machine.vmstat().count(VmEvent.PSWPOUT);
        io.submit(SwapIo.Op.WRITE, pfn, () -> {
            si.setData(offset, page);
            machine.vmscan().folioEndWriteback(pfn); // PG_reclaim: rotate to the inactive tail; then end writeback
        });
        return Pageout.PAGE_SUCCESS;
    }

    /**
     * __remove_mapping for a swap-cache folio whose refcount reclaim has frozen: __delete_from_swap_cache
     * and put_swap_folio. The folio's references are not touched (the freeze took them).
     */
    @Override
    public void deleteFromSwapCache(final long pfn) {
        final long entry = deleteFromSwapCacheOnly(pfn);
        si.clearCache(offsetOf(entry));
    }

    // ---------------------------------------------------------------- mm/page_io.c

    /** The page of {@code pfn} as words (what the write's DMA reads). */
    long[] readFrame(final long pfn) {
        return machine.memory().readFrame(pfn);
    }

    /**
     * swap_read_folio for the locked, new swap-cache folio {@code pfn}: submits the read of its slot;
     * the completion copies the page in, sets PG_uptodate and unlocks the folio (swap_read_end_io).
     * Counts pswpin.
     */
    void swapReadFolio(final long pfn, final long entry) {
        final long offset = offsetOf(entry);
        machine.vmstat().count(VmEvent.PSWPIN);
        io.submit(SwapIo.Op.READ, pfn, () -> {
            final long[] page = si.data(offset);
            if (page != null) {
                machine.memory().writeFrame(pfn, page);
            }
            memMap().set(pfn, PageFlags.PG_UPTODATE);
            folioWait().unlock(pfn);
        });
    }

    // ---------------------------------------------------------------- checks

    /**
     * The swap invariant, on a quiescent machine (no fault, unmap or I/O in flight): every slot's
     * count equals the swap PTEs that hold its entry over all live mms, SWAP_HAS_CACHE is set exactly
     * when the swap cache has a folio for it (which has PG_swapcache and folio->swap = the entry),
     * each mm's MM_SWAPENTS equals its swap PTEs, and inuse_pages counts the used slots. Throws
     * {@link IllegalStateException} at the first violation.
     */
    public void validate() {
        final int[] ptes = new int[(int) si.pages()];
        for (final MmStruct mm : machine.mms()) {
            final PageTableFormat fmt = mm.pageTables().format();
            final long[] n = {0};
            mm.pageTables().forEachPte(0, fmt.taskSize(), (va, pte) -> {
                if (fmt.isSwapSlotPte(pte)) {
                    final long entry = fmt.pteToSwpEntry(pte);
                    if (!isOurs(entry)) {
                        throw new IllegalStateException(
                                "swap PTE at 0x" + Long.toHexString(va) + " holds " + SwpEntry.describe(entry));
                    }
                    ptes[(int) SwpEntry.swpOffset(entry)]++;
                    n[0]++;
                }
            });
            if (n[0] != mm.pageTables().swapEnts()) {
                throw new IllegalStateException(
                        "MM_SWAPENTS " + mm.pageTables().swapEnts() + " but " + n[0] + " swap PTEs");
            }
        }
        long inuse = 0;
        for (long off = 1; off < si.pages(); off++) {
            final int count = si.swapCount(off);
            if (count != ptes[(int) off]) {
                throw new IllegalStateException(
                        "slot " + off + " has count " + count + " but " + ptes[(int) off] + " swap PTEs");
            }
            final long pfn = cache.lookup(off);
            if (si.hasCache(off) != (pfn >= 0)) {
                throw new IllegalStateException("slot " + off
                        + (si.hasCache(off)
                                ? " has SWAP_HAS_CACHE but no folio"
                                : " has a folio but no SWAP_HAS_CACHE"));
            }
            if (pfn >= 0 && (!memMap().test(pfn, PageFlags.PG_SWAPCACHE) || memMap().privateValue(pfn) != entry(off))) {
                throw new IllegalStateException("swap cache slot " + off + " holds pfn " + pfn + " with flags "
                        + PageFlags.format(memMap().flags(pfn)));
            }
            if (si.swapMap(off) != 0) {
                inuse++;
            }
        }
        if (inuse != si.inusePages()) {
            throw new IllegalStateException("inuse_pages " + si.inusePages() + " but " + inuse + " slots used");
        }
    }

    @Override
    public void throttle(final long deadlineNs, final boolean wakeOnWrite) {
        io.throttle(deadlineNs, wakeOnWrite);
    }

    /** Completes the I/O still in flight ({@link SwapIo#drain}). */
    public void drain() {
        io.drain();
    }

    /** Stops the device's completion thread. */
    public void close() {
        io.close();
    }
}
