package dev.vmsim.core.clock;

/**
 * The latency parameters of a machine profile that a modelled step charges, one constant per
 * parameter, named as in the profile files ({@link #parameter()}). Values are nanoseconds and live
 * in a {@link CostModel}; the topology counts ({@link CostModel#COUNTS}) are not costs.
 *
 * <p>The order is the profile's; {@link CostModel#PARAMETERS} is the counts followed by these.
 */
public enum Cost {
    /** Cache-line transfer between SMT siblings of one core (CAS round trip / 2). */
    C2C_SMT("c2c_smt"),
    /** Transfer between cores sharing a last-level cache. */
    C2C_LLC("c2c_llc"),
    /** Transfer between cores of one socket in different LLCs (AMD CCDs). */
    C2C_SOCKET("c2c_socket"),
    /** Transfer across sockets. */
    C2C_REMOTE("c2c_remote"),
    /** Hand-on of a line to a requester that was already waiting for it (back-to-back transfers). */
    HANDOFF_QUEUED("handoff_queued"),
    /** A locked RMW on a line the CPU already owns. */
    ATOMIC_LOCAL("atomic_local"),
    /** One iteration of a spin-wait loop (cpu_relax / PAUSE). */
    SPIN_STEP("spin_step"),
    /** A line nobody holds, fetched from the local node's memory. */
    DRAM_LOCAL("dram_local"),
    /** The same from another node's memory. */
    DRAM_REMOTE("dram_remote"),
    /** The memory access of one page-table level of a walk (hardware or software). */
    WALK_LEVEL("walk_level"),
    /** A TLB lookup. */
    TLB_HIT("tlb_hit"),
    /** Invalidating one page (INVLPG / TLBI) or a whole mm on one CPU. */
    TLB_INVALIDATE("tlb_invalidate"),
    /** The PTE compare-and-set / store of set_pte_at. */
    PTE_UPDATE("pte_update"),
    /** clear_page of 4 KiB. */
    ZERO_PAGE_4K("zero_page_4k"),
    /** copy_page of 4 KiB. */
    COPY_PAGE_4K("copy_page_4k"),
    /** rmqueue_pcplist: a frame from the per-CPU list. */
    FRAME_ALLOC_PCP("frame_alloc_pcp"),
    /** A pcp refill of one batch from the buddy lists under zone->lock. */
    FRAME_ALLOC_ZONE("frame_alloc_zone"),
    /** One maple-tree node visited by a lookup. */
    MAPLE_NODE_VISIT("maple_node_visit"),
    /** System-call entry and exit. */
    SYSCALL_ENTRY_EXIT("syscall_entry_exit"),
    /** Exception (page fault) entry and return to user. */
    FAULT_ENTRY_EXIT("fault_entry_exit"),
    /** Switching a CPU from a task that blocks to the next (or to idle). */
    CONTEXT_SWITCH("context_switch"),
    /** From a wake-up (try_to_wake_up) to the wakee running. */
    WAKEUP_LATENCY("wakeup_latency"),
    /** Sending the shootdown IPI (the initiator's base cost). */
    IPI_SEND("ipi_send"),
    /** Per receiving CPU: taking the IPI and acknowledging it. */
    IPI_RECEIVE("ipi_receive"),
    /** The fitted residual of an anonymous fault: kernel work not modelled step by step. */
    FAULT_OTHER("fault_other"),
    /**
     * The fitted residual of mmap outside the mmap_lock: vm_mmap_pgoff before mmap_write_lock_killable
     * and after mmap_write_unlock, and the user/kernel transition beyond {@link #SYSCALL_ENTRY_EXIT}.
     */
    MMAP_OTHER_UNLOCKED("mmap_other_unlocked"),
    /** The fitted residual of mmap under the mmap write lock: do_mmap's work not modelled step by step. */
    MMAP_OTHER_LOCKED("mmap_other_locked"),
    /**
     * The fitted residual of munmap outside the mmap_lock: __vm_munmap before mmap_write_lock_killable,
     * after mmap_read_unlock (__mt_destroy of the detached tree, userfaultfd_unmap_complete), and the
     * transition beyond {@link #SYSCALL_ENTRY_EXIT}.
     */
    MUNMAP_OTHER_UNLOCKED("munmap_other_unlocked"),
    /**
     * The fitted residual of munmap under the mmap_lock: do_vmi_munmap's work under the write lock
     * and, after mmap_write_downgrade, under the read lock (vms_complete_munmap_vmas: the PTE clear,
     * remove_vma).
     */
    MUNMAP_OTHER_LOCKED("munmap_other_locked");

    private static final Cost[] VALUES = values();

    private final String parameter;

    Cost(final String parameter) {
        this.parameter = parameter;
    }

    /** The parameter's name in a machine profile, e.g. {@code "tlb_hit"}. */
    public String parameter() {
        return parameter;
    }

    /** The constant for a profile parameter name; null for a count or an unknown name. */
    public static Cost of(final String parameter) {
        for (final Cost c : VALUES) {
            if (c.parameter.equals(parameter)) {
                return c;
            }
        }
        return null;
    }
}
