package dev.vmsim.core.swap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.vmscan.SwapBackend;

/**
 * Test helper: swaps out one page the way shrink_folio_list and try_to_unmap_one do for a folio
 * with a single mapping, through the {@link SwapBackend} interface reclaim uses.
 */
public final class SwapOut {
    private SwapOut() {}

    /**
     * folio_trylock, add_to_swap, try_to_unmap_one (the PTE replaced by the swap PTE under the PTL,
     * the TLB flushed, the mapping's mapcount and reference dropped, MM_ANONPAGES down) and pageout.
     * Returns the folio's pfn: unlocked, in the swap cache, under writeback.
     */
    public static long unmapAndWrite(final MmStruct mm, final long va) {
        final Swap swap = mm.machine().swap();
        final FrameAllocator frames = mm.machine().frames();
        final FolioWait fw = frames.folioWait();
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        mm.machine().vmscan().lruAddDrainAll(); // as reclaim finds it: on the LRU, no batch reference
        final long pa = pt.ptePa(va, false);
        final long pte = pt.readPte(pa);
        assertTrue(
                fmt.ptePresent(pte) && !fmt.pteSpecial(pte), "a private page is mapped at 0x" + Long.toHexString(va));
        final long pfn = fmt.pfn(pte);
        assertTrue(fw.trylock(pfn));
        assertTrue(swap.addToSwap(0, pfn), "a free slot");
        final boolean exclusive = frames.mapcount(pfn) == 1;
        final Ptl ptl = pt.ptl(pa);
        ptl.lock();
        try {
            pt.setPte(pa, 0); // ptep_clear_flush
            TlbFlush.flushTlbPage(mm, va & -mm.pageSize());
            final long swp = swap.swapPte(mm, pfn, exclusive);
            assertTrue(swp != -1);
            mm.machine().mmlist().add(mm);
            pt.setPte(pa, swp);
            mm.addSwapEnts(1);
            frames.decMapcount(pfn); // folio_remove_rmap_pte
            mm.addAnonRss(-1);
        } finally {
            ptl.unlock();
        }
        frames.put(0, pfn); // the mapping's reference; the swap cache keeps its own
        assertEquals(SwapBackend.Pageout.PAGE_SUCCESS, swap.pageout(0, pfn));
        return pfn;
    }

    /**
     * The rest of shrink_folio_list once writeback ends: folio_lock, __remove_mapping
     * (deleteFromSwapCache with the references frozen: here the swap cache's is the only one left),
     * folio_unlock, and the frame freed.
     */
    public static void reclaim(final MmStruct mm, final long pfn) {
        final Swap swap = mm.machine().swap();
        final FrameAllocator frames = mm.machine().frames();
        final FolioWait fw = frames.folioWait();
        mm.machine().vmscan().lruAddDrainAll(); // a batch's reference would look like a user's
        swap.io().waitIo(pfn);
        fw.waitWriteback(pfn);
        fw.lock(pfn);
        assertEquals(1, frames.refcount(pfn), "only the swap cache holds the folio");
        swap.deleteFromSwapCache(pfn);
        fw.unlock(pfn);
        assertTrue(frames.put(0, pfn), "the frame is freed");
    }

    /** Both steps: the page at {@code va} ends on swap only. */
    public static long swapOut(final MmStruct mm, final long va) {
        final long pfn = unmapAndWrite(mm, va);
        reclaim(mm, pfn);
        return pfn;
    }

    /** The swap entry in the PTE at {@code va} (0 if the PTE is not a swap PTE). */
    public static long entryAt(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        if (pa < 0) {
            return 0;
        }
        final long pte = pt.readPte(pa);
        return pt.format().isSwapPte(pte) ? pt.format().pteToSwpEntry(pte) : 0;
    }

    /** The PTE at {@code va} (0 if none). */
    public static long pteAt(final MmStruct mm, final long va) {
        final PageTables pt = mm.pageTables();
        final long pa = pt.ptePa(va, false);
        return pa < 0 ? 0 : pt.readPte(pa);
    }
}
