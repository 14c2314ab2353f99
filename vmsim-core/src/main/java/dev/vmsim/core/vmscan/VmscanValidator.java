package dev.vmsim.core.vmscan;

import dev.vmsim.core.Machine;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.ShmemFile;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.phys.MemMap;
import dev.vmsim.core.phys.PageFlags;
import dev.vmsim.core.rmap.Rmap;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The machine-wide checks of reclaim's bookkeeping (in the spirit of CONFIG_DEBUG_VM's
 * VM_BUG_ON_FOLIO checks, gathered in one pass):
 *
 * <ul>
 *   <li>Every allocated frame is accounted for: on an LRU list, in an lru_add batch, isolated by a
 *       reclaimer, in the swap cache off the LRU, a page-table frame, or a shmem page-cache frame;
 *       the zero page is reserved and never counted as allocated.
 *   <li>The LRU lists are well formed: each list's length equals its size counter, each folio on
 *       it has PG_lru and the PG_active its list names.
 *   <li>Every anonymous folio on the LRU or in a batch that is mapped is mapped exactly
 *       mapcount times by the PTEs an rmap walk finds (so no PTE escapes try_to_unmap).
 * </ul>
 *
 * <p><b>Context:</b> a quiescent machine: no task runs, kswapd is idle, no reclaimer holds
 * isolated folios except as counted.
 */
public final class VmscanValidator {
    private VmscanValidator() {}

    public static void validate(final Machine machine) {
        final Vmscan vmscan = machine.vmscan();
        final FrameAllocator frames = machine.frames();
        final MemMap memMap = frames.memMap();
        final Lruvec lruvec = vmscan.lruvec();
        long onLru = 0;
        final long[] seen = new long[memMap.size()];
        for (int lru = 0; lru < Lruvec.NR_LRU_LISTS; lru++) {
            long n = 0;
            for (long pfn = lruvec.head(lru); pfn >= 0; pfn = lruvec.nextOf(pfn)) {
                n++;
                if (n > memMap.size()) {
                    throw new IllegalStateException(Lruvec.name(lru) + " list has a cycle");
                }
                if (!memMap.test(pfn, PageFlags.PG_LRU) || lruvec.folioLruList(pfn) != lru) {
                    throw new IllegalStateException("pfn " + pfn + " on " + Lruvec.name(lru) + " with flags "
                            + PageFlags.format(memMap.flags(pfn)));
                }
                if (frames.refcount(pfn) < 1) {
                    throw new IllegalStateException("free pfn " + pfn + " on " + Lruvec.name(lru));
                }
                seen[(int) pfn]++;
                checkRmap(frames, pfn);
            }
            if (n != lruvec.size(lru)) {
                throw new IllegalStateException(
                        Lruvec.name(lru) + " holds " + n + " folios, counted " + lruvec.size(lru));
            }
            onLru += n;
        }
        final long batched = vmscan.batchedFolios();
        vmscan.markBatched(seen); // a swap-cache folio in a batch is counted there, not again below
        long swapCacheOffLru = 0;
        for (int pfn = 1; pfn < memMap.size(); pfn++) {
            if (frames.refcount(pfn) > 0 && memMap.test(pfn, PageFlags.PG_SWAPCACHE) && seen[pfn] == 0) {
                swapCacheOffLru++;
            }
            if (seen[pfn] == 0
                    && memMap.test(pfn, PageFlags.PG_LRU)
                    && frames.refcount(pfn) > 0) { // (batched folios have no PG_lru)
                throw new IllegalStateException("pfn " + pfn + " has PG_lru but is on no list");
            }
        }
        long tables = 0;
        final Set<ShmemFile> files = Collections.newSetFromMap(new IdentityHashMap<>());
        for (final MmStruct mm : machine.mms()) {
            tables += mm.pageTables().tableFrames();
            for (final Vma v : mm.vmas()) {
                if (v.vmFile != null) {
                    files.add(v.vmFile);
                }
            }
        }
        long shmem = 0;
        for (final ShmemFile f : files) {
            shmem += f.cachedPages();
        }
        final long accounted = onLru + batched + vmscan.nrIsolated() + swapCacheOffLru + tables + shmem;
        final long allocated = frames.allocatedFrames();
        if (accounted != allocated) {
            throw new IllegalStateException(allocated + " frames allocated, accounted " + accounted + ": lru " + onLru
                    + ", lru_add batches " + batched + ", isolated " + vmscan.nrIsolated() + ", swap cache off the LRU "
                    + swapCacheOffLru + ", page tables " + tables + ", shmem " + shmem);
        }
    }

    /** A mapped anonymous folio's mapcount equals the PTEs rmap_walk finds. */
    private static void checkRmap(final FrameAllocator frames, final long pfn) {
        if (!Rmap.folioTestAnon(frames.memMap(), pfn)) {
            return;
        }
        final int mapcount = frames.mapcount(pfn);
        final int found = Rmap.countMappings(frames, pfn);
        if (found != mapcount) {
            throw new IllegalStateException(
                    "pfn " + pfn + " has mapcount " + mapcount + " but rmap_walk finds " + found + " PTEs");
        }
    }
}
