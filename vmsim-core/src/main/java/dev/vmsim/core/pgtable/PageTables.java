package dev.vmsim.core.pgtable;

import dev.vmsim.core.Machine;

/**
 * The page tables of one mm, in simulated physical memory, over an architecture's {@link
 * PageTableFormat} (the generic code of mm/memory.c, mm/pgtable-generic.c, mm/mprotect.c and
 * mm/mremap.c that walks, allocates, zaps, changes and moves entries).
 *
 * <p>API SKELETON: implemented in [3/6]. Locking: upper levels are populated under the mm's
 * page_table_lock, PTE pages each have their own split lock (a lock per page-table page).
 */
public final class PageTables {
    private final Machine machine;
    private final PageTableFormat format;
    /** The root table (pgd) frame. */
    private final long rootPfn;

    /** Allocates the root table; throws {@link OutOfMemoryError} if no frame is free (mm_alloc_pgd failing). */
    public PageTables(final Machine machine, final PageTableFormat format) {
        this.machine = machine;
        this.format = format;
        this.rootPfn = machine.frames().allocZeroed(0);
        if (rootPfn < 0) {
            throw new OutOfMemoryError("no frame for the page-table root");
        }
    }

    /** The root table's frame (what CR3 / TTBR0 holds). */
    public long rootPfn() {
        return rootPfn;
    }

    public Machine machine() {
        return machine;
    }

    public PageTableFormat format() {
        return format;
    }
}
