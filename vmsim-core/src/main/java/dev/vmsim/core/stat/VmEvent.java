package dev.vmsim.core.stat;

/** The /proc/vmstat event counters the simulator keeps (enum vm_event_item), named as the kernel names them. */
public enum VmEvent {
    PGFAULT("pgfault"),
    PGMAJFAULT("pgmajfault"),
    PGREUSE("pgreuse"),
    VMA_LOCK_SUCCESS("vma_lock_success"),
    VMA_LOCK_ABORT("vma_lock_abort"),
    VMA_LOCK_RETRY("vma_lock_retry"),
    VMA_LOCK_MISS("vma_lock_miss"),
    VMA_LOCK_WAIT("vma_lock_wait"),
    /**
     * Simulator counters (the kernel has none): how often each typesafe-by-RCU re-check of
     * lock_vma_under_rcu caught a VMA freed and reused since the tree walk found it: vm_mm is
     * another mm (vma_start_read), the VMA is detached (vma_start_read's -EAGAIN, also counted
     * as vma_lock_miss), the VMA no longer covers the address.
     */
    VMA_RECHECK_VM_MM("vma_recheck_vm_mm"),
    VMA_RECHECK_DETACHED("vma_recheck_detached"),
    VMA_RECHECK_ADDRESS("vma_recheck_address"),
    /** A simulator counter (the kernel has none): user faults that ended in pagefault_out_of_memory. */
    PAGEFAULT_OOM("pagefault_out_of_memory"),
    PGALLOC("pgalloc_normal"),
    PGFREE("pgfree"),
    NR_TLB_REMOTE_FLUSH("nr_tlb_remote_flush"),
    NR_TLB_REMOTE_FLUSH_RECEIVED("nr_tlb_remote_flush_received"),
    NR_TLB_LOCAL_FLUSH_ALL("nr_tlb_local_flush_all"),
    NR_TLB_LOCAL_FLUSH_ONE("nr_tlb_local_flush_one"),
    /** Reclaim (mm/vmscan.c): folios moved to the active list by reclaim. */
    PGACTIVATE("pgactivate"),
    PGDEACTIVATE("pgdeactivate"),
    /** Active folios scanned by shrink_active_list. */
    PGREFILL("pgrefill"),
    PGSTEAL_KSWAPD("pgsteal_kswapd"),
    PGSTEAL_DIRECT("pgsteal_direct"),
    PGSCAN_KSWAPD("pgscan_kswapd"),
    PGSCAN_DIRECT("pgscan_direct"),
    PGSCAN_ANON("pgscan_anon"),
    PGSTEAL_ANON("pgsteal_anon"),
    /** balance_pgdat runs of kswapd. */
    PAGEOUTRUN("pageoutrun"),
    /** Direct reclaim entered by an allocation (ALLOCSTALL_NORMAL, the one zone's). */
    ALLOCSTALL("allocstall_normal"),
    /** A simulator counter (the kernel has only a tracepoint, mm_vmscan_wakeup_kswapd): kswapd woken. */
    KSWAPD_WAKEUP("kswapd_wakeup"),
    /** Pages read from swap (swap_read_folio). */
    PSWPIN("pswpin"),
    /** Pages written to swap (__swap_writepage). */
    PSWPOUT("pswpout"),
    /** Pages read by swap readahead beyond the one faulted on (swap_vma_readahead). */
    SWAP_RA("swap_ra"),
    /** Readahead pages found in the swap cache by a later fault (swap_cache_get_folio). */
    SWAP_RA_HIT("swap_ra_hit"),
    /** Processes the OOM killer killed (__oom_kill_process: count_vm_event(OOM_KILL)). */
    OOM_KILL("oom_kill");

    private final String kernelName;

    VmEvent(final String kernelName) {
        this.kernelName = kernelName;
    }

    /** The counter's name in /proc/vmstat. */
    public String kernelName() {
        return kernelName;
    }
}
