package dev.vmsim.core.pgtable;

import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PhysicalMemory;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.rmap.TlbUnmapBatch;
import dev.vmsim.core.swap.SwpEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The page tables of one mm, in simulated physical memory, over an architecture's {@link
 * PageTableFormat}: the generic code of mm/memory.c ({@code __pte_alloc}, {@code zap_pte_range},
 * {@code copy_page_range}, {@code free_pgtables}), mm/pgtable-generic.c, mm/mprotect.c
 * ({@code change_protection}) and mm/mremap.c ({@code move_page_tables}).
 *
 * <p><b>Locking.</b> Upper levels are populated under the mm's {@code page_table_lock} and
 * installed with compare-and-set (the hardware walker may set accessed bits concurrently); a
 * racing allocator frees its spare table. Each PTE page has its own split lock ({@link #ptl}),
 * taken for every change of a PTE by zap, mprotect, mremap and fork; the fault path takes it too.
 * Hardware walkers read entries without locks (acquire loads), so every PTE change is an atomic
 * store or compare-and-set, never a torn write.
 *
 * <p><b>TLB rule.</b> Removing or downgrading an entry records the range in the caller's {@link
 * MmuGather}; freed frames go back to the allocator only after the gather's flush. {@link
 * #moveRange} flushes the old range itself before dropping the destination PTL (CVE-2018-18281).
 *
 * <p>Departure: the walk for zap/mprotect/free skips missing tables level by level rather than
 * through the kernel's pXd_addr_end helpers, but visits the same entries in the same order.
 */
public final class PageTables {
    /** {@link #ptePa} result: a level is missing and {@code alloc} was false. */
    public static final long PTE_NONE = -1;
    /** {@link #ptePa} result: a table frame could not be allocated (pte_alloc failing: -ENOMEM). */
    public static final long PTE_ALLOC_OOM = -2;

    private static final int ENTRIES_SHIFT = 3;

    private final Machine machine;
    private final PageTableFormat format;
    private final PhysicalMemory mem;
    private final FrameAllocator frames;
    /** The root table (pgd) frame. */
    private final long rootPfn;

    private final int rootLevel;
    /** PAGE_SHIFT / PAGE_SIZE of the format: the size of a table and of the page a PTE maps. */
    private final int pageShift;

    private final long pageSize;
    /** mm->page_table_lock: guards installing and clearing upper-level entries. */
    private final Ptl pageTableLock = new Ptl("page_table_lock");
    /** The split PTL of each PTE page of this mm, keyed by the PTE page's frame. */
    private final ConcurrentHashMap<Long, Ptl> ptls = new ConcurrentHashMap<>();
    /**
     * rss_stat MM_SWAPENTS of the mm these tables belong to: its swap PTEs. Kept here, not in the
     * MmStruct, because zap and fork change it where they walk the tables (departure: the kernel
     * keeps it with the other rss counters).
     */
    private final AtomicLong swapEnts = new AtomicLong();
    /** Page-table frames currently allocated, root included (mm_pgtables_bytes / VmPTE). */
    private final AtomicLong tableFrames = new AtomicLong();

    /** Allocates the root table; throws {@link OutOfMemoryError} if no frame is free (mm_alloc_pgd failing). */
    public PageTables(final Machine machine, final PageTableFormat format) {
        this.machine = machine;
        this.format = format;
        this.mem = machine.memory();
        this.frames = machine.frames();
        this.rootLevel = format.levels() - 1;
        this.pageShift = format.pageShift();
        this.pageSize = 1L << pageShift;
        if (mem.pageShift() != pageShift) {
            throw new IllegalArgumentException("a " + format + " format on frames of " + mem.frameSize() + " bytes");
        }
        this.rootPfn = frames.allocZeroed(0);
        if (rootPfn < 0) {
            throw new OutOfMemoryError("no frame for the page-table root");
        }
        tableFrames.incrementAndGet();
        machine.leakAccounting().pageTableFrames().increment();
    }

    /** The root table's frame (what CR3 / TTBR0 holds). */
    public long rootPfn() {
        return rootPfn;
    }

    public Machine machine() {
        return machine;
    }

    public PageTableFormat format() {
        return format;
    }

    /** mm->page_table_lock. */
    public Ptl pageTableLock() {
        return pageTableLock;
    }

    private long slotPa(final long tablePfn, final int index) {
        return (tablePfn << pageShift) + ((long) index << ENTRIES_SHIFT);
    }

    /** Entries in a table at {@code level}: PTRS_PER_PTE (PAGE_SIZE / 8) below the root. */
    private int ptrsPerTable(final int level) {
        return 1 << format.indexBits(level);
    }

    /** Bytes of VA one entry at {@code level} maps. */
    private long entrySpan(final int level) {
        return 1L << format.levelShift(level);
    }

    /** Bytes of VA one table whose entries are at {@code level} maps. */
    private long tableSpan(final int level) {
        return 1L << (format.levelShift(level) + format.indexBits(level));
    }

    /** The end of the entry at {@code level} containing {@code addr}, clipped to {@code end} (pXd_addr_end). */
    private long addrEnd(final long addr, final long end, final int level) {
        final long boundary = (addr + entrySpan(level)) & -entrySpan(level);
        return Long.compareUnsigned(boundary - 1, end - 1) < 0 ? boundary : end;
    }

    // ---------------------------------------------------------------- walk and allocate

    /**
     * pte_offset_map / pte_alloc: the physical address of the level-0 entry for {@code va}. When
     * {@code alloc}, missing tables are allocated and installed (__pte_alloc / __pmd_alloc ...).
     *
     * @return the PTE's physical address; {@link #PTE_NONE} if {@code !alloc} and a level is
     *     missing (or an upper level holds a huge leaf); {@link #PTE_ALLOC_OOM} if a table frame
     *     could not be allocated (nothing leaked)
     */
    public long ptePa(final long va, final boolean alloc) {
        long table = rootPfn;
        for (int level = rootLevel; level >= 1; level--) {
            final long slot = slotPa(table, format.index(va, level));
            long e = mem.getLongAcquire(slot);
            if (!format.isTable(e, level)) {
                if (!alloc || !format.pteNone(e)) {
                    return PTE_NONE;
                }
                e = install(slot, level);
                if (e == PTE_ALLOC_OOM) {
                    return PTE_ALLOC_OOM;
                }
                if (!format.isTable(e, level)) {
                    return PTE_NONE;
                }
            }
            table = format.pfn(e);
        }
        return slotPa(table, format.index(va, 0));
    }

    /**
     * __pte_alloc / __pmd_alloc / pmd_install: allocates a zeroed table outside the lock, installs it
     * under page_table_lock with CAS; a racing allocator that lost frees its spare. Returns the
     * entry now in the slot, or {@link #PTE_ALLOC_OOM}.
     */
    private long install(final long slot, final int level) {
        if (machine.failInject().shouldFail(FailSite.PGTABLE_ALLOC)) {
            return PTE_ALLOC_OOM;
        }
        final long fresh = frames.allocZeroed(MmuGather.cpuHint());
        if (fresh == FrameAllocator.NO_FRAME) {
            return PTE_ALLOC_OOM;
        }
        if (level == 1) {
            ptls.put(fresh, new Ptl()); // ptlock_init: before the table is visible
        }
        final long entry = format.mkTable(fresh, level);
        final boolean won;
        pageTableLock.lock();
        try {
            won = casEntry(slot, 0, entry, level); // release: the zeroed table is published
            if (won) {
                tableFrames.incrementAndGet();
                machine.leakAccounting().pageTableFrames().increment();
            }
        } finally {
            pageTableLock.unlock();
        }
        if (!won) {
            if (level == 1) {
                ptls.remove(fresh);
            }
            frames.put(MmuGather.cpuHint(), fresh); // never visible: no flush needed
        }
        return mem.getLongAcquire(slot);
    }

    /** ptep_get: acquire load (pairs with the release/CAS of every PTE update). */
    public long readPte(final long ptePa) {
        return mem.getLongAcquire(ptePa);
    }

    /** ptep_cmpxchg (the fault path's pte_same check and A/D updates). */
    public boolean casPte(final long ptePa, final long expected, final long update) {
        Platform.current().charge(Cost.PTE_UPDATE);
        return casEntry(ptePa, expected, update, 0);
    }

    /** set_pte_at: release store. <b>Context:</b> PTL held, or the entry not yet visible. */
    public void setPte(final long ptePa, final long value) {
        Platform.current().charge(Cost.PTE_UPDATE);
        putEntry(ptePa, value, 0);
    }

    /*
     * Every store of an entry that may write a valid value goes through putEntry or casEntry, where
     * the debug build checks break-before-make (SafePteUpdate). Stores of 0 (getAndClear, destroy)
     * skip it: taking an entry down is always allowed.
     */

    /** Release store of the entry at {@code pa}, a level-{@code level} entry. */
    private void putEntry(final long pa, final long value, final int level) {
        if (SafePteUpdate.ENABLED) {
            checkSafeUpdate(pa, mem.getLongAcquire(pa), value, level);
        }
        mem.putLongRelease(pa, value);
    }

    /** Compare-and-set of the entry at {@code pa}, a level-{@code level} entry. */
    private boolean casEntry(final long pa, final long expected, final long update, final int level) {
        if (SafePteUpdate.ENABLED) {
            checkSafeUpdate(pa, expected, update, level);
        }
        return mem.compareAndSetLong(pa, expected, update);
    }

    /** __check_safe_pte_update: reports a live change the architecture does not allow without BBM. */
    private void checkSafeUpdate(final long pa, final long old, final long update, final int level) {
        if (!format.pgattrChangeIsSafe(old, update, level)) {
            SafePteUpdate.report(this, pa, old, update);
        }
    }

    /**
     * The first VA the entry at {@code entryPa} maps and its level, found by walking every table of
     * this mm ({VA, level}; {-1, -1} if no table holds it). Slow: for reports only.
     */
    long[] entryVa(final long entryPa) {
        final long[] r = findEntry(rootPfn, rootLevel, 0, entryPa);
        return r != null ? r : new long[] {-1, -1};
    }

    private long[] findEntry(final long table, final int level, final long base, final long entryPa) {
        if (entryPa >>> pageShift == table) {
            final long index = (entryPa & (pageSize - 1)) >>> ENTRIES_SHIFT;
            return new long[] {base + (index << format.levelShift(level)), level};
        }
        if (level == 0) {
            return null;
        }
        for (int i = 0; i < ptrsPerTable(level); i++) {
            final long e = mem.getLongAcquire(slotPa(table, i));
            if (format.isTable(e, level)) {
                final long[] r =
                        findEntry(format.pfn(e), level - 1, base + ((long) i << format.levelShift(level)), entryPa);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    /** pte_lockptr: the split lock of the PTE page holding {@code ptePa}. */
    public Ptl ptl(final long ptePa) {
        return ptlOfTable(ptePa >>> pageShift);
    }

    private Ptl ptlOfTable(final long ptePagePfn) {
        final Ptl ptl = ptls.get(ptePagePfn);
        return ptl != null ? ptl : ptls.computeIfAbsent(ptePagePfn, k -> new Ptl());
    }

    /** ptep_get_and_clear: atomically clears the entry against concurrent A/D updates; returns the old value. */
    private long getAndClear(final long ptePa) {
        for (; ; ) {
            final long old = mem.getLongAcquire(ptePa);
            if (old == 0 || mem.compareAndSetLong(ptePa, old, 0)) {
                return old;
            }
        }
    }

    // ---------------------------------------------------------------- range walk

    /** Visits each PTE page mapping part of [start, end), with the sub-range it covers. */
    private interface PteTableVisitor {
        /** Returns 0 to continue, or a negative errno to stop the walk. */
        int visit(long ptePagePfn, long start, long end);
    }

    /** Receives one non-none PTE of {@link #forEachPte}. */
    @FunctionalInterface
    public interface PteVisitor {
        void visit(long va, long pte);
    }

    /**
     * Visits every non-none PTE mapping an address in [start, end), in address order, reading each
     * entry with acquire (ptep_get). For checks and dumps: it takes no page-table lock, so entries
     * may change under a concurrent fault; call it on a quiescent mm for exact answers.
     */
    public void forEachPte(final long start, final long end, final PteVisitor visitor) {
        walkPteTables(start, end, (pt, s, e) -> {
            for (long addr = s; addr != e; addr += pageSize) {
                final long pte = mem.getLongAcquire(slotPa(pt, format.index(addr, 0)));
                if (!format.pteNone(pte)) {
                    visitor.visit(addr, pte);
                }
            }
            return 0;
        });
    }

    private int walkPteTables(final long start, final long end, final PteTableVisitor visitor) {
        if (Long.compareUnsigned(start, end) >= 0) {
            return 0;
        }
        return walkLevel(rootPfn, rootLevel, start, end, visitor);
    }

    private int walkLevel(
            final long table, final int level, final long start, final long end, final PteTableVisitor visitor) {
        long addr = start;
        do {
            final long next = addrEnd(addr, end, level);
            final long e = mem.getLongAcquire(slotPa(table, format.index(addr, level)));
            if (format.isTable(e, level)) {
                final int r = level == 1
                        ? visitor.visit(format.pfn(e), addr, next)
                        : walkLevel(format.pfn(e), level - 1, addr, next, visitor);
                if (r < 0) {
                    return r;
                }
            }
            addr = next;
        } while (addr != end);
        return 0;
    }

    // ---------------------------------------------------------------- zap

    /**
     * zap_details.zap_flags ZAP_FLAG_DROP_MARKER: also clear PTE markers. unmap_vmas (munmap,
     * exit_mmap) passes it; zap_page_range_single (MADV_DONTNEED, the guard install's zap) and the
     * OOM reaper do not, so a guard region outlives them.
     */
    public static final int ZAP_FLAG_DROP_MARKER = 1;

    /**
     * unmap_page_range / zap_pte_range: clears every non-none PTE in [start, end) under its PTL. For
     * each present, non-special page: folio_remove_rmap_pte and tlb_remove_page, so the
     * frame is freed only after the gather's flush. A swap PTE's slot is freed; a guard marker is
     * kept unless {@code zapFlags} has {@link #ZAP_FLAG_DROP_MARKER}. Records the range to flush.
     *
     * @return the number of pages unmapped, for the caller's rss accounting (add_mm_rss_vec)
     */
    public long zapRange(final long start, final long end, final int zapFlags, final MmuGather tlb) {
        final long[] pages = new long[1];
        walkPteTables(start, end, (pt, s, e) -> {
            pages[0] += zapPteRange(pt, s, e, zapFlags, tlb);
            return 0;
        });
        return pages[0];
    }

    /** Returns the number of pages (non-special present PTEs) unmapped, for the caller's rss accounting. */
    private long zapPteRange(
            final long ptePage, final long start, final long end, final int zapFlags, final MmuGather tlb) {
        final Ptl ptl = ptlOfTable(ptePage);
        ptl.lock();
        try {
            TlbUnmapBatch.flushTlbBatchedPending(tlb.mm());
            // Only a present entry can be in a TLB (tlb_remove_tlb_entry in zap_present_ptes); a swap
            // entry reclaim left with its flush still batched was flushed for just above.
            boolean cleared = false;
            long pages = 0;
            for (long addr = start; addr != end; addr += pageSize) {
                final long pa = slotPa(ptePage, format.index(addr, 0));
                final long cur = mem.getLongAcquire(pa);
                if (format.pteNone(cur) || !zapNonpresentMarker(cur, zapFlags)) {
                    continue;
                }
                final long old = getAndClear(pa);
                if (format.ptePresent(old)) {
                    cleared = true;
                    if (!format.pteSpecial(old)) {
                        final long pfn = format.pfn(old);
                        Rmap.folioRemoveRmapPte(frames, pfn);
                        tlb.removePage(pfn);
                        pages++;
                    }
                } else {
                    zapNonpresentPte(old);
                }
            }
            if (cleared) {
                tlb.flushRange(start, end);
            }
            return pages;
        } finally {
            ptl.unlock();
        }
    }

    /**
     * zap_nonpresent_ptes' marker rule: "ordinary zapping should not remove guard PTE markers", only
     * a zap with ZAP_FLAG_DROP_MARKER does. True for every entry that is not a guard marker.
     * Nothing but the PTL is needed: a marker holds no page and no slot, so keeping it leaves no
     * reference behind.
     */
    private boolean zapNonpresentMarker(final long pte, final int zapFlags) {
        return (zapFlags & ZAP_FLAG_DROP_MARKER) != 0 || !format.isGuardPteMarker(pte);
    }

    /** zap_nonpresent_ptes for a swap PTE: free_swap_and_cache and MM_SWAPENTS; a marker holds neither. */
    private void zapNonpresentPte(final long pte) {
        final long entry = format.pteToSwpEntry(pte);
        if (SwpEntry.nonSwapEntry(entry)) {
            return;
        }
        machine.swapBackend().freeSwapAndCache(entry);
        swapEnts.decrementAndGet();
    }

    // ---------------------------------------------------------------- guard regions

    /** {@link #guardInstallRange} result: a PTE in the range maps a page or a slot; zap and retry. */
    public static final int GUARD_INSTALL_NEEDS_ZAP = 1;

    /**
     * walk_page_range_mm with madvise_guard_install's ops (mm/madvise.c, mm/pagewalk.c): allocates
     * the PTE tables the range lacks (the walk has an install_pte op), and under each table's PTL
     * sets a guard marker in every none entry (guard_install_set_pte) and passes over an existing
     * guard marker (guard_install_pte_entry). The first entry that is neither ends the walk with
     * {@link #GUARD_INSTALL_NEEDS_ZAP}; the markers set before it stay, as in the kernel, whose
     * caller zaps (keeping markers) and walks again. No TLB flush: only none entries change.
     *
     * @return 0 when every page of [start, end) holds a guard marker, {@link
     *     #GUARD_INSTALL_NEEDS_ZAP}, or -ENOMEM when a table could not be allocated
     */
    public int guardInstallRange(final long start, final long end) {
        final long guard = format.makePteMarker(dev.vmsim.core.swap.PteMarker.PTE_MARKER_GUARD);
        long addr = start;
        while (addr != end) {
            final long pa = ptePa(addr, true);
            if (pa == PTE_ALLOC_OOM) {
                return -Errno.ENOMEM;
            }
            if (pa == PTE_NONE) {
                return GUARD_INSTALL_NEEDS_ZAP; // guard_install_pmd_entry: a huge leaf is zapped first
            }
            final long ptePage = pa >>> pageShift;
            final long next = addrEnd(addr, end, 1);
            final Ptl ptl = ptlOfTable(ptePage);
            ptl.lock();
            try {
                for (; addr != next; addr += pageSize) {
                    final long slot = slotPa(ptePage, format.index(addr, 0));
                    final long pte = mem.getLongAcquire(slot);
                    if (format.pteNone(pte)) {
                        setPte(slot, guard);
                    } else if (!format.isGuardPteMarker(pte)) {
                        return GUARD_INSTALL_NEEDS_ZAP;
                    }
                }
            } finally {
                ptl.unlock();
            }
        }
        return 0;
    }

    /**
     * walk_page_range_vma with madvise_guard_remove's ops: clears every guard marker in [start, end)
     * under its PTL (guard_remove_pte_entry's pte_clear) and leaves every other entry alone. Walks
     * only the tables that exist. No TLB flush: a marker is never cached in a TLB.
     *
     * @return the number of markers cleared
     */
    public long guardRemoveRange(final long start, final long end) {
        final long[] removed = new long[1];
        walkPteTables(start, end, (pt, s, e) -> {
            final Ptl ptl = ptlOfTable(pt);
            ptl.lock();
            try {
                for (long addr = s; addr != e; addr += pageSize) {
                    final long slot = slotPa(pt, format.index(addr, 0));
                    if (format.isGuardPteMarker(mem.getLongAcquire(slot))) {
                        setPte(slot, 0);
                        removed[0]++;
                    }
                }
            } finally {
                ptl.unlock();
            }
            return 0;
        });
        return removed[0];
    }

    // ---------------------------------------------------------------- free_pgtables

    /**
     * free_pgtables / free_pgd_range: frees the page-table pages that map only addresses in
     * [start, end) and lie wholly inside [floor, ceiling) (the gaps left by the neighbouring VMAs;
     * {@code ceiling == 0} means the top of the address space). Entries are cleared under
     * page_table_lock and the tables handed to {@link MmuGather#removeTable}. The root is never
     * freed. <b>Context:</b> the range was zapped; the mmap lock is held for write.
     */
    public void freePgtables(
            final long start, final long end, final long floor, final long ceiling, final MmuGather tlb) {
        final long pmdSpan = tableSpan(0); // VA mapped by one PTE page
        long addr = start & -pmdSpan;
        long top = ceiling;
        long stop = end;
        if (Long.compareUnsigned(addr, floor) < 0) {
            addr += pmdSpan;
            if (addr == 0) {
                return;
            }
        }
        if (top != 0) {
            top &= -pmdSpan;
            if (top == 0) {
                return;
            }
        }
        if (Long.compareUnsigned(stop - 1, top - 1) > 0) {
            stop -= pmdSpan;
        }
        if (Long.compareUnsigned(addr, stop - 1) > 0) {
            return;
        }
        pageTableLock.lock();
        try {
            freeLevel(-1, rootPfn, rootLevel, addr, stop, floor, ceiling, tlb);
        } finally {
            pageTableLock.unlock();
        }
    }

    /**
     * free_pXd_range for the table {@code table} whose entries are at {@code level}, reached through
     * {@code parentSlot} (-1 for the root): frees the child tables in [addr, end), then the table
     * itself if the whole VA it maps is inside [floor, ceiling).
     */
    private void freeLevel(
            final long parentSlot,
            final long table,
            final int level,
            final long addr,
            final long end,
            final long floor,
            final long ceiling,
            final MmuGather tlb) {
        long a = addr;
        do {
            final long next = addrEnd(a, end, level);
            final long slot = slotPa(table, format.index(a, level));
            final long e = mem.getLongAcquire(slot);
            if (format.isTable(e, level)) {
                if (level == 1) {
                    freePteTable(slot, format.pfn(e), a, tlb);
                } else {
                    freeLevel(slot, format.pfn(e), level - 1, a, next, floor, ceiling, tlb);
                }
            }
            a = next;
        } while (a != end);
        if (parentSlot < 0) {
            return; // the pgd itself is freed only by destroy()
        }
        final long span = tableSpan(level);
        final long tableStart = addr & -span;
        if (Long.compareUnsigned(tableStart, floor) < 0) {
            return;
        }
        long top = ceiling;
        if (top != 0) {
            top &= -span;
            if (top == 0) {
                return;
            }
        }
        if (Long.compareUnsigned(end - 1, top - 1) > 0) {
            return;
        }
        detachTable(parentSlot, table, tableStart, tlb);
    }

    /** free_pte_range: pmd_clear + pte_free_tlb. */
    private void freePteTable(final long pmdSlot, final long ptePage, final long addr, final MmuGather tlb) {
        assert tableEmpty(ptePage) : "freeing a PTE page that still maps pages";
        detachTable(pmdSlot, ptePage, addr, tlb);
        ptls.remove(ptePage);
    }

    /** pXd_clear + pXd_free_tlb of the table mapping {@code addr}. */
    private void detachTable(final long parentSlot, final long table, final long addr, final MmuGather tlb) {
        getAndClear(parentSlot);
        tableFrames.decrementAndGet();
        machine.leakAccounting().pageTableFrames().decrement();
        tlb.removeTable(table, addr);
    }

    private boolean tableEmpty(final long table) {
        for (int i = 0; i < ptrsPerTable(0); i++) {
            if (!format.pteNone(mem.getLongAcquire(slotPa(table, i)))) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- mprotect

    /** change_protection's cp_flags bit: make PTEs writable where no write fault would be needed (mm/mprotect.c). */
    public static final int MM_CP_TRY_CHANGE_WRITABLE = 1;

    /** {@link #changeProtection(long, long, long, int, MmuGather)} with no cp_flags. */
    public long changeProtection(final long start, final long end, final long vmFlags, final MmuGather tlb) {
        return changeProtection(start, end, vmFlags, 0, tlb);
    }

    /**
     * change_protection / change_pte_range: pte_modify every present PTE in [start, end) to
     * {@code vm_get_page_prot(vmFlags)} under its PTL (atomically against A/D updates). Non-present
     * entries keep their value: a swap PTE carries no protection, and a guard marker survives
     * mprotect (change_pte_range touches markers only for uffd-wp, not modelled). With {@link
     * #MM_CP_TRY_CHANGE_WRITABLE} a PTE that stays write-protected is made writable when
     * can_change_pte_writable allows it, so that the first write after mprotect(PROT_WRITE) does not
     * fault. Returns the number of PTEs changed; records their pages in the gather's flush range.
     */
    public long changeProtection(
            final long start, final long end, final long vmFlags, final int cpFlags, final MmuGather tlb) {
        final long prot = format.vmGetPageProt(vmFlags);
        final boolean tryWritable = (cpFlags & MM_CP_TRY_CHANGE_WRITABLE) != 0;
        final long[] changed = new long[1];
        walkPteTables(start, end, (pt, s, e) -> {
            final Ptl ptl = ptlOfTable(pt);
            ptl.lock();
            try {
                TlbUnmapBatch.flushTlbBatchedPending(tlb.mm());
                for (long addr = s; addr != e; addr += pageSize) {
                    final long pa = slotPa(pt, format.index(addr, 0));
                    for (; ; ) {
                        final long old = mem.getLongAcquire(pa);
                        if (!format.ptePresent(old)) {
                            break;
                        }
                        long updated = format.pteModify(old, prot);
                        if (tryWritable && !format.pteWrite(updated) && canChangePteWritable(vmFlags, updated)) {
                            updated = format.pteMkwrite(updated);
                        }
                        if (updated == old) {
                            break;
                        }
                        if (casEntry(pa, old, updated, 0)) {
                            changed[0]++;
                            tlb.flushRange(addr, addr + pageSize);
                            break;
                        }
                    }
                }
            } finally {
                ptl.unlock();
            }
            return 0;
        });
        return changed[0];
    }

    /**
     * can_change_pte_writable (mm/mprotect.c) for a VM_WRITE mapping: in a private mapping only an
     * exclusive anonymous page (PageAnonExclusive, as do_wp_page would reuse it); in
     * a shared one a dirty PTE (a clean one may still need the write fault for dirty tracking). No
     * NUMA hinting, soft-dirty or uffd-wp is modelled, so their refusals never apply.
     */
    private boolean canChangePteWritable(final long vmFlags, final long pte) {
        if ((vmFlags & VmFlags.VM_SHARED) == 0) {
            // vm_normal_page && PageAnon && PageAnonExclusive: what the write fault would reuse.
            final long pfn = format.pfn(pte);
            return !format.pteSpecial(pte)
                    && Rmap.folioTestAnon(frames.memMap(), pfn)
                    && frames.memMap().test(pfn, dev.vmsim.core.phys.PageFlags.PG_ANON_EXCLUSIVE);
        }
        return format.pteDirty(pte);
    }

    // ---------------------------------------------------------------- mremap

    /**
     * move_page_tables / move_ptes: moves the PTEs of [oldStart, oldStart + len) to newStart,
     * allocating destination tables. Every non-none entry moves, swap PTEs and guard markers too:
     * a guard region goes where its pages go. Under the old PTL and then the new one (nested; the mmap write
     * lock excludes an ABBA), each entry is cleared and set at the destination; the old range is
     * flushed BEFORE the destination PTL is released (CVE-2018-18281, TLB-03), so no CPU can still
     * write through the old translation once another thread may zap the destination.
     *
     * <p>Like the kernel's, this stops at the first destination table it cannot allocate and does
     * not undo anything: the caller ({@code copy_vma_and_data}) moves the returned prefix back with
     * a second call, which needs no allocation because the source tables are still there.
     *
     * @return the bytes moved from oldStart on: {@code len} when done, less when a destination table
     *     could not be allocated (the PTEs of [oldStart, oldStart + result) are now at newStart)
     */
    public long moveRange(final long oldStart, final long newStart, final long len, final MmuGather tlb) {
        final long oldEnd = oldStart + len;
        final long delta = newStart - oldStart;
        final long[] stoppedAt = {oldEnd};
        walkPteTables(oldStart, oldEnd, (pt, s, e) -> {
            // The destination may straddle a PTE page boundary: move page by page.
            long addr = s;
            while (addr != e) {
                final long dstPa = ptePa(addr + delta, true);
                if (dstPa == PTE_ALLOC_OOM) {
                    stoppedAt[0] = addr;
                    return -Errno.ENOMEM;
                }
                final long dstPageEnd = addrEnd(addr + delta, e + delta, 1) - delta;
                final long chunkEnd = Long.compareUnsigned(dstPageEnd, e) < 0 ? dstPageEnd : e;
                movePtes(pt, addr, chunkEnd, dstPa >>> pageShift, delta, tlb);
                addr = chunkEnd;
            }
            return 0;
        });
        return stoppedAt[0] - oldStart;
    }

    private void movePtes(
            final long oldPt,
            final long start,
            final long end,
            final long newPt,
            final long delta,
            final MmuGather tlb) {
        final Ptl oldPtl = ptlOfTable(oldPt);
        final Ptl newPtl = ptlOfTable(newPt);
        oldPtl.lock();
        if (newPtl != oldPtl) {
            newPtl.lock(); // spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING)
        }
        try {
            TlbUnmapBatch.flushTlbBatchedPending(tlb.mm());
            boolean flush = false;
            for (long addr = start; addr != end; addr += pageSize) {
                final long src = slotPa(oldPt, format.index(addr, 0));
                if (format.pteNone(mem.getLongAcquire(src))) {
                    continue;
                }
                final long pte = getAndClear(src);
                if (format.ptePresent(pte)) {
                    flush = true;
                }
                final long dst = slotPa(newPt, format.index(addr + delta, 0));
                assert format.pteNone(mem.getLongAcquire(dst)) : "mremap onto a populated PTE";
                putEntry(dst, pte, 0); // set_pte_at(move_pte(pte))
            }
            if (flush) {
                // flush_tlb_range(vma, old_end - len, old_end) while both PTLs are held.
                TlbFlush.flushTlbRange(tlb.mm(), start, end);
            }
        } finally {
            if (newPtl != oldPtl) {
                newPtl.unlock();
            }
            oldPtl.unlock();
        }
    }

    // ---------------------------------------------------------------- fork

    /**
     * copy_page_range / copy_pte_range for fork: copies the entries of [start, end) into {@code dst}.
     * For each present, non-special page: get_page + folio_try_dup_anon_rmap_pte; a swap PTE takes
     * one more reference on its slot; a PTE marker is copied as copy_pte_marker says (a guard
     * marker always is: the child inherits the parent's guard regions). When {@code cow}
     * (a private writable mapping), a writable PTE is write-protected in the parent
     * (ptep_set_wrprotect) and in the child, and the parent range is recorded in {@code tlb} to be
     * flushed before fork returns. The child's PTE is made old (pte_mkold), as __copy_present_pte does.
     *
     * @return the number of pages now also mapped by the child (for its rss), or {@code -ENOMEM} if a
     *     child table could not be allocated
     */
    public int copyRange(
            final PageTables dst, final long start, final long end, final boolean cow, final MmuGather tlb) {
        final int[] copied = new int[1];
        final int r = walkPteTables(start, end, (pt, s, e) -> {
            final long dstPa = dst.ptePa(s, true);
            if (dstPa == PTE_ALLOC_OOM) {
                return -Errno.ENOMEM;
            }
            final long dstPt = dstPa >>> pageShift;
            final Ptl dstPtl = dst.ptlOfTable(dstPt);
            final Ptl srcPtl = ptlOfTable(pt);
            dstPtl.lock();
            srcPtl.lock(); // spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING)
            try {
                boolean wrprotected = false;
                int err = 0;
                for (long addr = s; addr != e; addr += pageSize) {
                    final int idx = format.index(addr, 0);
                    final long src = slotPa(pt, idx);
                    long pte = mem.getLongAcquire(src);
                    if (format.pteNone(pte)) {
                        continue;
                    }
                    if (format.isPteMarker(pte)) {
                        // copy_nonpresent_pte's marker branch: copy_pte_marker decides, no slot involved.
                        final long marker = dev.vmsim.core.swap.PteMarker.copyPteMarker(format.pteToSwpEntry(pte));
                        if (marker != 0) {
                            dst.setPte(slotPa(dstPt, idx), format.makePteMarker(marker));
                        }
                        continue;
                    }
                    if (!format.ptePresent(pte)) {
                        pte = copyNonpresentPte(dst, src, pte);
                        if (format.pteNone(pte)) {
                            err = -Errno.ENOMEM;
                            break;
                        }
                    } else {
                        if (!format.pteSpecial(pte)) {
                            final long pfn = format.pfn(pte);
                            frames.get(pfn);
                            Rmap.folioDupAnonRmapPte(frames, pfn);
                            copied[0]++;
                        }
                        if (cow && format.pteWrite(pte)) {
                            while (!casEntry(src, pte, format.pteWrprotect(pte), 0)) {
                                pte = mem.getLongAcquire(src);
                            }
                            pte = format.pteWrprotect(pte);
                            wrprotected = true;
                        }
                        pte = format.pteMkold(pte);
                    }
                    dst.setPte(slotPa(dstPt, idx), pte);
                }
                if (wrprotected) {
                    tlb.flushRange(s, e);
                }
                if (err != 0) {
                    return err;
                }
            } finally {
                srcPtl.unlock();
                dstPtl.unlock();
            }
            return 0;
        });
        return r < 0 ? r : copied[0];
    }

    /**
     * copy_nonpresent_pte for a swap PTE: one more reference on the slot (swap_duplicate) for the
     * child, and the entry marked shared: the exclusive bit cleared in the parent's PTE and in the
     * child's. Returns the child's PTE, or 0 (pte_none) when the slot cannot take another reference (the
     * kernel would add a swap count continuation; not modelled, so fork fails with -ENOMEM).
     * <b>Context:</b> both PTLs held.
     */
    private long copyNonpresentPte(final PageTables dst, final long srcPa, final long pte) {
        final long entry = format.pteToSwpEntry(pte);
        if (SwpEntry.nonSwapEntry(entry)) {
            return pte;
        }
        if (machine.swapBackend().swapDuplicate(entry) < 0) {
            return 0;
        }
        long child = pte;
        if (format.pteSwpExclusive(pte)) {
            child = format.pteSwpClearExclusive(pte);
            putEntry(srcPa, child, 0); // set_pte_at(src_mm, ...): not present, nothing to flush
        }
        dst.swapEnts.incrementAndGet();
        return child;
    }

    /** MM_SWAPENTS: the swap PTEs of this mm. */
    public long swapEnts() {
        return swapEnts.get();
    }

    /** add_mm_counter(mm, MM_SWAPENTS, delta): a swap PTE installed (+1, try_to_unmap) or mapped back (-1, do_swap_page). */
    public void addSwapEnts(final long delta) {
        swapEnts.addAndGet(delta);
    }

    // ---------------------------------------------------------------- teardown and introspection

    /**
     * pgd_free and the frees of free_pgtables at exit: frees every table, the root included.
     * <b>Context:</b> after exit_mmap has zapped every range and flushed every CPU that ran the mm;
     * nothing walks these tables any more.
     */
    public void destroy() {
        pageTableLock.lock();
        try {
            destroyLevel(rootPfn, rootLevel);
        } finally {
            pageTableLock.unlock();
        }
        ptls.clear();
    }

    private void destroyLevel(final long table, final int level) {
        if (level >= 1) {
            for (int i = 0; i < ptrsPerTable(level); i++) {
                final long slot = slotPa(table, i);
                final long e = mem.getLongAcquire(slot);
                if (format.isTable(e, level)) {
                    destroyLevel(format.pfn(e), level - 1);
                    mem.putLongRelease(slot, 0);
                }
            }
        }
        tableFrames.decrementAndGet();
        machine.leakAccounting().pageTableFrames().decrement();
        frames.put(MmuGather.cpuHint(), table);
    }

    /** Page-table frames currently allocated, root included (the VmPTE analogue). */
    public long tableFrames() {
        return tableFrames.get();
    }

    /**
     * The walk for {@code va}, root first, one {@link WalkStep} per level read; it stops at the PTE
     * level or at the first entry that is not a table. Reads entries with acquire semantics and
     * changes nothing (no accessed/dirty bits), unlike the hardware walker.
     */
    public List<WalkStep> walk(final long va) {
        final List<WalkStep> steps = new ArrayList<>();
        long table = rootPfn;
        for (int level = rootLevel; level >= 0; level--) {
            final int idx = format.index(va, level);
            final long e = mem.getLongAcquire(slotPa(table, idx));
            steps.add(new WalkStep(
                    level,
                    format.levelShift(level),
                    format.indexBits(level),
                    idx,
                    table,
                    e,
                    format.describe(e, level)));
            if (level == 0 || !format.isTable(e, level)) {
                break;
            }
            table = format.pfn(e);
        }
        return steps;
    }

    /** A teaching dump of the walk for {@code va}: one line per level, root first ({@link #walk}). */
    public String dumpWalk(final long va) {
        final StringBuilder sb = new StringBuilder();
        for (final WalkStep s : walk(va)) {
            sb.append(String.format(
                    "level %d index %3d entry 0x%016x %s%n", s.level(), s.index(), s.entry(), s.decoded()));
        }
        return sb.toString();
    }
}
