package dev.vmsim.core.swap;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.debug.KernelOops;
import dev.vmsim.core.lock.LockHooks;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.rmap.Rmap;
import java.util.ArrayList;
import java.util.List;

/**
 * swapoff's walk of one mm (mm/swapfile.c): unuse_mm, unuse_vma, unuse_pte_range and unuse_pte.
 * Every swap PTE of the device in the mm's anonymous VMAs is read back through the swap cache and
 * replaced by a PTE mapping the folio, as do_swap_page would, but never writable (the next write
 * faults, as after the kernel's unuse_pte).
 *
 * <p>A fault on the same entry meets the same folio in the swap cache: whichever takes the folio lock
 * first maps it, and the other finds the PTE changed under the PTL (pte_same) and backs out.
 *
 * <p>Departures: no large folios, no KSM copy, no hwpoison; page-table levels above the PTE are not
 * walked one by one (the PTEs are scanned lock-free, then each is rechecked under its PTL, as
 * unuse_pte does).
 */
final class Unuse {
    private Unuse() {}

    /**
     * unuse_mm: under mmap_read_lock, unless the address space is unstable (the 6.18 fix,
     * check_stable_address_space: an interrupted fork's child, BUG-09), every VMA of the tree with an
     * anon_vma. 0, or unuse_vma's error. The walk is for_each_vma's, which returns an XA_ZERO_ENTRY
     * too: only the stability check keeps it from being taken for a VMA.
     */
    static int unuseMm(final Swap swap, final MmStruct mm) {
        mm.mmapLock().readLock();
        try {
            // BUG-09 fix: "mm: swap: check for stable address space before operating on the VMA".
            if (!BugSwitches.on(Bug.BUG_09) && mm.checkStableAddressSpace() != 0) {
                return 0;
            }
            final List<Vma> entries = new ArrayList<>();
            mm.mmMt().forEach(entries::add); // for_each_vma(vmi, vma)
            for (final Vma vma : entries) {
                if (Vma.xaIsZero(vma)) {
                    throw new KernelOops("BUG: kernel NULL pointer dereference: unuse_mm read vma->anon_vma of"
                            + " XA_ZERO_ENTRY, the interrupted fork's marker, taken for a VMA (BUG-09)");
                }
                if (vma.anonVma != null) {
                    final int ret = unuseVma(swap, mm, vma);
                    if (ret != 0) {
                        return ret;
                    }
                }
            }
            return 0;
        } finally {
            mm.mmapLock().readUnlock();
        }
    }

    /** unuse_vma → unuse_pte_range over the VMA: 0 or -ENOMEM. <b>Context:</b> mmap read lock held. */
    private static int unuseVma(final Swap swap, final MmStruct mm, final Vma vma) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final List<long[]> swapPtes = new ArrayList<>();
        pt.forEachPte(vma.vmStart, vma.vmEnd, (va, pte) -> {
            if (fmt.isSwapPte(pte)
                    && SwpEntry.swpType(fmt.pteToSwpEntry(pte)) == swap.info().type()) {
                swapPtes.add(new long[] {va, fmt.pteToSwpEntry(pte)});
            }
        });
        for (final long[] p : swapPtes) {
            final int ret = unusePteRangeOne(swap, mm, vma, p[0], p[1]);
            if (ret != 0) {
                return ret;
            }
        }
        return 0;
    }

    /**
     * unuse_pte_range's body for one swap PTE: the folio from the swap cache, or swapin_readahead
     * (which counts pswpin); none means -ENOMEM unless the slot was freed meanwhile. Then folio_lock,
     * folio_wait_writeback, unuse_pte, folio_free_swap, unlock and put.
     */
    private static int unusePteRangeOne(
            final Swap swap, final MmStruct mm, final Vma vma, final long addr, final long entry) {
        final SwapInfo si = swap.info();
        final long offset = SwpEntry.swpOffset(entry);
        long pfn = swap.swapCacheGetFolio(entry);
        if (pfn < 0) {
            pfn = swap.swapin().swapinReadahead(entry, mm, vma, addr).pfn();
        }
        if (pfn < 0) {
            final int count = si.swapCount(offset);
            return count == 0 || count == SwapInfo.SWAP_MAP_BAD ? 0 : -Errno.ENOMEM;
        }
        final FolioWait fw = swap.folioWait();
        swap.io().waitIo(pfn); // the read (ours or a fault's) ends: under the virtual clock, in its time
        fw.lock(pfn);
        LockHooks.at("unuse_pte_range:folio_locked");
        fw.waitWriteback(pfn);
        unusePte(swap, mm, vma, addr, entry, pfn);
        swap.folioFreeSwap(pfn);
        fw.unlock(pfn);
        swap.folioPut(pfn);
        Platform.current().preemptionPoint(); // cond_resched
        return 0;
    }

    /**
     * unuse_pte: under the PTL, if the PTE still holds {@code entry} (pte_same_as_swp, the exclusive
     * bit aside): MM_SWAPENTS down, MM_ANONPAGES up, a reference and the anon rmap (RMAP_EXCLUSIVE
     * when the swap PTE was exclusive) for the folio, an old, read-only PTE for it, and the slot's
     * reference dropped (swap_free). A PTE that changed (a fault got there first) is left alone.
     * <b>Context:</b> folio locked and uptodate (a read never fails here).
     */
    private static void unusePte(
            final Swap swap, final MmStruct mm, final Vma vma, final long addr, final long entry, final long pfn) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final FrameAllocator frames = swap.frames();
        final long ptePa = pt.ptePa(addr, false);
        if (ptePa < 0) {
            return;
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            final long old = pt.readPte(ptePa);
            if (!fmt.isSwapPte(old) || fmt.pteToSwpEntry(old) != entry) {
                return;
            }
            if (!frames.memMap().test(pfn, PageFlags.PG_SWAPCACHE)
                    || frames.memMap().privateValue(pfn) != entry) {
                return; // the folio left the swap cache for this entry: the next pass finds the slot again
            }
            pt.addSwapEnts(-1);
            mm.addAnonRss(1);
            frames.get(pfn); // folio_get: the mapping's reference
            final boolean exclusive = fmt.pteSwpExclusive(old);
            Rmap.folioAddAnonRmapPte(frames, pfn, vma, addr, exclusive);
            pt.setPte(ptePa, fmt.pteMkold(fmt.pfnPte(pfn, fmt.vmGetPageProt(vma.vmFlags))));
            swap.swapFree(entry);
        } finally {
            ptl.unlock();
        }
    }
}
