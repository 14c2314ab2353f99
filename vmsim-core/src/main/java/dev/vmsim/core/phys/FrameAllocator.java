package dev.vmsim.core.phys;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.inject.FailInject;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.inject.FaultAttr;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.stat.VmStat;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * The frame allocator (mm/page_alloc.c): hands out single zeroed frames, keeps a per-frame
 * reference count ({@code page_ref_count}) and map count ({@code page_mapcount}), and reserves the
 * shared zero page (frame 0 is never handed out; it is {@link #zeroPfn()}).
 *
 * <p>Structure, as the kernel has it for order-0 pages: per-CPU page lists ({@link PerCpuPages},
 * struct per_cpu_pages) in front of the zone's free area ({@link ZoneFreeArea}, a stand-in for the
 * buddy lists). Allocation and free touch only the CPU's list until it runs empty (refill a batch
 * from the zone) or over its high mark (drain a batch). When both the list and the zone are empty
 * the allocator drains every CPU's list ({@code drain_all_pages()}) and tries once more before
 * reporting out of memory, so frames cached on other CPUs never cause a false OOM.
 *
 * <p>Out of memory is a result, not an exception: {@link #allocZeroed} returns {@link #NO_FRAME}
 * and nothing is leaked.
 *
 * <p><b>Thread safety.</b> Every method may be called from any thread. {@code cpu} may be any
 * int &gt;= 0; it is mapped onto the configured number of lists. Refcounts and mapcounts are
 * atomic; a frame's refcount is set with release on allocation.
 *
 * <pre>{@code
 * final long pfn = frames.allocZeroed(cpu.id());
 * if (pfn == FrameAllocator.NO_FRAME) {
 *     return VmFault.VM_FAULT_OOM;
 * }
 * ...
 * frames.put(cpu.id(), pfn);   // last reference: back on this CPU's list
 * }</pre>
 */
public final class FrameAllocator {
    /** Returned by {@link #allocZeroed} when no frame is free (the caller turns it into VM_FAULT_OOM / -ENOMEM). */
    public static final long NO_FRAME = -1;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    /** The largest pcp->batch: frames a refill takes from the zone (the fault fit prices one refill per batch). */
    public static final int MAX_BATCH = 31;
    /**
     * PAGE_FLAGS_CHECK_AT_FREE, as far as modelled: a frame still locked, under writeback, on an LRU
     * or in the swap cache must not be freed.
     */
    private static final long FREE_CHECK_FLAGS = (1L << PageFlags.PG_LOCKED)
            | (1L << PageFlags.PG_WRITEBACK)
            | (1L << PageFlags.PG_LRU)
            | (1L << PageFlags.PG_SWAPCACHE);
    /** zone->lock's cache line (virtual clock only). */
    private final CacheLine zoneLockLine = new CacheLine("zone->lock");

    private final PhysicalMemory memory;
    private final ZoneFreeArea zone;
    private final PerCpuPages[] pcp;
    private final int[] refcount;
    private final int[] mapcount;
    /** struct page of every frame (flags, mapping, index, private). */
    private final MemMap memMap;
    /** The folio lock and writeback waits over {@link #memMap}. */
    private final FolioWait folioWait;

    private final LongAdder allocated = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder drainAllCalls = new LongAdder();
    /** The machine's vm_event counters (pgalloc_normal, pgfree), or null to count nothing. */
    private final VmStat vmstat;
    /**
     * The machine's fault-injection attributes; {@link FailSite#PAGE_ALLOC} is fail_page_alloc.attr.
     * Plain slots: the check costs two loads when off. Set them while no allocation is in flight.
     */
    private final FailInject failInject;
    /** The zone's watermarks, from the machine's memory size (__setup_per_zone_wmarks). */
    private final Watermarks watermarks;
    /** WMARK_LOW, the fast path's one comparison (a copy of {@code watermarks.low()}). */
    private final long wmarkLow;
    /**
     * Reclaim, or null for an allocator that never reclaims. Set once while nothing allocates
     * (machine construction); plain, as a boot-time pointer is.
     */
    private PageReclaim reclaim;
    /** The OOM killer, or null: set once before anything allocates (plain field, published with the machine). */
    private OutOfMemory oom;
    /** PF_MEMALLOC: the current thread is reclaiming; its allocations skip the slow path. */
    private static final ThreadLocal<boolean[]> PF_MEMALLOC = ThreadLocal.withInitial(() -> new boolean[1]);

    public FrameAllocator(final PhysicalMemory memory, final int cpus) {
        this(memory, cpus, null);
    }

    /** An allocator that also counts pgalloc_normal / pgfree into {@code vmstat} (may be null). */
    public FrameAllocator(final PhysicalMemory memory, final int cpus, final VmStat vmstat) {
        this(memory, cpus, vmstat, new FailInject());
    }

    /** An allocator whose fail_page_alloc is {@code failInject}'s {@link FailSite#PAGE_ALLOC} slot. */
    public FrameAllocator(
            final PhysicalMemory memory, final int cpus, final VmStat vmstat, final FailInject failInject) {
        this.memory = memory;
        this.failInject = failInject;
        this.vmstat = vmstat;
        final int n = (int) memory.frames();
        this.refcount = new int[n];
        this.mapcount = new int[n];
        this.memMap = new MemMap(n);
        this.folioWait = new FolioWait(memMap);
        this.zone = new ZoneFreeArea(n);
        this.watermarks = new Watermarks(n - 1, memory.pageShift());
        this.wmarkLow = watermarks.low();
        final int lists = Math.max(1, cpus);
        // pcp->batch as zone_batchsize() sizes it: a fraction of the zone, capped; pcp->high a few batches.
        final int batch = Math.max(1, Math.min(MAX_BATCH, n / (lists * 8)));
        this.pcp = new PerCpuPages[lists];
        for (int i = 0; i < lists; i++) {
            pcp[i] = new PerCpuPages(batch, 4 * batch);
        }
        refcount[0] = 1; // the zero page is pinned forever
        // Highest pfn on top of the stack is taken last: low frames are handed out first.
        for (long pfn = n - 1; pfn >= 1; pfn--) {
            zone.add(pfn);
        }
    }

    public PhysicalMemory memory() {
        return memory;
    }

    /** folio_lock / folio_wait_writeback over this allocator's frames. */
    public FolioWait folioWait() {
        return folioWait;
    }

    /** mem_map: the struct page of every frame. */
    public MemMap memMap() {
        return memMap;
    }

    /** The shared zero page (ZERO_PAGE(0)). Never freed. */
    public long zeroPfn() {
        return 0;
    }

    private PerCpuPages pcpOf(final int cpu) {
        return pcp[Math.floorMod(cpu, pcp.length)];
    }

    /**
     * alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_ZERO): a frame that reads as zero, with refcount 1 and
     * mapcount 0, or {@link #NO_FRAME}. Zeroing is O(1) ({@link PhysicalMemory#zeroFrame}).
     */
    public long allocZeroed(final int cpu) {
        if (failInject.shouldFail(FailSite.PAGE_ALLOC)) { // should_fail_alloc_page(gfp, order 0): size 1 << order
            failures.increment();
            return NO_FRAME;
        }
        final PerCpuPages list = pcpOf(cpu);
        final Platform p = Platform.current();
        final long refills = p.isVirtual() ? list.refills() : 0;
        final PageReclaim r = reclaim;
        // get_page_from_freelist's zone_watermark_fast at WMARK_LOW: the fast path's one comparison.
        final long pfn = r != null && !Watermarks.zoneWatermarkOk(zone.countRacy(), wmarkLow)
                ? allocSlowpath(cpu, list, r)
                : rmqueue(list);
        if (pfn == NO_FRAME) {
            failures.increment();
            return NO_FRAME;
        }
        chargeAlloc(p, list, refills);
        memory.zeroFrame(pfn);
        memMap.reset(pfn);
        final int i = (int) pfn;
        INTS.setVolatile(mapcount, i, 0);
        // Release: the zeroing above happens-before any thread that sees refcount 1.
        INTS.setRelease(refcount, i, 1);
        allocated.increment();
        if (vmstat != null) {
            vmstat.count(VmEvent.PGALLOC);
        }
        return pfn;
    }

    /** rmqueue: a frame from the CPU's list (refilled from the zone), draining every list before giving up. */
    private long rmqueue(final PerCpuPages list) {
        long pfn = list.alloc(zone);
        if (pfn == NO_FRAME) {
            drainAllPages();
            pfn = list.alloc(zone);
        }
        return pfn;
    }

    /**
     * __alloc_pages_slowpath for an order-0 GFP_HIGHUSER_MOVABLE allocation. Each round
     * ({@code retry:} in the kernel): wake kswapd (wake_all_kswapds), try at WMARK_MIN, then direct
     * reclaim (__alloc_pages_direct_reclaim: try_to_free_pages; after progress a try, and
     * drain_all_pages before a second). Then {@link #shouldReclaimRetry} decides: another round while
     * reclaim makes progress or, for up to MAX_RECLAIM_RETRIES rounds without progress, while the
     * reclaimable pages and the free ones together would lift the zone above min. Only then
     * __alloc_pages_may_oom: a try at the high watermark, then out_of_memory; when that made
     * progress (a victim killed, or one still exiting), the no-progress count restarts and so do the
     * rounds.
     *
     * <p>Departures: no compaction, cpuset or highatomic reserve (order 0, one zone). A round whose
     * reclaim freed nothing first moves every CPU's lru_add batch to the LRU (lru_add_drain_all),
     * which the kernel's slow path does not: each CPU's batch holds up to PAGEVEC_SIZE (31) folios
     * off the LRU, invisible to reclaim and to zone_reclaimable_pages, which is noise on a real
     * machine but most of the memory of a simulated one of a few dozen frames (the pcp lists' analogue
     * is the drain_all_pages the kernel does make). Without an OOM
     * killer installed, or when it finds nothing to kill, the allocation takes what is left below min
     * (as an OOM victim may, ALLOC_OOM), so it fails only when no frame is left at all. Kills per
     * allocation are bounded ({@link #MAX_OOM_ROUNDS}). An allocation made while reclaiming
     * (PF_MEMALLOC) skips all this (ALLOC_NO_WATERMARKS).
     */
    private long allocSlowpath(final int cpu, final PerCpuPages list, final PageReclaim r) {
        final boolean[] memalloc = PF_MEMALLOC.get();
        if (memalloc[0]) {
            return rmqueue(list);
        }
        memalloc[0] = true;
        try {
            final long min = watermarks.min();
            final int[] noProgressLoops = {0};
            int oomRounds = 0;
            for (; ; ) {
                r.wakeupKswapd();
                if (Watermarks.zoneWatermarkOk(zone.countRacy(), min)) {
                    return rmqueue(list);
                }
                final long progress = r.tryToFreePages(cpu);
                if (progress > 0 && directReclaimGot(min)) {
                    return rmqueue(list);
                }
                if (progress == 0) {
                    r.lruAddDrainAll(); // departure: see the method comment
                }
                final long reclaimable = r.zoneReclaimablePages();
                if (shouldReclaimRetry(progress > 0, noProgressLoops, reclaimable, zone.countRacy(), min)) {
                    continue;
                }
                // __alloc_pages_may_oom: a last try at the high watermark (another task may have
                // freed memory meanwhile), then out_of_memory; progress means retry from the top.
                if (Watermarks.zoneWatermarkOk(zone.countRacy(), watermarks.high())) {
                    return rmqueue(list);
                }
                final OutOfMemory o = oom;
                if (o == null || oomRounds++ >= MAX_OOM_ROUNDS || !o.outOfMemory(cpu)) {
                    break;
                }
                noProgressLoops[0] = 0;
            }
            return rmqueue(list);
        } finally {
            memalloc[0] = false;
        }
    }

    /**
     * __alloc_pages_direct_reclaim after try_to_free_pages made progress: is the zone above {@code
     * min} now, or after drain_all_pages (the frames reclaim freed may sit on per-CPU lists)?
     */
    private boolean directReclaimGot(final long min) {
        if (Watermarks.zoneWatermarkOk(zone.countRacy(), min)) {
            return true;
        }
        drainAllPages();
        return Watermarks.zoneWatermarkOk(zone.countRacy(), min);
    }

    /**
     * should_reclaim_retry (mm/page_alloc.c) for an order-0 request in the machine's one zone:
     * progress resets {@code noProgressLoops[0]}, none increments it; past MAX_RECLAIM_RETRIES
     * rounds without progress the answer is no. Otherwise retry if the allocation would succeed were
     * every reclaimable page reclaimed: __zone_watermark_ok at min with available =
     * zone_reclaimable_pages + NR_FREE_PAGES. So a machine whose LRU still holds swappable folios
     * (swap has a free slot) keeps reclaiming, through folios under writeback or isolated by another
     * reclaimer, instead of calling the OOM killer after one empty pass; a machine with nothing
     * reclaimable (no swap, or swap full) goes to the OOM killer at once.
     *
     * <p>Departure: no unreserve_highatomic_pageblock (there is no highatomic reserve). The
     * kernel's cond_resched here is the reclaim throttling inside try_to_free_pages in the simulator.
     *
     * @param noProgressLoops the slow path's no_progress_loops, updated in place
     */
    static boolean shouldReclaimRetry(
            final boolean didSomeProgress,
            final int[] noProgressLoops,
            final long reclaimable,
            final long freePages,
            final long minWmark) {
        if (didSomeProgress) {
            noProgressLoops[0] = 0;
        } else {
            noProgressLoops[0]++;
        }
        if (noProgressLoops[0] > MAX_RECLAIM_RETRIES) {
            return false;
        }
        return Watermarks.zoneWatermarkOk(reclaimable + freePages, minWmark);
    }

    /**
     * OOM kills one allocation may cause before it gives up. Departure: the kernel retries for as
     * long as out_of_memory makes progress; a bound keeps a simulated allocation from looping when a
     * victim's memory is not freed (a victim that never exits).
     */
    public static final int MAX_OOM_ROUNDS = 8;

    /** Installs the OOM killer: machines without one keep the old end (take what is left, else fail). */
    public void setOutOfMemory(final OutOfMemory killer) {
        this.oom = killer;
    }

    /** MAX_RECLAIM_RETRIES (mm/internal.h). */
    public static final int MAX_RECLAIM_RETRIES = 16;

    /**
     * Runs {@code work} as a reclaimer (PF_MEMALLOC, memalloc_noreclaim_save): allocations inside
     * it never enter the slow path again.
     */
    public static void asReclaimer(final Runnable work) {
        final boolean[] memalloc = PF_MEMALLOC.get();
        final boolean was = memalloc[0];
        memalloc[0] = true;
        try {
            work.run();
        } finally {
            memalloc[0] = was;
        }
    }

    /** The zone's watermarks. */
    public Watermarks watermarks() {
        return watermarks;
    }

    /**
     * NR_FREE_PAGES: frames on the zone's free area, read without its lock (zone_page_state), as
     * the watermark checks read it. Frames on the per-CPU lists are not counted, as in the kernel.
     */
    public long zoneFreePagesRacy() {
        return zone.countRacy();
    }

    /** Installs reclaim (machine construction, before anything allocates). */
    public void setReclaim(final PageReclaim reclaim) {
        this.reclaim = reclaim;
    }

    /**
     * The virtual clock's cost of one allocation: the pcp list; a refill from the buddy lists under
     * zone->lock when this allocation made one (the lock word's line moves to this CPU); clearing the
     * page (__GFP_ZERO) in 4 KiB units.
     */
    private void chargeAlloc(final Platform p, final PerCpuPages list, final long refillsBefore) {
        if (!p.isVirtual()) {
            return;
        }
        p.charge(Cost.FRAME_ALLOC_PCP);
        if (list.refills() != refillsBefore) {
            p.rmw(zoneLockLine);
            p.charge(Cost.FRAME_ALLOC_ZONE);
        }
        p.charge(Cost.ZERO_PAGE_4K, Math.max(1, memory.frameSize() >> 12));
    }

    /**
     * Turns fail_page_alloc on with {@code attr} (CONFIG_FAIL_PAGE_ALLOC), or off with null: each
     * {@link #allocZeroed} first asks {@link FaultAttr#shouldFail}, and an injected failure is an
     * ordinary out-of-memory result, counted in {@link #allocFailures}. <b>Context:</b> no
     * allocation in flight (the field is plain).
     */
    public void setFailPageAlloc(final FaultAttr attr) {
        failInject.set(FailSite.PAGE_ALLOC, attr);
    }

    /** The fault-injection attributes this allocator (and its machine) asks. */
    public FailInject failInject() {
        return failInject;
    }

    /** drain_all_pages(): returns every CPU's cached frames to the zone (before declaring OOM). */
    public void drainAllPages() {
        drainAllCalls.increment();
        for (final PerCpuPages list : pcp) {
            list.drainAll(zone);
        }
    }

    /** get_page. <b>Context:</b> the caller already holds a reference (or a mapping) to the frame. */
    public void get(final long pfn) {
        final int r = (int) INTS.getAndAdd(refcount, (int) pfn, 1);
        assert r > 0 : "get_page on a free frame " + pfn;
    }

    /**
     * folio_try_get: takes a reference unless the count is 0 (the frame is being freed, or was
     * freed: a lockless lookup, such as the swap cache's, raced with its removal; reclaim's
     * isolation, so it never revives a frame whose last reference is gone). The caller then rechecks
     * that the frame is still what it looked up.
     */
    public boolean tryGet(final long pfn) {
        for (; ; ) {
            final int r = (int) INTS.getVolatile(refcount, (int) pfn);
            if (r <= 0) {
                return false;
            }
            if (INTS.compareAndSet(refcount, (int) pfn, r, r + 1)) {
                return true;
            }
        }
    }

    /** put_page: drops a reference and frees the frame to {@code cpu}'s list when it was the last. Returns true if freed. */
    public boolean put(final int cpu, final long pfn) {
        if (pfn == zeroPfn()) {
            return false;
        }
        final int r = (int) INTS.getAndAdd(refcount, (int) pfn, -1) - 1;
        if (r < 0) {
            throw new IllegalStateException("refcount underflow on pfn " + pfn);
        }
        if (r == 0) {
            if (memMap.test(pfn, PageFlags.PG_LRU) && reclaim != null) {
                reclaim.releaseLruFolio(pfn); // __folio_put → page_cache_release
            }
            freeRefZero(cpu, pfn);
            return true;
        }
        return false;
    }

    /**
     * folios_put_refs: drops one reference on each of {@code pfns[0..n)}; the folios whose last
     * reference goes leave their LRU lists under one hold of lru_lock (the kernel relocks only when
     * the lruvec changes) and are then freed to {@code cpu}'s list. Returns how many were freed.
     * {@code pfns} is reordered (the freed ones first).
     */
    public int putBatch(final int cpu, final long[] pfns, final int n) {
        int freed = 0;
        boolean onLru = false;
        for (int i = 0; i < n; i++) {
            final long pfn = pfns[i];
            if (pfn == zeroPfn()) {
                continue;
            }
            final int r = (int) INTS.getAndAdd(refcount, (int) pfn, -1) - 1;
            if (r < 0) {
                throw new IllegalStateException("refcount underflow on pfn " + pfn);
            }
            if (r == 0) {
                onLru |= memMap.test(pfn, PageFlags.PG_LRU);
                pfns[i] = pfns[freed];
                pfns[freed++] = pfn;
            }
        }
        if (onLru && reclaim != null) {
            reclaim.releaseLruFolios(pfns, freed);
        }
        for (int i = 0; i < freed; i++) {
            freeRefZero(cpu, pfns[i]);
        }
        return freed;
    }

    /**
     * folio_ref_freeze: sets the refcount from {@code expected} to 0 if it is exactly that
     * (__remove_mapping's check that only the isolation and the swap cache hold it). True on success;
     * the caller then frees it with {@link #freeFrozen}.
     */
    public boolean refFreeze(final long pfn, final int expected) {
        return INTS.compareAndSet(refcount, (int) pfn, expected, 0);
    }

    /** folio_ref_unfreeze: undoes {@link #refFreeze} when the folio must stay. */
    public void refUnfreeze(final long pfn, final int count) {
        INTS.setRelease(refcount, (int) pfn, count);
    }

    /** free_unref_folios for a folio whose refcount reclaim froze to 0 (shrink_folio_list's free_it). */
    public void freeFrozen(final int cpu, final long pfn) {
        if (refcount(pfn) != 0) {
            throw new IllegalStateException("freeing pfn " + pfn + " with refcount " + refcount(pfn));
        }
        freeRefZero(cpu, pfn);
    }

    /** free_unref_page: the frame, its refcount at 0, back on {@code cpu}'s list. */
    private void freeRefZero(final int cpu, final long pfn) {
        assert mapcount(pfn) == 0 : "freeing pfn " + pfn + " still mapped " + mapcount(pfn) + " times";
        assert (memMap.flags(pfn) & FREE_CHECK_FLAGS) == 0
                : "freeing pfn " + pfn + " with flags " + PageFlags.format(memMap.flags(pfn));
        allocated.decrement();
        pcpOf(cpu).free(zone, pfn);
        if (vmstat != null) {
            vmstat.count(VmEvent.PGFREE);
        }
    }

    public int refcount(final long pfn) {
        return (int) INTS.getVolatile(refcount, (int) pfn);
    }

    public int mapcount(final long pfn) {
        return (int) INTS.getVolatile(mapcount, (int) pfn);
    }

    /** page_add_*_rmap's mapcount increment. Returns the new count. */
    public int incMapcount(final long pfn) {
        return (int) INTS.getAndAdd(mapcount, (int) pfn, 1) + 1;
    }

    /** page_remove_rmap's mapcount decrement. Returns the new count. */
    public int decMapcount(final long pfn) {
        final int m = (int) INTS.getAndAdd(mapcount, (int) pfn, -1) - 1;
        assert m >= 0 || pfn == zeroPfn() : "mapcount underflow on pfn " + pfn;
        return m;
    }

    /** Frames handed out and not yet freed (exact when quiescent). */
    public long allocatedFrames() {
        return allocated.sum();
    }

    /** Free frames, on the zone and on every CPU's list (exact when quiescent). */
    public long freeFrames() {
        return memory.frames() - 1 - allocated.sum();
    }

    /** Frames on the zone's free area (not on any CPU's list). */
    public long zoneFreeFrames() {
        return zone.count();
    }

    /** Frames cached on CPU lists. */
    public long pcpFreeFrames() {
        long n = 0;
        for (final PerCpuPages list : pcp) {
            n += list.count();
        }
        return n;
    }

    /** Number of per-CPU lists. */
    public int pcpLists() {
        return pcp.length;
    }

    /** Allocations served from a CPU's list without touching the zone. */
    public long pcpHits() {
        long n = 0;
        for (final PerCpuPages list : pcp) {
            n += list.hits();
        }
        return n;
    }

    /** Allocations that found their CPU's list empty. */
    public long pcpMisses() {
        long n = 0;
        for (final PerCpuPages list : pcp) {
            n += list.misses();
        }
        return n;
    }

    /** Batches moved from the zone to a CPU's list (rmqueue_bulk). */
    public long pcpRefills() {
        long n = 0;
        for (final PerCpuPages list : pcp) {
            n += list.refills();
        }
        return n;
    }

    /** Batches (or whole lists) moved from a CPU's list back to the zone (free_pcppages_bulk / drain). */
    public long pcpDrains() {
        long n = 0;
        for (final PerCpuPages list : pcp) {
            n += list.drains();
        }
        return n;
    }

    /** Allocations that returned {@link #NO_FRAME}. */
    public long allocFailures() {
        return failures.sum();
    }

    /** Times drain_all_pages ran. */
    public long drainAllPagesCalls() {
        return drainAllCalls.sum();
    }
}
