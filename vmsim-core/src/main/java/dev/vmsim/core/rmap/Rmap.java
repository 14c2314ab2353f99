package dev.vmsim.core.rmap;

import dev.vmsim.core.Machine;
import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.mm.AnonVma;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.vmscan.SwapBackend;

/**
 * Reverse mapping of anonymous folios (mm/rmap.c): the rmap accounting the fault, fork and zap
 * paths do on each PTE (folio_add_new_anon_rmap, folio_add_anon_rmap_pte,
 * folio_try_dup_anon_rmap_pte, folio_remove_rmap_pte), and the walks reclaim makes from a folio
 * to every PTE that maps it (rmap_walk_anon with page_vma_mapped_walk; folio_referenced;
 * try_to_unmap).
 *
 * <p>Only order-0 folios exist, so a folio is one frame ({@code pfn}) and its mapcount is the
 * frame's ({@link FrameAllocator#mapcount}). A folio's anon_vma is {@link MemMap#mapping} and its
 * linear page index {@link MemMap#index}.
 *
 * <p><b>Locking.</b> The accounting calls run under the PTL of the PTE they change. The walks take
 * the anon_vma root's rwsem for read (which keeps every VMA in the tree and its page tables in
 * place: unlink_anon_vmas takes it for write before free_pgtables), then each PTE's PTL.
 */
public final class Rmap {
    /** enum ttu_flags: TTU_BATCH_FLUSH, flush the TLB once per batch (the caller's). */
    public static final int TTU_BATCH_FLUSH = 0x20;

    private Rmap() {}

    /** linear_page_index: the page offset of {@code address} in the VMA's anon_vma space (vm_pgoff units). */
    public static long linearPageIndex(final Vma vma, final long address) {
        return ((address - vma.vmStart) >>> vma.vmMm.pageShift()) + vma.vmPgoff;
    }

    /**
     * folio_add_new_anon_rmap: a freshly allocated folio becomes anonymous in {@code vma} at
     * {@code address}: PG_swapbacked, mapping = vma's anon_vma, index = linear_page_index,
     * PG_anon_exclusive when {@code exclusive} (RMAP_EXCLUSIVE), mapcount 1.
     * <b>Context:</b> the folio is not yet reachable by any other CPU; PTL held.
     */
    public static void folioAddNewAnonRmap(
            final FrameAllocator frames, final long pfn, final Vma vma, final long address, final boolean exclusive) {
        final MemMap memMap = frames.memMap();
        long flags = memMap.flags(pfn) | (1L << PageFlags.PG_SWAPBACKED);
        if (exclusive) {
            flags |= 1L << PageFlags.PG_ANON_EXCLUSIVE;
        }
        memMap.setFlagsInit(pfn, flags);
        memMap.setIndex(pfn, linearPageIndex(vma, address));
        memMap.setMapping(pfn, vma.anonVma); // release: after the index, as __folio_set_anon orders it
        frames.incMapcount(pfn);
    }

    /**
     * folio_add_anon_rmap_pte: one more PTE maps a folio of the swap cache (swap-in). A folio the
     * swap-in just read is not anonymous yet: as __folio_add_anon_rmap does, it becomes so here
     * (__folio_set_anon: mapping = the VMA's anon_vma, index = linear_page_index), with atomic bit
     * operations because the folio is already on the LRU, where reclaim changes other bits. Sets
     * PG_anon_exclusive when {@code exclusive} (RMAP_EXCLUSIVE). <b>Context:</b> folio locked, PTL
     * held.
     */
    public static void folioAddAnonRmapPte(
            final FrameAllocator frames, final long pfn, final Vma vma, final long address, final boolean exclusive) {
        final MemMap memMap = frames.memMap();
        if (!folioTestAnon(memMap, pfn)) {
            memMap.set(pfn, PageFlags.PG_SWAPBACKED);
            memMap.setIndex(pfn, linearPageIndex(vma, address));
            memMap.setMapping(pfn, vma.anonVma);
        }
        if (exclusive) {
            memMap.set(pfn, PageFlags.PG_ANON_EXCLUSIVE);
        }
        frames.incMapcount(pfn);
    }

    /**
     * folio_try_dup_anon_rmap_pte (copy_present_pte at fork): the child's PTE maps the folio too, so
     * it is no longer exclusive to one mm (PG_anon_exclusive cleared). Departure: never fails (no
     * pinned folios here, so there is nothing to copy eagerly). <b>Context:</b> both PTLs held.
     */
    public static void folioDupAnonRmapPte(final FrameAllocator frames, final long pfn) {
        if (frames.memMap().mapping(pfn) instanceof AnonVma) {
            frames.memMap().clear(pfn, PageFlags.PG_ANON_EXCLUSIVE);
        }
        frames.incMapcount(pfn);
    }

    /** folio_dup_file_rmap_pte: a shmem folio mapped by one more PTE. */
    public static void folioDupFileRmapPte(final FrameAllocator frames, final long pfn) {
        frames.incMapcount(pfn);
    }

    /**
     * folio_remove_rmap_pte: one PTE no longer maps the folio. The mapping and index stay (a freed
     * folio's are cleared when it is next allocated). <b>Context:</b> PTL held.
     */
    public static void folioRemoveRmapPte(final FrameAllocator frames, final long pfn) {
        frames.decMapcount(pfn);
    }

    /**
     * folio_move_anon_rmap: do_wp_page reuses a folio now exclusive to {@code vma}; its rmap is
     * narrowed to vma's own anon_vma (a fork child's, not the ancestor's it was faulted under).
     * <b>Context:</b> PTL held, mapcount 1.
     */
    public static void folioMoveAnonRmap(final MemMap memMap, final long pfn, final Vma vma) {
        final AnonVma anonVma = vma.anonVma;
        if (anonVma != null && memMap.mapping(pfn) instanceof AnonVma) {
            memMap.setMapping(pfn, anonVma);
            memMap.set(pfn, PageFlags.PG_ANON_EXCLUSIVE);
        }
    }

    /** folio_test_anon: the folio's mapping is an anon_vma. */
    public static boolean folioTestAnon(final MemMap memMap, final long pfn) {
        return memMap.mapping(pfn) instanceof AnonVma;
    }

    /** folio_anon_vma: the anon_vma of an anonymous folio, else null. */
    public static AnonVma folioAnonVma(final MemMap memMap, final long pfn) {
        return memMap.mapping(pfn) instanceof AnonVma a ? a : null;
    }

    /** One mapping found by an rmap walk (rwc->rmap_one), called with the PTE's PTL held. */
    @FunctionalInterface
    public interface RmapOne {
        /**
         * @param ptePa the physical address of the PTE that maps the folio
         * @param pte its value when read under the PTL
         * @return false to stop the walk (the kernel's rmap_one returning false)
         */
        boolean rmapOne(Vma vma, long address, long ptePa, long pte);
    }

    /** rmap_walk_anon's result: visited every mapping, stopped early, or could not take the lock. */
    public enum WalkResult {
        DONE,
        STOPPED,
        /** rwc->contended: try_lock and the anon_vma lock was held. */
        CONTENDED
    }

    /**
     * rmap_walk_anon with page_vma_mapped_walk: for every VMA in the folio's anon_vma tree whose
     * range covers the folio's index (vma_address), takes the PTE's lock and, if the PTE is
     * present and maps this folio, calls {@code one}. With {@code tryLock} (folio_referenced), an
     * anon_vma lock held by another gives {@link WalkResult#CONTENDED} without waiting.
     */
    public static WalkResult rmapWalkAnon(
            final FrameAllocator frames, final long pfn, final boolean tryLock, final RmapOne one) {
        final MemMap memMap = frames.memMap();
        final AnonVma anonVma = folioAnonVma(memMap, pfn);
        if (anonVma == null) {
            return WalkResult.DONE;
        }
        if (tryLock) {
            if (!anonVma.tryLockRead()) {
                return WalkResult.CONTENDED;
            }
        } else {
            anonVma.lockRead();
        }
        try {
            final long pgoff = memMap.index(pfn);
            for (final AnonVmaChain avc : anonVma.treeIterable()) {
                final Vma vma = avc.vma;
                final MmStruct mm = vma.vmMm;
                final int shift = mm.pageShift();
                final long start = vma.vmStart;
                final long pages = (vma.vmEnd - start) >>> shift;
                final long off = pgoff - vma.vmPgoff;
                if (off < 0 || off >= pages) {
                    continue; // vma_address: the folio's index lies outside this VMA
                }
                final long address = start + (off << shift);
                if (!pageVmaMappedWalk(mm, vma, address, pfn, one)) {
                    return WalkResult.STOPPED;
                }
            }
            return WalkResult.DONE;
        } finally {
            anonVma.unlockRead();
        }
    }

    /** page_vma_mapped_walk for one order-0 folio: the PTE at address, if it maps pfn; returns one's verdict. */
    private static boolean pageVmaMappedWalk(
            final MmStruct mm, final Vma vma, final long address, final long pfn, final RmapOne one) {
        final PageTables pt = mm.pageTables();
        final long ptePa = pt.ptePa(address, false);
        if (ptePa < 0) {
            return true;
        }
        final PageTableFormat fmt = pt.format();
        if (!mapsPfn(fmt, pt.readPte(ptePa), pfn)) {
            return true; // check_pte without the lock first, as the kernel's map_pte does
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            final long pte = pt.readPte(ptePa);
            if (!mapsPfn(fmt, pte, pfn)) {
                return true;
            }
            return one.rmapOne(vma, address, ptePa, pte);
        } finally {
            ptl.unlock();
        }
    }

    private static boolean mapsPfn(final PageTableFormat fmt, final long pte, final long pfn) {
        return !fmt.pteNone(pte) && fmt.ptePresent(pte) && !fmt.pteSpecial(pte) && fmt.pfn(pte) == pfn;
    }

    /**
     * folio_referenced (mm/rmap.c) for an anonymous folio: clears the young bit of every PTE that
     * maps it (ptep_clear_flush_young: x86's _PAGE_ACCESSED, arm64's AF, with a TLB flush where
     * the architecture does one) and returns how many were young, or -1 when the anon_vma lock was
     * contended (the caller keeps the folio). {@code vmFlags[0]} gets the union of the mapping
     * VMAs' flags.
     */
    public static int folioReferenced(final FrameAllocator frames, final long pfn, final long[] vmFlags) {
        final int[] referenced = {0};
        vmFlags[0] = 0;
        final WalkResult r = rmapWalkAnon(frames, pfn, true, (vma, address, ptePa, pte) -> {
            final MmStruct mm = vma.vmMm;
            final PageTables pt = mm.pageTables();
            final PageTableFormat fmt = pt.format();
            if (ptepTestAndClearYoung(pt, fmt, ptePa)) {
                referenced[0]++;
                if (mm.machine().arch().clearFlushYoungFlushesTlb()) {
                    TlbFlush.flushTlbPage(mm, address);
                }
            }
            vmFlags[0] |= vma.vmFlags;
            return true;
        });
        return r == WalkResult.CONTENDED ? -1 : referenced[0];
    }

    /** ptep_test_and_clear_young: an atomic clear of the young bit, against the walker setting A/D. */
    private static boolean ptepTestAndClearYoung(final PageTables pt, final PageTableFormat fmt, final long ptePa) {
        long pte = pt.readPte(ptePa);
        while (fmt.pteYoung(pte)) {
            if (pt.casPte(ptePa, pte, fmt.pteMkold(pte))) {
                return true;
            }
            pte = pt.readPte(ptePa);
        }
        return false;
    }

    /**
     * try_to_unmap (mm/rmap.c) for an anonymous folio in the swap cache: try_to_unmap_one on every
     * PTE that maps it, until it is not mapped (folio_not_mapped). Each PTE is replaced by the
     * swap PTE of the folio's slot ({@link SwapBackend#swapPte}), MM_ANONPAGES--, MM_SWAPENTS++,
     * the mapping's rmap and reference dropped. With {@link #TTU_BATCH_FLUSH} the flush is left to
     * {@code batch}; else each PTE is flushed as it is cleared (ptep_clear_flush).
     * <b>Context:</b> the folio is locked; the caller holds a reference.
     *
     * @return whether the folio is no longer mapped
     */
    public static boolean tryToUnmap(
            final Machine machine, final long pfn, final int flags, final TlbUnmapBatch batch) {
        final FrameAllocator frames = machine.frames();
        final SwapBackend swap = machine.swapBackend();
        rmapWalkAnon(
                frames,
                pfn,
                false,
                (vma, address, ptePa, pte) -> tryToUnmapOne(frames, swap, pfn, vma, address, ptePa, flags, batch)
                        && frames.mapcount(pfn) > 0);
        return frames.mapcount(pfn) == 0;
    }

    /** try_to_unmap_one's anonymous, order-0 path. <b>Context:</b> the PTE's PTL held. Returns false to abort. */
    private static boolean tryToUnmapOne(
            final FrameAllocator frames,
            final SwapBackend swap,
            final long pfn,
            final Vma vma,
            final long address,
            final long ptePa,
            final int flags,
            final TlbUnmapBatch batch) {
        if ((vma.vmFlags & VmFlags.VM_LOCKED) != 0) {
            return false; // mlocked: the folio stays (mlock_vma_folio, then walk_abort)
        }
        final MmStruct mm = vma.vmMm;
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final MemMap memMap = frames.memMap();
        if (!memMap.test(pfn, PageFlags.PG_SWAPCACHE)) {
            return false; // no slot: only folios add_to_swap put in the swap cache can be unmapped here
        }
        // ptep_get_and_clear (batched: set_tlb_ubc_flush_pending) or ptep_clear_flush.
        long pteval = pt.readPte(ptePa);
        while (!pt.casPte(ptePa, pteval, 0)) {
            pteval = pt.readPte(ptePa);
        }
        if ((flags & TTU_BATCH_FLUSH) != 0 && batch != null) {
            batch.addPending(mm, fmt.pteDirty(pteval) || fmt.pteWrite(pteval));
        } else {
            TlbFlush.flushTlbPage(mm, address);
        }
        if (fmt.pteDirty(pteval)) {
            memMap.set(pfn, PageFlags.PG_DIRTY); // folio_mark_dirty
        }
        final boolean anonExclusive = memMap.test(pfn, PageFlags.PG_ANON_EXCLUSIVE);
        final long swpPte = swap.swapPte(mm, pfn, anonExclusive); // folio_dup_swap + swp_entry_to_pte
        if (swpPte == -1) {
            pt.setPte(ptePa, pteval); // set_pte_at(pteval); walk_abort
            return false;
        }
        if (anonExclusive) {
            memMap.clear(pfn, PageFlags.PG_ANON_EXCLUSIVE); // folio_try_share_anon_rmap_pte
        }
        mm.machine().mmlist().add(mm); // swapoff must find every mm that holds a swap entry
        mm.addAnonRss(-1);
        mm.addSwapEnts(1);
        pt.setPte(ptePa, swpPte);
        folioRemoveRmapPte(frames, pfn);
        frames.put(cpuHint(), pfn); // the mapping's reference; the caller's keeps the folio
        return true;
    }

    private static int cpuHint() {
        final dev.vmsim.core.cpu.Cpu cpu = dev.vmsim.core.cpu.Cpu.current();
        return cpu == null ? 0 : cpu.id();
    }

    /**
     * The mappings of {@code pfn} an rmap walk finds (PTEs that map it in the VMAs of its anon_vma
     * tree): for validation, which compares it with the folio's mapcount.
     */
    public static int countMappings(final FrameAllocator frames, final long pfn) {
        final int[] n = {0};
        rmapWalkAnon(frames, pfn, false, (vma, address, ptePa, pte) -> {
            n[0]++;
            return true;
        });
        return n[0];
    }
}
