package dev.vmsim.core.inject;

/**
 * The allocation sites a {@link FailInject} can make fail, each named after the kernel allocation
 * and the fault-injection knob that reaches it.
 */
public enum FailSite {
    /**
     * alloc_pages for a data page (fail_page_alloc): the anonymous fault, copy-on-write, a shmem
     * page. Also reaches page-table pages, as in the kernel, where both come from the page allocator.
     */
    PAGE_ALLOC,
    /**
     * pte_alloc_one / pmd_alloc_one / __pud_alloc: a page-table page only. Departure: the kernel has
     * no knob for table pages alone (they fail through fail_page_alloc); this one lets a sweep reach
     * every table allocation without failing data pages first.
     */
    PGTABLE_ALLOC,
    /** vm_area_alloc / vm_area_dup (failslab on vm_area_cachep). */
    VMA_ALLOC,
    /**
     * mas_preallocate / vma_iter_prealloc: the maple nodes a tree store needs, allocated before the
     * store so that the store itself cannot fail (the maple tree test suite's fail_prealloc).
     */
    MAPLE_NODE,
    /** anon_vma_prepare / anon_vma_fork (failslab on anon_vma_cachep). */
    ANON_VMA
}
