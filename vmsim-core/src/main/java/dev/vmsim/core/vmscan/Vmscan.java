package dev.vmsim.core.vmscan;

import static dev.vmsim.core.vmscan.Lruvec.LRU_ACTIVE_ANON;
import static dev.vmsim.core.vmscan.Lruvec.LRU_INACTIVE_ANON;
import static dev.vmsim.core.vmscan.ScanControl.SWAP_CLUSTER_MAX;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.phys.PageReclaim;
import dev.vmsim.core.phys.Watermarks;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Page reclaim for one machine (one node, one zone): the LRU (mm/swap.c: folio_add_lru and its
 * per-CPU lru_add batches, lru_add_drain, folio_mark_accessed) and the classic two-list reclaim of
 * mm/vmscan.c (shrink_node → shrink_lruvec → shrink_active_list / shrink_inactive_list →
 * isolate_lru_folios → shrink_folio_list), entered by kswapd ({@link Kswapd}, balance_pgdat) and
 * by an allocation below the min watermark (try_to_free_pages, direct reclaim).
 *
 * <p>Anonymous folios are reclaimed only through {@link SwapBackend}: with {@link SwapBackend#NONE}
 * get_scan_count scans no anon list (can_reclaim_anon_pages is false) and nothing is reclaimed,
 * as in a kernel without swap.
 *
 * <p>Departures: no MGLRU (the classic lists, CONFIG_LRU_GEN off); no file LRU (always empty, so
 * get_scan_count's balance is SCAN_ANON whenever anon may be scanned); no memcg; folio_activate
 * moves the folio under lru_lock at once instead of through the per-CPU activate batch;
 * move_folios_to_lru drops the isolation references after lru_lock is released (a last reference
 * then frees through the ordinary put, which takes lru_lock itself).
 */
public final class Vmscan implements PageReclaim {
    private final Machine machine;
    private final FrameAllocator frames;
    private final MemMap memMap;
    private final FolioWait folioWait;
    private final VmStat vmstat;
    private final Lruvec lruvec;
    private final FolioBatch[] lruAdd;
    /** NR_ISOLATED_ANON: folios a reclaimer has taken off the LRU and not yet put back or freed. */
    private final AtomicLong nrIsolated = new AtomicLong();

    private final Kswapd kswapd;
    private final ReclaimThrottle throttle = new ReclaimThrottle();
    /**
     * PGDAT_WRITEBACK: kswapd found every folio it isolated under writeback, so folios cycle through
     * the LRU faster than they are written; set and cleared by kswapd, read by it (opaque enough:
     * volatile, a hint as the kernel's bit is).
     */
    private volatile boolean pgdatWriteback;
    /** LRUVEC_NODE_CONGESTED: every dirty folio a pass found was already under writeback for reclaim. */
    private volatile boolean lruvecCongested;
    /** The machine's swap; {@link SwapBackend#NONE} until one is set. */
    private volatile SwapBackend swap = SwapBackend.NONE;

    public Vmscan(final Machine machine, final int cpus) {
        this.machine = machine;
        this.frames = machine.frames();
        this.memMap = frames.memMap();
        this.folioWait = frames.folioWait();
        this.vmstat = machine.vmstat();
        this.lruvec = new Lruvec(memMap);
        this.lruAdd = new FolioBatch[Math.max(1, cpus)];
        for (int i = 0; i < lruAdd.length; i++) {
            lruAdd[i] = new FolioBatch();
        }
        this.kswapd = new Kswapd(this, machine.platform().isVirtual() || machine.runsInline());
    }

    public Machine machine() {
        return machine;
    }

    public Lruvec lruvec() {
        return lruvec;
    }

    public Kswapd kswapd() {
        return kswapd;
    }

    public SwapBackend swap() {
        return swap;
    }

    public void setSwap(final SwapBackend backend) {
        this.swap = java.util.Objects.requireNonNull(backend);
    }

    /** reclaim_throttle and its counts. */
    public ReclaimThrottle throttle() {
        return throttle;
    }

    @Override
    public long zoneReclaimablePages() {
        long nr = 0; // NR_ZONE_INACTIVE_FILE + NR_ZONE_ACTIVE_FILE: no file LRU here
        if (swap.canReclaimAnon()) {
            nr += lruvec.size(LRU_INACTIVE_ANON) + lruvec.size(LRU_ACTIVE_ANON);
        }
        return nr == 0 ? frames.zoneFreePagesRacy() : nr;
    }

    /**
     * too_many_isolated for the anon lists: a direct reclaimer finds more folios isolated than left
     * on the inactive list (GFP_HIGHUSER_MOVABLE may do I/O and FS, so the inactive count is divided
     * by 8 first). kswapd is never throttled here.
     */
    boolean tooManyIsolated(final ScanControl sc) {
        if (sc.kswapd) {
            return false;
        }
        final long inactive = lruvec.size(LRU_INACTIVE_ANON) >> 3;
        return nrIsolated.get() > inactive;
    }

    /** NR_ISOLATED_ANON. */
    public long nrIsolated() {
        return nrIsolated.get();
    }

    /** nr_active_anon (meminfo's Active(anon), in pages). */
    public long nrActiveAnon() {
        return lruvec.size(LRU_ACTIVE_ANON);
    }

    /** nr_inactive_anon (meminfo's Inactive(anon), in pages). */
    public long nrInactiveAnon() {
        return lruvec.size(LRU_INACTIVE_ANON);
    }

    /**
     * The folios now in {@code cpu}'s lru_add batch, oldest first: for views of a quiescent machine
     * (read without the batch's lock).
     */
    public long[] lruAddBatch(final int cpu) {
        final FolioBatch b = batchOf(cpu);
        return java.util.Arrays.copyOf(b.folios, b.count());
    }

    /** The number of per-CPU lru_add batches (one per possible CPU). */
    public int lruAddBatches() {
        return lruAdd.length;
    }

    private FolioBatch batchOf(final int cpu) {
        return lruAdd[Math.floorMod(cpu, lruAdd.length)];
    }

    // ------------------------------------------------------------------ LRU (mm/swap.c)

    /**
     * folio_add_lru_vma: a new anonymous folio of {@code vma} goes on the LRU through {@code cpu}'s
     * lru_add batch (an mlocked VMA's would go to the unevictable list: there is no mlock here, so
     * every folio goes to folio_add_lru).
     */
    public void folioAddLruVma(final int cpu, final long pfn, final Vma vma) {
        folioAddLru(cpu, pfn);
    }

    /**
     * folio_add_lru: takes a reference (folio_get) and adds the folio to {@code cpu}'s batch; a
     * full batch moves to the LRU at once (folio_batch_add_and_move). <b>Context:</b> the caller
     * holds a reference; the folio is on no LRU and in no batch.
     */
    public void folioAddLru(final int cpu, final long pfn) {
        frames.get(pfn);
        final FolioBatch b = batchOf(cpu);
        b.lock();
        try {
            if (b.add(pfn) == 0) {
                folioBatchMoveLru(b);
            }
        } finally {
            b.unlock();
        }
    }

    /**
     * folio_batch_move_lru with lru_add: every folio of the batch gets PG_lru and goes on its list
     * under lru_lock; then the batch's references are dropped (folios_put). <b>Context:</b> the
     * batch's local lock held.
     */
    private void folioBatchMoveLru(final FolioBatch b) {
        final int n = b.nr;
        if (n == 0) {
            return;
        }
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                lruAddOne(b.folios[i]);
            }
        } finally {
            lock.unlock();
        }
        b.nr = 0;
        frames.putBatch(cpuHint(), b.folios, n); // folios_put
    }

    /** lru_add: PG_lru set, then on its list. <b>Context:</b> lru_lock held. */
    private void lruAddOne(final long pfn) {
        assert !memMap.test(pfn, PageFlags.PG_LRU) : "lru_add of a folio already on an LRU, pfn " + pfn;
        memMap.set(pfn, PageFlags.PG_LRU);
        lruvec.addFolio(pfn);
    }

    /** lru_add_drain: moves {@code cpu}'s lru_add batch to the LRU. */
    public void lruAddDrain(final int cpu) {
        final FolioBatch b = batchOf(cpu);
        b.lock();
        try {
            folioBatchMoveLru(b);
        } finally {
            b.unlock();
        }
    }

    /**
     * lru_add_drain_all: every CPU's batch. Departure: the kernel queues the drain to each CPU and
     * waits for the work; here the caller drains each batch under its lock.
     */
    @Override
    public void lruAddDrainAll() {
        for (int i = 0; i < lruAdd.length; i++) {
            lruAddDrain(i);
        }
    }

    /** Folios waiting in the lru_add batches (racy). */
    /** Marks in {@code seen} every folio in an lru_add batch (validation on a quiescent machine). */
    void markBatched(final long[] seen) {
        for (final FolioBatch b : lruAdd) {
            for (int i = 0; i < b.count(); i++) {
                seen[(int) b.folios[i]]++;
            }
        }
    }

    public long batchedFolios() {
        long n = 0;
        for (final FolioBatch b : lruAdd) {
            n += b.count();
        }
        return n;
    }

    /**
     * folio_mark_accessed (mm/swap.c): a first access sets PG_referenced; a second, on an inactive
     * folio, activates it (folio_activate, counted pgactivate) and clears PG_referenced. A folio still
     * in an lru_add batch is only marked PG_active (__lru_cache_activate_folio) and goes on the
     * active list when the batch moves.
     */
    public void folioMarkAccessed(final long pfn) {
        if (!memMap.test(pfn, PageFlags.PG_REFERENCED)) {
            memMap.set(pfn, PageFlags.PG_REFERENCED);
            return;
        }
        if (memMap.test(pfn, PageFlags.PG_ACTIVE)) {
            return;
        }
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            if (memMap.test(pfn, PageFlags.PG_LRU)) {
                if (!memMap.test(pfn, PageFlags.PG_ACTIVE)) {
                    lruvec.delFolio(pfn, LRU_INACTIVE_ANON);
                    memMap.set(pfn, PageFlags.PG_ACTIVE);
                    lruvec.addFolio(pfn);
                    vmstat.count(VmEvent.PGACTIVATE);
                }
            } else {
                memMap.set(pfn, PageFlags.PG_ACTIVE); // in a batch (or isolated): active when it lands
            }
        } finally {
            lock.unlock();
        }
        memMap.clear(pfn, PageFlags.PG_REFERENCED);
    }

    @Override
    public void releaseLruFolio(final long pfn) {
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            lruvecDelFolio(pfn);
        } finally {
            lock.unlock();
        }
    }

    /** page_cache_release's part under lru_lock: off its list, PG_lru and PG_active cleared. */
    private void lruvecDelFolio(final long pfn) {
        if (memMap.test(pfn, PageFlags.PG_LRU)) {
            lruvec.delFolio(pfn, lruvec.folioLruList(pfn));
            memMap.clear(pfn, PageFlags.PG_LRU);
            memMap.clear(pfn, PageFlags.PG_ACTIVE);
        }
    }

    @Override
    public void releaseLruFolios(final long[] pfns, final int n) {
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                lruvecDelFolio(pfns[i]);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * folio_end_writeback (mm/filemap.c) as reclaim needs it: a folio pageout marked PG_reclaim
     * goes to the tail of the inactive list (folio_rotate_reclaimable) so the next pass frees it,
     * then PG_writeback clears and its waiters wake. The swap device's completion calls this.
     */
    public void folioEndWriteback(final long pfn) {
        if (memMap.testAndClear(pfn, PageFlags.PG_RECLAIM)) {
            folioRotateReclaimable(pfn);
        }
        folioWait.endWriteback(pfn);
    }

    /** folio_rotate_reclaimable: an inactive folio on the LRU moves to the tail of its list. */
    public void folioRotateReclaimable(final long pfn) {
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            if (memMap.test(pfn, PageFlags.PG_LRU) && !memMap.test(pfn, PageFlags.PG_ACTIVE)) {
                lruvec.delFolio(pfn, LRU_INACTIVE_ANON);
                lruvec.addFolioTail(pfn);
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ reclaim (mm/vmscan.c)

    /**
     * inactive_is_low: the inactive list is below its share of the pair: inactive * ratio &lt;
     * active, ratio = int_sqrt(10 * GiB of the two lists), at least 1.
     */
    public boolean inactiveIsLow() {
        final long inactive = lruvec.size(LRU_INACTIVE_ANON);
        final long active = lruvec.size(LRU_ACTIVE_ANON);
        final int pageShift = frames.memory().pageShift();
        final long gb = (inactive + active) >> (30 - pageShift);
        final long ratio = gb != 0 ? (long) Math.sqrt(10.0 * gb) : 1;
        return inactive * ratio < active;
    }

    /**
     * isolate_lru_folios: takes up to {@code nrToScan} folios from the tail of {@code lru}, each with
     * a reference (folio_try_get) and PG_lru cleared, into {@code dst}. A folio whose last
     * reference is going (the try_get fails) is moved to the head and left to its freer.
     * <b>Context:</b> lru_lock held.
     *
     * @return {nr_taken, nr_scanned}
     */
    long[] isolateLruFolios(final long nrToScan, final int lru, final long[] dst) {
        long scanned = 0;
        int taken = 0;
        while (scanned < nrToScan) {
            final long pfn = lruvec.tail(lru);
            if (pfn < 0) {
                break;
            }
            scanned++;
            if (!frames.tryGet(pfn)) {
                lruvec.delFolio(pfn, lru);
                lruvec.addFolio(pfn); // list_move(&folio->lru, src): its freer takes it off
                continue;
            }
            memMap.clear(pfn, PageFlags.PG_LRU);
            lruvec.delFolio(pfn, lru);
            dst[taken++] = pfn;
        }
        nrIsolated.addAndGet(taken);
        return new long[] {taken, scanned};
    }

    /**
     * move_folios_to_lru: the folios go back on the list their PG_active names, PG_lru set, under
     * lru_lock; then the isolation references are dropped (see the class comment).
     *
     * @return how many went on the active list
     */
    long moveFoliosToLru(final long[] folios, final int n) {
        long active = 0;
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            for (int i = 0; i < n; i++) {
                final long pfn = folios[i];
                memMap.set(pfn, PageFlags.PG_LRU);
                lruvec.addFolio(pfn);
                if (memMap.test(pfn, PageFlags.PG_ACTIVE)) {
                    active++;
                }
            }
        } finally {
            lock.unlock();
        }
        nrIsolated.addAndGet(-n);
        frames.putBatch(cpuHint(), folios, n);
        return active;
    }

    /** Folios isolate_lru_folios took ({@code folios[0..taken)}) and how many it scanned. */
    private record Isolated(long[] folios, int taken, long scanned) {}

    /** The start of both shrink_*_list: lru_add_drain, then isolate_lru_folios under lru_lock. */
    private Isolated drainAndIsolate(final int lru, final long nrToScan, final ScanControl sc) {
        lruAddDrain(sc.cpu);
        final Ptl lock = lruvec.lruLock();
        lock.lock();
        try {
            final long[] dst = new long[(int) Math.min(nrToScan, lruvec.size(lru))];
            final long[] r = isolateLruFolios(dst.length, lru, dst);
            return new Isolated(dst, (int) r[0], r[1]);
        } finally {
            lock.unlock();
        }
    }

    /**
     * shrink_active_list: isolates up to {@code nrToScan} active folios (pgrefill), clears the
     * young bits of their PTEs (folio_referenced), and deactivates them all (PG_workingset set,
     * pgdeactivate): a referenced anonymous folio is not kept active, only an executable file folio
     * is, and there are none here. The references were cleared, so the inactive list sees whether
     * the folio is used again.
     */
    public void shrinkActiveList(final long nrToScan, final ScanControl sc) {
        final Isolated iso = drainAndIsolate(LRU_ACTIVE_ANON, nrToScan, sc);
        vmstat.add(VmEvent.PGREFILL, iso.scanned());
        final long[] hold = iso.folios();
        final int n = iso.taken();
        final long[] vmFlags = new long[1];
        for (int i = 0; i < n; i++) {
            final long pfn = hold[i];
            Rmap.folioReferenced(frames, pfn, vmFlags); // referenced or not: deactivated (anon)
            memMap.clear(pfn, PageFlags.PG_ACTIVE);
            memMap.set(pfn, PageFlags.PG_WORKINGSET);
        }
        moveFoliosToLru(hold, n);
        vmstat.add(VmEvent.PGDEACTIVATE, n);
    }

    /**
     * shrink_inactive_list: drains this CPU's batch, isolates up to {@code nrToScan} inactive
     * folios (pgscan_kswapd / pgscan_direct), runs shrink_folio_list on them, puts the survivors
     * back and counts what was freed (pgsteal_kswapd / pgsteal_direct).
     */
    public long shrinkInactiveList(final long nrToScan, final ScanControl sc) {
        boolean stalled = false;
        while (tooManyIsolated(sc)) {
            if (stalled) {
                return 0;
            }
            stalled = true; // wait a bit for the other reclaimers
            throttle.throttle(swap, ReclaimThrottle.Reason.ISOLATED);
            if (Thread.currentThread().isInterrupted()) {
                return SWAP_CLUSTER_MAX; // about to die and free our memory: return now
            }
        }
        final Isolated iso = drainAndIsolate(LRU_INACTIVE_ANON, nrToScan, sc);
        vmstat.add(sc.kswapd ? VmEvent.PGSCAN_KSWAPD : VmEvent.PGSCAN_DIRECT, iso.scanned());
        vmstat.add(VmEvent.PGSCAN_ANON, iso.scanned());
        final long[] list = iso.folios();
        final int taken = iso.taken();
        if (taken == 0) {
            return 0;
        }
        sc.nrTaken += taken;
        final int[] kept = {0};
        final long reclaimed = shrinkFolioList(list, taken, sc, kept);
        moveFoliosToLru(list, kept[0]);
        vmstat.add(sc.kswapd ? VmEvent.PGSTEAL_KSWAPD : VmEvent.PGSTEAL_DIRECT, reclaimed);
        vmstat.add(VmEvent.PGSTEAL_ANON, reclaimed);
        return reclaimed;
    }

    /** folio_check_references' verdicts (enum folio_references). */
    enum FolioRef {
        RECLAIM,
        KEEP,
        ACTIVATE
    }

    /**
     * folio_check_references: the PTEs' young bits (folio_referenced, cleared as it reads them) and
     * PG_referenced decide. Referenced by two PTEs, or by one after an earlier pass already saw a
     * reference: activate. Referenced once for the first time: keep it on the inactive list with
     * PG_referenced, to see whether it is used again. Not referenced: reclaim.
     */
    FolioRef folioCheckReferences(final long pfn) {
        final long[] vmFlags = new long[1];
        final int referencedPtes = Rmap.folioReferenced(frames, pfn, vmFlags);
        final boolean referencedFolio = memMap.testAndClear(pfn, PageFlags.PG_REFERENCED);
        if ((vmFlags[0] & VmFlags.VM_LOCKED) != 0) {
            return FolioRef.ACTIVATE;
        }
        if (referencedPtes == -1) {
            return FolioRef.KEEP; // rmap lock contention: rotate
        }
        if (referencedPtes > 0) {
            memMap.set(pfn, PageFlags.PG_REFERENCED);
            if (referencedFolio || referencedPtes > 1) {
                return FolioRef.ACTIVATE;
            }
            return FolioRef.KEEP;
        }
        return FolioRef.RECLAIM;
    }

    /**
     * shrink_folio_list for isolated anonymous folios: locked with folio_trylock; under writeback:
     * PG_reclaim set and activated (case 2 of the kernel's three); referenced: activated or kept;
     * not in the swap cache: add_to_swap ({@link SwapBackend#addToSwap}, no slot: activate);
     * mapped: try_to_unmap with TTU_BATCH_FLUSH (still mapped: activate); dirty:
     * try_to_unmap_flush_dirty then pageout (PAGE_SUCCESS with writeback started: kept, the folio
     * unlocked by the write as swap_writeout leaves it; the completion rotates it to the tail); clean
     * and in the swap cache: __remove_mapping freezes the refcount at 2 (the isolation's and the
     * swap cache's), deletes it from the swap cache, and it is freed after try_to_unmap_flush.
     *
     * <p>The survivors are compacted to the front of {@code list}; their number goes in {@code
     * kept[0]}.
     *
     * @return folios freed (nr_reclaimed)
     */
    long shrinkFolioList(final long[] list, final int n, final ScanControl sc, final int[] kept) {
        final SwapBackend backend = swap;
        final long[] free = new long[n];
        int nrFree = 0;
        int nrKept = 0;
        long activated = 0;
        for (int i = 0; i < n; i++) {
            final long pfn = list[i];
            final Outcome o = shrinkOne(pfn, sc, backend);
            switch (o) {
                case FREE -> free[nrFree++] = pfn;
                case ACTIVATE_LOCKED -> {
                    memMap.set(pfn, PageFlags.PG_ACTIVE);
                    activated++;
                    folioWait.unlock(pfn);
                    list[nrKept++] = pfn;
                }
                case KEEP_LOCKED -> {
                    folioWait.unlock(pfn);
                    list[nrKept++] = pfn;
                }
                case KEEP -> list[nrKept++] = pfn;
            }
        }
        sc.tlbUbc.flush(); // try_to_unmap_flush, before any frame is reused
        for (int i = 0; i < nrFree; i++) {
            frames.freeFrozen(sc.cpu, free[i]);
        }
        nrIsolated.addAndGet(-nrFree);
        vmstat.add(VmEvent.PGACTIVATE, activated);
        kept[0] = nrKept;
        return nrFree;
    }

    /** Where shrink_folio_list's goto for one folio lands. */
    private enum Outcome {
        FREE,
        ACTIVATE_LOCKED,
        KEEP_LOCKED,
        KEEP
    }

    private Outcome shrinkOne(final long pfn, final ScanControl sc, final SwapBackend backend) {
        if (!folioWait.trylock(pfn)) {
            return Outcome.KEEP;
        }
        sc.nrScanned++;
        final boolean writeback = memMap.test(pfn, PageFlags.PG_WRITEBACK);
        if (writeback || memMap.test(pfn, PageFlags.PG_DIRTY)) {
            sc.nrDirty++; // folio_check_dirty_writeback
        }
        final boolean reclaimMarked = writeback && memMap.test(pfn, PageFlags.PG_RECLAIM);
        if (reclaimMarked) {
            sc.nrCongested++; // seen again before its write completed: cycling faster than written
        }
        if (writeback) {
            if (sc.kswapd && reclaimMarked && pgdatWriteback) {
                sc.nrImmediate++; // case 1: kswapd will throttle on writeback
                return Outcome.ACTIVATE_LOCKED;
            }
            memMap.set(pfn, PageFlags.PG_RECLAIM); // case 2: mark for immediate reclaim, scan on
            sc.nrWriteback++;
            return Outcome.ACTIVATE_LOCKED;
        }
        switch (folioCheckReferences(pfn)) {
            case ACTIVATE -> {
                return Outcome.ACTIVATE_LOCKED;
            }
            case KEEP -> {
                return Outcome.KEEP_LOCKED;
            }
            case RECLAIM -> {}
        }
        if (Rmap.folioTestAnon(memMap, pfn)
                && memMap.test(pfn, PageFlags.PG_SWAPBACKED)
                && !memMap.test(pfn, PageFlags.PG_SWAPCACHE)) {
            if (!backend.addToSwap(sc.cpu, pfn)) {
                return Outcome.ACTIVATE_LOCKED; // activate_locked_split: no slot
            }
            memMap.set(pfn, PageFlags.PG_DIRTY); // folio_mark_dirty: written even if the PTEs were clean
        }
        if (frames.mapcount(pfn) > 0) {
            if (!Rmap.tryToUnmap(machine, pfn, Rmap.TTU_BATCH_FLUSH, sc.tlbUbc)) {
                return Outcome.ACTIVATE_LOCKED; // nr_unmap_fail
            }
        }
        if (memMap.test(pfn, PageFlags.PG_DIRTY)) {
            sc.tlbUbc.flushDirty(); // no CPU may write it after the I/O starts
            memMap.set(pfn, PageFlags.PG_RECLAIM); // pageout: rotate when the write completes
            switch (backend.pageout(sc.cpu, pfn)) {
                case PAGE_KEEP -> {
                    memMap.clear(pfn, PageFlags.PG_RECLAIM);
                    return Outcome.KEEP_LOCKED;
                }
                case PAGE_ACTIVATE -> {
                    memMap.clear(pfn, PageFlags.PG_RECLAIM);
                    return Outcome.ACTIVATE_LOCKED;
                }
                case PAGE_SUCCESS -> {
                    if (memMap.test(pfn, PageFlags.PG_WRITEBACK) || memMap.test(pfn, PageFlags.PG_DIRTY)) {
                        return Outcome.KEEP; // unlocked by the write; freed on a later pass
                    }
                    // A synchronous write (the completion already ran): try to free it now.
                    if (!folioWait.trylock(pfn)) {
                        return Outcome.KEEP;
                    }
                    if (memMap.test(pfn, PageFlags.PG_DIRTY) || memMap.test(pfn, PageFlags.PG_WRITEBACK)) {
                        return Outcome.KEEP_LOCKED;
                    }
                }
                case PAGE_CLEAN -> memMap.clear(pfn, PageFlags.PG_RECLAIM);
            }
        }
        if (!memMap.test(pfn, PageFlags.PG_SWAPCACHE)) {
            return Outcome.KEEP_LOCKED; // !mapping: nothing to remove it from
        }
        return removeMapping(pfn, backend) ? Outcome.FREE : Outcome.KEEP_LOCKED;
    }

    /**
     * __remove_mapping for a swap-cache folio: folio_ref_freeze at 2 (the isolation's reference and
     * the swap cache's; anything more is a user that got in since, and the folio stays); a folio
     * dirtied meanwhile stays too; else __delete_from_swap_cache and put_swap_folio, and the folio,
     * unlocked, is free to go. PG_reclaim and PG_active are cleared for the free.
     */
    private boolean removeMapping(final long pfn, final SwapBackend backend) {
        if (!frames.refFreeze(pfn, 2)) {
            return false;
        }
        if (memMap.test(pfn, PageFlags.PG_DIRTY)) {
            frames.refUnfreeze(pfn, 2);
            return false;
        }
        backend.deleteFromSwapCache(pfn);
        memMap.clear(pfn, PageFlags.PG_RECLAIM);
        folioWait.unlock(pfn);
        return true;
    }

    /**
     * shrink_lruvec with get_scan_count: with swap that has a free slot (can_reclaim_anon_pages),
     * SCAN_ANON: each anon list is scanned (size &gt;&gt; priority) folios, in SWAP_CLUSTER_MAX
     * steps, inactive first (shrink_list: the active list only when may_deactivate), until
     * nr_to_reclaim is met; then the active list is aged if the inactive one is low. Without swap
     * nothing is scanned.
     */
    void shrinkLruvec(final ScanControl sc) {
        if (!swap.canReclaimAnon()) {
            return; // SCAN_FILE, and the file lists are empty
        }
        long nrInactive = lruvec.size(LRU_INACTIVE_ANON) >> sc.priority;
        long nrActive = lruvec.size(LRU_ACTIVE_ANON) >> sc.priority;
        long reclaimed = 0;
        final boolean proportional = !sc.kswapd && sc.priority == ScanControl.DEF_PRIORITY;
        while (nrInactive > 0) {
            final long scanInactive = Math.min(nrInactive, SWAP_CLUSTER_MAX);
            nrInactive -= scanInactive;
            reclaimed += shrinkInactiveList(scanInactive, sc);
            if (nrActive > 0) {
                final long scanActive = Math.min(nrActive, SWAP_CLUSTER_MAX);
                nrActive -= scanActive;
                if ((sc.mayDeactivate & ScanControl.DEACTIVATE_ANON) != 0) {
                    shrinkActiveList(scanActive, sc);
                }
            }
            if (reclaimed >= sc.nrToReclaim && !proportional) {
                break;
            }
        }
        sc.nrReclaimed += reclaimed;
        if (inactiveIsLow()) {
            shrinkActiveList(SWAP_CLUSTER_MAX, sc); // age the active list (can_age_anon_pages)
        }
    }

    /** shrink_node: prepare_scan_control, shrink_lruvec; progress clears kswapd's hopeless count. */
    void shrinkNode(final ScanControl sc) {
        sc.mayDeactivate = inactiveIsLow() ? ScanControl.DEACTIVATE_ANON : 0;
        final long before = sc.nrReclaimed;
        sc.nrTaken = sc.nrDirty = sc.nrCongested = sc.nrWriteback = sc.nrImmediate = 0; // memset(&sc->nr)
        shrinkLruvec(sc);
        if (sc.nrReclaimed > before) {
            kswapd.clearHopeless();
        }
        reclaimThrottleAfterPass(sc);
    }

    /**
     * shrink_node's throttling after a pass: kswapd marks the node PGDAT_WRITEBACK when every folio
     * it took was under writeback and sleeps on writeback (VMSCAN_THROTTLE_WRITEBACK) when it met
     * folios marked for immediate reclaim; a pass whose dirty folios were all already under
     * writeback for reclaim marks the LRU congested, and a direct reclaimer then sleeps
     * (VMSCAN_THROTTLE_CONGESTED), so that the writes complete before it tries again.
     */
    private void reclaimThrottleAfterPass(final ScanControl sc) {
        if (sc.kswapd) {
            if (sc.nrWriteback > 0 && sc.nrWriteback == sc.nrTaken) {
                pgdatWriteback = true;
            }
            if (sc.nrImmediate > 0) {
                throttle.throttle(swap, ReclaimThrottle.Reason.WRITEBACK);
            }
        }
        if (sc.nrDirty > 0 && sc.nrDirty == sc.nrCongested) {
            lruvecCongested = true;
        }
        if (!sc.kswapd && lruvecCongested) {
            throttle.throttle(swap, ReclaimThrottle.Reason.CONGESTED);
        }
    }

    /**
     * consider_reclaim_throttle after each pass of direct reclaim: reclaim better than 1 in 8 of
     * what it scanned needs no throttle; a pass at priority 1 that reclaimed nothing sleeps
     * (VMSCAN_THROTTLE_NOPROGRESS). kswapd is never throttled here.
     */
    private void considerReclaimThrottle(final ScanControl sc) {
        if (sc.nrReclaimed > (sc.nrScanned >> 3) || sc.kswapd) {
            return;
        }
        if (sc.priority == 1 && sc.nrReclaimed == 0) {
            throttle.throttle(swap, ReclaimThrottle.Reason.NOPROGRESS);
        }
    }

    /** clear_pgdat_congested: kswapd balanced the node; the writeback and congestion hints go. */
    private void clearPgdatCongested() {
        pgdatWriteback = false;
        lruvecCongested = false;
    }

    /**
     * try_to_free_pages → do_try_to_free_pages: direct reclaim of SWAP_CLUSTER_MAX folios, priority
     * from DEF_PRIORITY down to 0 until the goal is met. Counts allocstall.
     */
    @Override
    public long tryToFreePages(final int cpu) {
        vmstat.count(VmEvent.ALLOCSTALL);
        final ScanControl sc = new ScanControl(false, cpu);
        sc.nrToReclaim = SWAP_CLUSTER_MAX;
        FrameAllocator.asReclaimer(() -> {
            do {
                shrinkNode(sc); // shrink_zones
                considerReclaimThrottle(sc);
                if (sc.nrReclaimed >= sc.nrToReclaim) {
                    break;
                }
            } while (--sc.priority >= 0);
        });
        return sc.nrReclaimed;
    }

    @Override
    public void wakeupKswapd() {
        kswapd.wakeup();
    }

    /** pgdat_balanced at the high watermark: kswapd's goal. */
    boolean pgdatBalanced() {
        return Watermarks.zoneWatermarkOk(
                frames.zoneFreePagesRacy(), frames.watermarks().high());
    }

    /**
     * balance_pgdat: kswapd's reclaim until the zone is above its high watermark, priority from
     * DEF_PRIORITY down to 1, each pass aging the active list if the inactive one is low
     * (age_active_anon) and reclaiming max(high_wmark, SWAP_CLUSTER_MAX) (kswapd_shrink_node);
     * counts pageoutrun. Returns the folios reclaimed.
     */
    long balancePgdat(final int cpu) {
        vmstat.count(VmEvent.PAGEOUTRUN);
        final ScanControl sc = new ScanControl(true, cpu);
        FrameAllocator.asReclaimer(() -> {
            do {
                if (pgdatBalanced()) {
                    clearPgdatCongested();
                    break;
                }
                if (swap.canReclaimAnon() && inactiveIsLow()) {
                    shrinkActiveList(SWAP_CLUSTER_MAX, sc);
                }
                sc.nrToReclaim = Math.max(frames.watermarks().high(), SWAP_CLUSTER_MAX);
                final long scannedBefore = sc.nrScanned;
                final long reclaimedBefore = sc.nrReclaimed;
                sc.nrReclaimed = 0;
                shrinkNode(sc);
                final boolean raisePriority = sc.nrScanned - scannedBefore >= sc.nrToReclaim;
                final boolean progress = sc.nrReclaimed > 0;
                sc.nrReclaimed += reclaimedBefore;
                if (raisePriority || !progress) {
                    sc.priority--;
                }
            } while (sc.priority >= 1);
        });
        return sc.nrReclaimed;
    }

    private static int cpuHint() {
        final dev.vmsim.core.cpu.Cpu cpu = dev.vmsim.core.cpu.Cpu.current();
        return cpu == null ? 0 : cpu.id();
    }

    /** Stops kswapd's thread, if one runs (the machine is closing). */
    public void shutdown() {
        kswapd.stop();
    }
}
