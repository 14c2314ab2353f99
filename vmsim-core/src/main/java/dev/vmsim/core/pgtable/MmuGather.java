package dev.vmsim.core.pgtable;

import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.swap.Swap;
import java.util.Arrays;

/**
 * struct mmu_gather (mm/mmu_gather.c): gathers the range to flush and the frames to free while
 * page tables are torn down, so that every frame — a data page or a page-table page — goes back
 * to the allocator only after every CPU that may hold the mm's translations (and, for tables, its
 * paging-structure caches) has been flushed (TLB-01, TLB-05, TLB-08).
 *
 * <p><b>Thread safety.</b> One gather belongs to one operation on one thread, as the kernel's lives
 * on the stack of the task doing munmap/exit.
 *
 * <pre>{@code
 * final MmuGather tlb = new MmuGather(mm);       // tlb_gather_mmu
 * mm.pageTables().zapRange(start, end, PageTables.ZAP_FLAG_DROP_MARKER, tlb); // unmap_vmas
 * mm.pageTables().freePgtables(start, end, floor, ceiling, tlb);
 * tlb.finish();                                  // tlb_finish_mmu: flush, then free
 * }</pre>
 */
public final class MmuGather {
    private final MmStruct mm;
    private final FrameAllocator frames;
    /** The range to flush, [start, end); empty when start >= end (__tlb_reset_range). */
    private long start = Long.MAX_VALUE;

    private long end;
    private long[] pages = new long[16];
    private int nrPages;
    private long[] tables = new long[4];
    private int nrTables;
    private boolean finished;
    private long flushes;

    /** tlb_gather_mmu. */
    public MmuGather(final MmStruct mm) {
        this.mm = mm;
        this.frames = mm.machine().frames();
    }

    public MmStruct mm() {
        return mm;
    }

    /** tlb_flush_pte_range / __tlb_adjust_range: widens the range to flush. */
    public void flushRange(final long rangeStart, final long rangeEnd) {
        if (rangeEnd <= rangeStart) {
            return;
        }
        start = Math.min(start, rangeStart);
        end = Math.max(end, rangeEnd);
    }

    /** __tlb_remove_page: the frame's mapping reference is dropped after the flush. */
    public void removePage(final long pfn) {
        assert !finished : "mmu_gather used after tlb_finish_mmu";
        if (nrPages == pages.length) {
            pages = Arrays.copyOf(pages, pages.length * 2);
        }
        pages[nrPages++] = pfn;
    }

    /**
     * pte_free_tlb / pmd_free_tlb (tlb_remove_table, MMU_GATHER_TABLE_FREE): a detached page-table
     * page, freed after the flush. {@code addr} is an address the table mapped: like
     * tlb_flush_pmd_range(tlb, address, PAGE_SIZE) it joins the range, so that a per-address
     * invalidation reaches the walk-cache entries that still point at the table.
     */
    public void removeTable(final long pfn, final long addr) {
        assert !finished : "mmu_gather used after tlb_finish_mmu";
        flushRange(addr, addr + mm.pageSize());
        if (nrTables == tables.length) {
            tables = Arrays.copyOf(tables, tables.length * 2);
        }
        tables[nrTables++] = pfn;
    }

    /**
     * tlb_flush_mmu: tlb_flush_mmu_tlbonly (tlb_flush over the gathered range on every CPU of the
     * mm, with freed_tables when page tables were removed, so cached table entries go too) then
     * tlb_flush_mmu_free.
     */
    public void flush() {
        if (BugSwitches.on(Bug.BUG_11)) {
            freeBatched(); // before the fix: frames reusable while other CPUs still cache them
        }
        if (end > start) {
            TlbFlush.tlbFlush(mm, start, end, nrTables > 0);
            flushes++;
        } else if (nrPages > 0 || nrTables > 0) {
            // Frames with no recorded range: be safe rather than free under a possible stale entry.
            TlbFlush.flushTlbMm(mm);
            flushes++;
        }
        start = Long.MAX_VALUE;
        end = 0;
        freeBatched(); // the BUG-11 fix: only after every CPU of the mm was flushed
    }

    /**
     * tlb_flush_mmu_free: the gathered frames go back to the allocator, each first through
     * free_swap_cache (free_pages_and_swap_cache): an unmapped folio whose swap copy no PTE needs
     * leaves the swap cache, so its frame and slot go now rather than at reclaim.
     */
    private void freeBatched() {
        if (nrPages > 0) {
            // free_pages_and_swap_cache: lru_add_drain first, so the batch's references go too.
            final dev.vmsim.core.cpu.Cpu self = dev.vmsim.core.cpu.Cpu.current();
            mm.machine().vmscan().lruAddDrain(self == null ? 0 : self.id());
        }
        final Swap swap = mm.machine().swap();
        if (swap != null) {
            for (int i = 0; i < nrPages; i++) {
                swap.freeSwapCache(pages[i]); // free_swap_cache, before folios_put drops the reference
            }
        }
        final int cpu = cpuHint();
        frames.putBatch(cpu, pages, nrPages); // free_pages_and_swap_cache → folios_put
        nrPages = 0;
        for (int i = 0; i < nrTables; i++) {
            frames.put(cpu, tables[i]);
        }
        nrTables = 0;
    }

    /** tlb_finish_mmu. */
    public void finish() {
        flush();
        finished = true;
    }

    /** Frames waiting for the flush (data pages). */
    public int pendingPages() {
        return nrPages;
    }

    /** Page-table frames waiting for the flush. */
    public int pendingTables() {
        return nrTables;
    }

    /** Shootdowns this gather issued. */
    public long flushes() {
        return flushes;
    }

    static int cpuHint() {
        final dev.vmsim.core.cpu.Cpu cpu = dev.vmsim.core.cpu.Cpu.current();
        return cpu != null ? cpu.id() : (int) Thread.currentThread().getId();
    }
}
