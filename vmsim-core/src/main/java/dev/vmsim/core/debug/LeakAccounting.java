package dev.vmsim.core.debug;

import java.util.concurrent.atomic.LongAdder;

/**
 * The machine-wide allocation counters behind {@link LeakCounts} that no allocator of the
 * simulator kept already: maple nodes of the VMA trees (maple_node_cache), anon_vmas
 * (anon_vma_cachep) and page-table frames (NR_PAGETABLE). Each is striped ({@link LongAdder}), as
 * the kernel's per-CPU vmstat diffs are, so the allocation paths that update them share no cache
 * line; all three change only where an object is allocated or freed, never on a fault that finds
 * its tables, VMA and anon_vma in place.
 */
public final class LeakAccounting {
    private final LongAdder mapleNodes = new LongAdder();
    private final LongAdder anonVmas = new LongAdder();
    private final LongAdder pageTableFrames = new LongAdder();

    /** Where the VMA trees of the machine's mms count the nodes they link in and retire. */
    public LongAdder mapleNodes() {
        return mapleNodes;
    }

    /** Where anon_vma_alloc and the last put_anon_vma count. */
    public LongAdder anonVmas() {
        return anonVmas;
    }

    /** Where pagetable_alloc and pagetable_free count (NR_PAGETABLE). */
    public LongAdder pageTableFrames() {
        return pageTableFrames;
    }
}
