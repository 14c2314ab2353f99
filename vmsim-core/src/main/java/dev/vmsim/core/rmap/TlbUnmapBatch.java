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

    /** set_tlb_ubc_flush_pending. */
    public void addPending(final MmStruct mm, final boolean dirtyOrWritable) {
        pending.add(mm);
        writable |= dirtyOrWritable;
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
