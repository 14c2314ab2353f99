package dev.vmsim.core.rmap;

import dev.vmsim.core.cpu.TlbFlush;
import dev.vmsim.core.mm.MmStruct;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * struct tlbflush_unmap_batch (current->tlb_ubc, mm/rmap.c): with TTU_BATCH_FLUSH, try_to_unmap_one
 * clears PTEs without flushing (set_tlb_ubc_flush_pending records the mm) and reclaim flushes
 * once for all of them: try_to_unmap_flush_dirty before writing a folio out (no CPU may still
 * write it through a stale writable entry), try_to_unmap_flush before freeing.
 *
 * <p>Departure: arch_tlbbatch_flush flushes the union of the pending mms' cpumasks in one IPI
 * round (x86) or one DSB (arm64); here each pending mm gets one whole-mm shootdown
 * ({@link TlbFlush#flushTlbMm}), in the order the mms were recorded.
 *
 * <p><b>Thread safety.</b> One per reclaiming task, as current->tlb_ubc is.
 */
public final class TlbUnmapBatch {
    private final Set<MmStruct> pending = new LinkedHashSet<>();
    /** tlb_ubc->writable: a cleared PTE was dirty or writable. */
    private boolean writable;

    private long flushes;

    /** TLB_FLUSH_BATCH_FLUSHED_SHIFT: mm->tlb_flush_batched keeps the flushed count above it. */
    static final int TLB_FLUSH_BATCH_FLUSHED_SHIFT = 16;
    /** TLB_FLUSH_BATCH_PENDING_MASK: the pending count below it. */
    static final int TLB_FLUSH_BATCH_PENDING_MASK = (1 << TLB_FLUSH_BATCH_FLUSHED_SHIFT) - 1;
    /** TLB_FLUSH_BATCH_PENDING_LARGE: past it the counts restart at 1 and 0, before they wrap. */
    static final int TLB_FLUSH_BATCH_PENDING_LARGE = TLB_FLUSH_BATCH_PENDING_MASK / 2;

    /**
     * set_tlb_ubc_flush_pending: records {@code mm} for this batch's flush and counts a pending
     * batched flush in mm->tlb_flush_batched, so that a zap, mprotect or mremap that meets the
     * already-cleared PTE before the batch flushes knows it must flush for it. <b>Context:</b> the
     * PTL of the cleared PTE is held (the count is raised before it is dropped).
     */
    public void addPending(final MmStruct mm, final boolean dirtyOrWritable) {
        pending.add(mm);
        writable |= dirtyOrWritable;
        final java.util.concurrent.atomic.AtomicInteger batched = mm.tlbFlushBatched();
        int batch = batched.get();
        while (true) {
            if ((batch & TLB_FLUSH_BATCH_PENDING_MASK) > TLB_FLUSH_BATCH_PENDING_LARGE) {
                // Keep pending from catching up with flushed through overflow: restart at 1 and 0.
                final int witness = batched.compareAndExchange(batch, 1);
                if (witness == batch) {
                    return;
                }
                batch = witness;
            } else {
                batched.incrementAndGet();
                return;
            }
        }
    }

    /**
     * flush_tlb_batched_pending (mm/rmap.c): if a batched unmap of {@code mm} may not have flushed
     * yet, flush the whole mm now. Called with a PTL held by every path that changes PTEs another
     * CPU may still reach through its TLB (zap_pte_range, change_pte_range, move_ptes): such a path
     * can find a PTE reclaim cleared and not yet flushed, has then nothing of its own to flush, and
     * must not return while a CPU still writes the page. The flushed count is advanced only if no
     * new batch became pending meanwhile (the cmpxchg), so none is lost.
     */
    public static void flushTlbBatchedPending(final MmStruct mm) {
        final java.util.concurrent.atomic.AtomicInteger batched = mm.tlbFlushBatched();
        final int batch = batched.get();
        final int pending = batch & TLB_FLUSH_BATCH_PENDING_MASK;
        final int flushed = batch >>> TLB_FLUSH_BATCH_FLUSHED_SHIFT;
        if (pending != flushed) {
            TlbFlush.flushTlbMm(mm); // arch_flush_tlb_batched_pending
            batched.compareAndSet(batch, pending | (pending << TLB_FLUSH_BATCH_FLUSHED_SHIFT));
        }
    }

    /** tlb_ubc->flush_required. */
    public boolean flushRequired() {
        return !pending.isEmpty();
    }

    /** try_to_unmap_flush: flushes every pending mm. */
    public void flush() {
        if (pending.isEmpty()) {
            return;
        }
        for (final MmStruct mm : pending) {
            TlbFlush.flushTlbMm(mm);
        }
        pending.clear();
        writable = false;
        flushes++;
    }

    /** try_to_unmap_flush_dirty: flushes only if a cleared entry could still be written through. */
    public void flushDirty() {
        if (writable) {
            flush();
        }
    }

    /** Batched flushes done (arch_tlbbatch_flush calls). */
    public long flushes() {
        return flushes;
    }
}
