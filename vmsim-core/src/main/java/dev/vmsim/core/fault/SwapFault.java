package dev.vmsim.core.fault;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_ALLOW_RETRY;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_RETRY_NOWAIT;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_TRIED;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_VMA_LOCK;
import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_WRITE;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_HWPOISON;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_MAJOR;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_OOM;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_RETRY;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_SIGBUS;
import static dev.vmsim.core.fault.VmFault.VM_FAULT_SIGSEGV;

import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.VmFlags;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.pgtable.PageTableFormat;
import dev.vmsim.core.pgtable.PageTables;
import dev.vmsim.core.pgtable.Ptl;
import dev.vmsim.core.phys.FolioWait;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.rmap.Rmap;
import dev.vmsim.core.stat.VmEvent;
import dev.vmsim.core.swap.PteMarker;
import dev.vmsim.core.swap.Swap;
import dev.vmsim.core.swap.Swapin;
import dev.vmsim.core.swap.SwpEntry;
import dev.vmsim.core.trace.FaultTrace;

/**
 * do_swap_page (mm/memory.c) and folio_lock_or_retry / __folio_lock_or_retry (mm/filemap.c): the
 * fault on a swap PTE.
 *
 * <p>The folio comes from the swap cache, or from swapin_readahead, whose read leaves it locked
 * until the I/O completes; that is a major fault (VM_FAULT_MAJOR, pgmajfault). The folio lock is
 * then taken with folio_lock_or_retry: on a first attempt that may retry (FAULT_FLAG_ALLOW_RETRY
 * without FAULT_FLAG_TRIED) a fault that would sleep releases its fault lock (the VMA read lock
 * under FAULT_FLAG_VMA_LOCK, else the mmap read lock), waits for the folio to be unlocked (the read
 * to complete), and returns VM_FAULT_RETRY; the arch handler retries under the mmap lock with
 * FAULT_FLAG_TRIED, and that attempt sleeps for the lock with its fault lock held. Then, under the
 * PTL, the PTE must still be the swap PTE (pte_same), the swap PTE's slot reference is dropped
 * (swap_free), the swap-cache copy freed when should_try_to_free_swap says so, and the page mapped
 * (writable at once when exclusive, the do_wp_page reuse rule).
 *
 * <p>Departures: no KSM copy, no SWP_SYNCHRONOUS_IO path, no large folios, no uffd-wp or
 * soft-dirty bits; the kernel's killable waits are uninterruptible here.
 */
final class SwapFault {
    private SwapFault() {}

    /**
     * handle_pte_marker (mm/memory.c): a marker with no bits is a kernel bug, a poisoned one is
     * VM_FAULT_HWPOISON, and "hitting a guard page is always a fatal condition": VM_FAULT_SIGSEGV,
     * which the arch handler turns into SIGSEGV with SEGV_MAPERR (x86 bad_area_nosemaphore, arm64
     * do_page_fault's default si_code). No uffd-wp marker is ever installed here, so the last branch
     * (an unknown marker) is VM_FAULT_SIGBUS as in the kernel.
     */
    static int handlePteMarker(final long entry) {
        final long marker = PteMarker.pteMarkerGet(entry);
        if (marker == 0) {
            return VM_FAULT_SIGBUS;
        }
        if ((marker & PteMarker.PTE_MARKER_POISONED) != 0) {
            return VM_FAULT_HWPOISON;
        }
        if ((marker & PteMarker.PTE_MARKER_GUARD) != 0) {
            FaultTrace.doSwapPage("handle_pte_marker", "guard: VM_FAULT_SIGSEGV");
            return VM_FAULT_SIGSEGV;
        }
        return VM_FAULT_SIGBUS;
    }

    /** do_swap_page, called from handle_pte_fault with the fault lock held and {@code orig} a swap PTE. */
    static int doSwapPage(
            final MmStruct mm, final Vma vma, final long address, final int flags, final long ptePa, final long orig) {
        final PageTables pt = mm.pageTables();
        final PageTableFormat fmt = pt.format();
        final long entry = fmt.pteToSwpEntry(orig);
        if (FaultTrace.enabled()) {
            FaultTrace.doSwapPage(
                    "swap_pte", SwpEntry.describe(entry) + (fmt.pteSwpExclusive(orig) ? " exclusive" : ""));
        }
        final Swap swap = mm.machine().swap();
        if (SwpEntry.nonSwapEntry(entry)) {
            if (PteMarker.isPteMarkerEntry(entry)) {
                return handlePteMarker(entry);
            }
            return VM_FAULT_SIGBUS; // migration and hwpoison entries are not produced here
        }
        if (swap == null || !swap.isOurs(entry)) {
            return 0; // get_swap_device failing: the PTE changed under us; the access is retried
        }
        final FrameAllocator frames = mm.machine().frames();
        final MemMap memMap = frames.memMap();
        int ret = 0;
        long pfn = swap.swapCacheGetFolio(entry);
        if (pfn >= 0) {
            FaultTrace.doSwapPage("swap_cache", "hit");
        } else {
            FaultTrace.doSwapPage("swap_cache", "miss");
            final Swapin.Folio f = swap.swapin().swapinReadahead(entry, mm, vma, address);
            pfn = f.pfn();
            if (pfn < 0) {
                // Back out if somebody else faulted in this PTE while we had no folio.
                final Ptl ptl = pt.ptl(ptePa);
                ptl.lock();
                try {
                    return pt.readPte(ptePa) == orig ? VM_FAULT_OOM : 0;
                } finally {
                    ptl.unlock();
                }
            }
            // Had to read the page from swap area: major fault.
            ret = VM_FAULT_MAJOR;
            mm.machine().vmstat().count(VmEvent.PGMAJFAULT);
        }
        ret |= folioLockOrRetry(swap, pfn, vma, flags);
        if ((ret & VM_FAULT_RETRY) != 0) {
            swap.folioPut(pfn); // out_release
            return ret;
        }
        final FolioWait fw = frames.folioWait();
        // Make sure folio_free_swap() or swapoff did not release the swap cache from under us.
        if (!memMap.test(pfn, PageFlags.PG_SWAPCACHE) || memMap.privateValue(pfn) != entry) {
            FaultTrace.doSwapPage("raced", "left the swap cache");
            fw.unlock(pfn);
            swap.folioPut(pfn);
            return ret;
        }
        final Ptl ptl = pt.ptl(ptePa);
        ptl.lock();
        try {
            if (pt.readPte(ptePa) != orig) {
                FaultTrace.doSwapPage("raced", "pte changed");
                fw.unlock(pfn);
                swap.folioPut(pfn);
                return ret; // out_nomap
            }
            if (!memMap.test(pfn, PageFlags.PG_UPTODATE)) {
                fw.unlock(pfn);
                swap.folioPut(pfn);
                return VM_FAULT_SIGBUS; // the read failed
            }
            final boolean exclusive = fmt.pteSwpExclusive(orig);
            int fflags = flags;
            swap.swapFree(entry);
            if (shouldTryToFreeSwap(swap, frames, pfn, vma, fflags)) {
                swap.folioFreeSwap(pfn);
            }
            mm.addAnonRss(1);
            pt.addSwapEnts(-1);
            long pte = fmt.pfnPte(pfn, fmt.vmGetPageProt(vma.vmFlags));
            String how = "read-only";
            // Same logic as do_wp_page's reuse: exclusive, or our reference is the only one.
            if (exclusive || frames.refcount(pfn) == 1) {
                if ((vma.vmFlags & VmFlags.VM_WRITE) != 0) {
                    pte = fmt.pteMkwrite(pte);
                    how = "writable";
                    if ((fflags & FAULT_FLAG_WRITE) != 0) {
                        pte = fmt.pteMkdirty(pte);
                        fflags &= ~FAULT_FLAG_WRITE;
                    }
                }
                memMap.set(pfn, PageFlags.PG_ANON_EXCLUSIVE); // RMAP_EXCLUSIVE
            }
            // folio_add_anon_rmap_pte (anonymous again if the swap-in just read it); PG_anon_exclusive
            // was set above. Our lookup reference becomes the mapping's.
            Rmap.folioAddAnonRmapPte(frames, pfn, vma, address, false);
            pt.setPte(ptePa, pte);
            fw.unlock(pfn);
            if (FaultTrace.enabled()) {
                FaultTrace.doSwapPage(
                        "mapped",
                        how + (memMap.test(pfn, PageFlags.PG_SWAPCACHE) ? ", stays in swap cache" : ", swap freed"));
            }
            if ((fflags & FAULT_FLAG_WRITE) != 0) {
                final int wp = PteFault.doWpPage(mm, vma, address, fflags, ptePa, pte, ptl);
                return (wp & VmFault.VM_FAULT_ERROR) != 0 ? (wp & VmFault.VM_FAULT_ERROR) : ret | wp;
            }
            return ret;
        } finally {
            ptl.unlock();
        }
    }

    /**
     * should_try_to_free_swap: the folio is in the swap cache and swap is over half full (or the VMA
     * is mlocked), or this is a write fault and the swap cache's reference and ours are the only
     * ones, so freeing the cache makes the page exclusive.
     */
    private static boolean shouldTryToFreeSwap(
            final Swap swap, final FrameAllocator frames, final long pfn, final Vma vma, final int flags) {
        if (!frames.memMap().test(pfn, PageFlags.PG_SWAPCACHE)) {
            return false;
        }
        if (swap.vmSwapFull() || (vma.vmFlags & VmFlags.VM_LOCKED) != 0) {
            return true;
        }
        return (flags & FAULT_FLAG_WRITE) != 0 && frames.refcount(pfn) == 2;
    }

    /**
     * folio_lock_or_retry: the folio lock at once (folio_trylock), or __folio_lock_or_retry. On a
     * first attempt that may retry, the fault lock is released (release_fault_lock), the task waits
     * for the folio to be unlocked (the read to complete) and VM_FAULT_RETRY is returned; with
     * FAULT_FLAG_RETRY_NOWAIT it returns VM_FAULT_RETRY with the lock still held. Otherwise it sleeps
     * for the lock with the fault lock held and returns 0.
     */
    static int folioLockOrRetry(final Swap swap, final long pfn, final Vma vma, final int flags) {
        final FolioWait fw = swap.machine().frames().folioWait();
        if (fw.trylock(pfn)) {
            FaultTrace.doSwapPage("locked", "");
            return 0;
        }
        final boolean io =
                swap.io().inFlight(pfn) || !swap.machine().frames().memMap().test(pfn, PageFlags.PG_UPTODATE);
        if ((flags & FAULT_FLAG_ALLOW_RETRY) != 0 && (flags & FAULT_FLAG_TRIED) == 0) {
            if ((flags & FAULT_FLAG_RETRY_NOWAIT) != 0) {
                return VM_FAULT_RETRY;
            }
            FaultLock.releaseFaultLock(vma, flags);
            FaultTrace.doSwapPage("lock_dropped", (flags & FAULT_FLAG_VMA_LOCK) != 0 ? "vma" : "mmap");
            FaultTrace.doSwapPage("io_wait", io ? "read in flight" : "folio locked");
            swap.io().waitIo(pfn);
            fw.waitLocked(pfn);
            FaultTrace.doSwapPage("retry", "");
            return VM_FAULT_RETRY;
        }
        FaultTrace.doSwapPage("io_wait", io ? "read in flight, fault lock held" : "folio locked, fault lock held");
        swap.io().waitIo(pfn);
        fw.lock(pfn);
        FaultTrace.doSwapPage("locked", "");
        return 0;
    }
}
