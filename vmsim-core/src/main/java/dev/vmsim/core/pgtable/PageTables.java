package dev.vmsim.core.pgtable;

/**
 * The page tables of one mm, in simulated physical memory, over an architecture's {@link
 * PageTableFormat} (the generic code of mm/memory.c, mm/pgtable-generic.c, mm/mprotect.c and
 * mm/mremap.c that walks, allocates, zaps, changes and moves entries).
 *
 * <p>API SKELETON: [3/6] implements it. Locking: upper levels are populated under the mm's
 * page_table_lock, PTE pages each have their own split lock (a lock per page-table page).
 */
public final class PageTables {
    private PageTables() {}
}
