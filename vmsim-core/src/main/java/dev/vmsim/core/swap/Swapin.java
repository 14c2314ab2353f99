package dev.vmsim.core.swap;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.Errno;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.stat.VmEvent;

/**
 * Swap-in (mm/swap_state.c): swapin_readahead with the VMA-based window (swap_vma_readahead),
 * read_swap_cache_async and __read_swap_cache_async.
 *
 * <p>Departure: the window is fixed at 1 &lt;&lt; page-cluster pages around the fault, clipped to
 * the VMA and the PTE table (swap_vma_ra_win's "neither neighbour" case), not resized from the
 * readahead hit history; readahead folios are not plugged into one request.
 */
public final class Swapin {
    /** One jiffy at HZ=250: how long __read_swap_cache_async sleeps when another task is adding the folio. */
    private static final long JIFFY_NS = 4_000_000;

    private final Swap swap;

    Swapin(final Swap swap) {
        this.swap = swap;
    }

    /** A folio for a slot, with a reference: its frame, and whether this call allocated it (and so must read it). */
    public record Folio(long pfn, boolean allocated) {
        static final Folio NONE = new Folio(-1, false);
    }

    /**
     * __read_swap_cache_async: the swap cache's folio for {@code entry} (a reference taken), or a new
     * one, locked, in the swap cache and to be read (allocated). {@link Folio#NONE} when the slot was
     * freed meanwhile or no frame is free.
     */
    public Folio readSwapCacheAsyncNoIo(final long entry) {
        final SwapInfo si = swap.info();
        final FrameAllocator frames = swap.frames();
        final long offset = SwpEntry.swpOffset(entry);
        for (; ; ) {
            final long found = swap.swapCacheGetFolioNoRa(entry);
            if (found >= 0) {
                return new Folio(found, false);
            }
            if (si.swapCount(offset) == 0) {
                return Folio.NONE; // !swap_entry_swapped: freed since the caller read its PTE
            }
            final long pfn = frames.allocZeroed(Swap.cpu());
            if (pfn == FrameAllocator.NO_FRAME) {
                return Folio.NONE;
            }
            final int err = si.swapcachePrepare(offset);
            if (err == 0) {
                // The entry is ours to swap in. The folio is invisible until add_to_swap_cache.
                swap.memMap().setFlagsInit(pfn, (1L << PageFlags.PG_LOCKED) | (1L << PageFlags.PG_SWAPBACKED));
                if (!swap.addToSwapCache(pfn, entry)) {
                    throw new IllegalStateException("swap cache slot " + offset + " taken with SWAP_HAS_CACHE ours");
                }
                swap.machine().vmscan().folioAddLru(Swap.cpu(), pfn); // folio_add_lru(new_folio)
                return new Folio(pfn, true);
            }
            swap.memMap().setFlagsInit(pfn, 0);
            frames.put(Swap.cpu(), pfn);
            if (err != -Errno.EEXIST) {
                return Folio.NONE;
            }
            // Another task set SWAP_HAS_CACHE and is adding its folio: schedule_timeout_uninterruptible(1).
            final Platform p = Platform.current();
            p.sleepUntil(p.now() + JIFFY_NS, "swapcache_prepare");
        }
    }

    /** read_swap_cache_async: the folio, its read submitted if this call allocated it. */
    public Folio readSwapCacheAsync(final long entry) {
        final Folio f = readSwapCacheAsyncNoIo(entry);
        if (f.allocated()) {
            swap.swapReadFolio(f.pfn(), entry);
        }
        return f;
    }

    /**
     * swapin_readahead → swap_vma_readahead: reads the swap PTEs' slots in a window of
     * {@code 1 << page-cluster} pages around {@code address} (each allocated readahead folio
     * marked PG_readahead and counted in swap_ra), then the faulting entry's. Returns the faulting
     * entry's folio with a reference (locked while its read is in flight), or {@link Folio#NONE}.
     * <b>Context:</b> the fault lock (VMA or mmap read) is held; PTEs are read without the PTL, as
     * the kernel's pte_offset_map does here.
     */
    public Folio swapinReadahead(final long entry, final MmStruct mm, final Vma vma, final long address) {
        final int win = 1 << swap.params().pageCluster();
        if (win > 1) {
            final PageTables pt = mm.pageTables();
            final PageTableFormat fmt = pt.format();
            final long page = mm.pageSize();
            final long fault = address & -page;
            final long left = (win - 1) / 2;
            final long tableSpan = page << fmt.indexBits(0);
            final long tableStart = fault & -tableSpan;
            final long start = Math.max(Math.max(vma.vmStart, tableStart), fault - left * page);
            final long end = Math.min(Math.min(vma.vmEnd, tableStart + tableSpan), fault + (win - left) * page);
            for (long a = start; a < end; a += page) {
                if (a == fault) {
                    continue;
                }
                final long pa = pt.ptePa(a, false);
                if (pa < 0) {
                    continue;
                }
                final long pte = pt.readPte(pa);
                if (!fmt.isSwapSlotPte(pte)) {
                    continue;
                }
                final long e = fmt.pteToSwpEntry(pte);
                if (!swap.isOurs(e)) {
                    continue;
                }
                final Folio f = readSwapCacheAsync(e);
                if (f.pfn() < 0) {
                    continue;
                }
                if (f.allocated()) {
                    swap.memMap().set(f.pfn(), PageFlags.PG_RECLAIM); // folio_set_readahead
                    swap.machine().vmstat().count(VmEvent.SWAP_RA);
                }
                swap.folioPut(f.pfn());
            }
        }
        return readSwapCacheAsync(entry);
    }
}
