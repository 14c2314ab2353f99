package dev.vmsim.core.debug;

/**
 * The historical bugs of the test catalogue (shared/spec/test-catalogue.md, Part II) that vmsim can
 * replay with their fix turned off. Each constant names the fix it removes and the failure its
 * regression test observes; the fix itself carries a comment naming the constant.
 */
public enum Bug {
    /**
     * StackRot (CVE-2023-3269). Fix: lock_mm_and_find_vma expands a VM_GROWSDOWN stack under the
     * mmap write lock. Off: expand_downwards runs under the read lock (6.1-6.4), replacing maple
     * nodes under a concurrent mmap-lock reader; after the grace period that reader reads a poisoned
     * node (use-after-free). Fix site: LockVma.lockMmAndFindVma, Stack.expandDownwards.
     */
    BUG_01("StackRot: stack expansion under mmap_lock read"),
    /**
     * Per-VMA lock vs fork. Fix: dup_mmap write-locks every parent VMA (vma_start_write). Off: a
     * per-VMA fault on the parent runs while its page tables are copied; the child maps an anonymous
     * page with no anon_vma. Fix site: Fork.dupMmap.
     */
    BUG_02("dup_mmap does not write-lock the parent's VMAs"),
    /**
     * SLAB_TYPESAFE_BY_RCU reuse. Fix: vma_start_read pins a recycled VMA's other mm (mmgrab) across
     * vma_refcount_put. Off: the put wakes a freed mm (use-after-free). Fix site: VmaLock.startRead.
     */
    BUG_03("vma_start_read drops a recycled VMA's reference without pinning its mm"),
    /**
     * Spurious reader vs detach. Fix: vma_mark_detached waits until transient readers leave. Off: it
     * returns with vm_refcnt non-zero, so a VMA freed and reused at once starts attached. Fix site:
     * VmaLock.markDetached.
     */
    BUG_04("vma_mark_detached returns while a spurious reader still counts"),
    /**
     * False-unlocked result. Fix: vma_start_read re-checks vm_lock_seq against mm_lock_seq (acquire)
     * after taking its reference. Off: a reader that passed the early check before a writer locked
     * the VMA holds it for read while the writer holds it for write. Fix site: VmaLock.startRead.
     */
    BUG_05("vma_start_read skips the vm_lock_seq re-check under vm_refcnt"),
    /**
     * vma_start_write_killable signal handling. Fix: on -EINTR the exclusion flag is removed again.
     * Off: the flag stays and every later reader fails. Fix site: VmaLock.startExcludeReaders.
     */
    BUG_06("vma_start_write_killable leaves the exclusion flag on -EINTR"),
    /**
     * New VMA visible before write-locked. Fix: vma_iter_store_new write-locks (and marks attached)
     * before the tree store. Off: a lockless fault read-locks the new VMA between the store and the
     * write lock, while mmap still initialises it. Fix site: VmaOps.storeNew.
     */
    BUG_07("a new VMA is stored in the tree before it is write-locked"),
    /**
     * Lock order: mmap_lock under a VMA read lock (LOCK-04). Fix: __vmf_anon_prepare only trylocks
     * the mmap lock under the VMA lock and retries otherwise. Off: it takes mmap_read_lock, which
     * lockdep reports (and which deadlocks against a writer in vma_start_write). Fix site:
     * FaultOps / PteFault anon prepare.
     */
    BUG_08("__vmf_anon_prepare takes mmap_read_lock under the VMA read lock"),
    /**
     * Interrupted fork leaves a half-built child. Fix: walkers of a foreign mm check that it is stable
     * (check_stable_address_space / MMF_UNSTABLE) before walking it. Off: the walker uses the
     * half-built child. Fix site: MmStruct.
     */
    BUG_09("a foreign-mm walker does not check for an unstable (half-forked) mm"),
    /**
     * Maple-tree structural regression. Fix: a store whose range spans nodes rebalances the
     * emptied right side (test_spanning_store_regression). Off: a store that deletes a whole node's
     * worth of entries leaves an under-full node, and validate() reports it. Fix site: MapleWriter.
     */
    BUG_10("a spanning store leaves an under-full node"),
    /**
     * Stale TLB. Fix: tlb_finish_mmu flushes every CPU that may cache the mm's translations before
     * the pages are freed. Off: only the local CPU is flushed; another CPU keeps writing the freed
     * frame through its stale TLB entry after munmap returned. Fix site: MmuGather.
     */
    BUG_11("tlb_finish_mmu frees pages without the remote shootdown"),
    /**
     * Unlocked read of map_count. Fix: the lockless reader (check_mremap_params) uses READ_ONCE of a
     * value written with WRITE_ONCE under the mmap write lock. Off: the reader uses a value it read
     * before taking the lock. Fix site: Mremap.
     */
    BUG_12("mremap checks map_count from a stale lockless read"),
    /**
     * Unkillable writer stuck behind a reader. Fix: the watchdog reports the reader and the blocked
     * writer, and SIGKILL ends a vma_start_write_killable wait. Off: the mmap path's VMA write lock
     * is taken uninterruptibly and SIGKILL leaves the task in D state. Fix site: Mmap (vma_expand).
     */
    BUG_13("vma_expand write-locks uninterruptibly: SIGKILL cannot free a stuck writer");

    private final String title;

    Bug(final String title) {
        this.title = title;
    }

    /** The catalogue's id, e.g. {@code BUG-01}. */
    public String id() {
        return name().replace('_', '-');
    }

    /** One line: what turning the fix off does. */
    public String title() {
        return title;
    }
}
