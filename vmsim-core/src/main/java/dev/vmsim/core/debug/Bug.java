package dev.vmsim.core.debug;

/**
 * The historical bugs of the test catalogue (shared/spec/test-catalogue.md, Part II) that vmsim can
 * replay with their fix turned off, and one Part I entry whose rule is shown the same way
 * ({@link #TLB_06}). Each constant names the fix it removes and the failure its regression test
 * observes; the fix itself carries a comment naming the constant.
 */
public enum Bug {
    /**
     * StackRot (CVE-2023-3269). Fix: lock_mm_and_find_vma expands a VM_GROWSDOWN stack under the
     * mmap write lock. Off: expand_downwards runs under the read lock (6.1-6.4), replacing maple
     * nodes under a concurrent mmap-lock reader; after the grace period that reader reads a poisoned
     * node (use-after-free). Fix site: LockVma.lockMmAndFindVma, Stack.expandDownwards. Test:
     * StackRotTest.
     */
    BUG_01("StackRot: stack expansion under mmap_lock read"),
    /**
     * Per-VMA lock vs fork. Fix: dup_mmap write-locks every parent VMA (vma_start_write). Off: a
     * per-VMA fault on the parent runs while fork copies that VMA's page tables, and the child gets
     * the page the parent faulted mid-fork. Fix site: Fork.writeLockParentVma. Test:
     * ForkFaultRaceTest.bug02SwitchLetsAFaultRunOnAVmaForkIsCopying.
     */
    BUG_02("dup_mmap does not write-lock the parent's VMAs"),
    /**
     * SLAB_TYPESAFE_BY_RCU reuse. Fix: vma_start_read pins a recycled VMA's other mm (mmgrab) across
     * vma_refcount_put. Off: the put wakes a freed mm (use-after-free). Fix site: VmaLock.startRead.
     * Test: VmaLockTest.bug03SwitchShowsTheUseAfterFree.
     */
    BUG_03("vma_start_read drops a recycled VMA's reference without pinning its mm"),
    /**
     * Spurious reader vs detach. Fix: vma_mark_detached waits until transient readers leave. Off: it
     * returns with vm_refcnt non-zero, the mmap lock goes, and the reader's re-check passes: it holds
     * a read lock on a detached VMA. Fix site: VmaLock.markDetached. Test:
     * VmaLockTest.bug04SwitchLeavesAReaderInADetachedVma.
     */
    BUG_04("vma_mark_detached returns while a spurious reader still counts"),
    /**
     * False-unlocked result. Fix: vma_start_read re-checks vm_lock_seq against mm_lock_seq (acquire)
     * after taking its reference. Off: a reader that passed the early check before a writer locked
     * the VMA holds it for read while the writer holds it for write. Fix site: VmaLock.startRead.
     * Test: VmaLockTest.bug05SwitchGivesAFalseUnlockedResult.
     */
    BUG_05("vma_start_read skips the vm_lock_seq re-check under vm_refcnt"),
    /**
     * vma_start_write_killable signal handling. Fix: on -EINTR the exclusion flag is removed again.
     * Off: the flag stays and every later reader fails. Fix site: VmaLock.startExcludeReaders.
     * Test: VmaLockTest.bug06SwitchLeavesTheFlag.
     */
    BUG_06("vma_start_write_killable leaves the exclusion flag on -EINTR"),
    /**
     * New VMA visible before write-locked. Fix: vma_iter_store_new write-locks (and marks attached)
     * before the tree store. Off: a lockless fault read-locks the new VMA between the store and the
     * write lock, while mmap still initialises it. Fix site: VmaOps.storeNew. Test:
     * FaultRaceTest.bug07SwitchLetsAFaultLockANewVmaBeforeMmapEnds.
     */
    BUG_07("a new VMA is stored in the tree before it is write-locked"),
    /**
     * Lock order: mmap_lock under a VMA read lock (LOCK-04). Fix: __vmf_anon_prepare only trylocks
     * the mmap lock under the VMA lock and retries otherwise. Off: it takes mmap_read_lock, which
     * lockdep reports (and which deadlocks against a writer in vma_start_write). Fix site:
     * PteFault.vmfAnonPrepare. Test: LockVmaTest.bug08SwitchTakesTheMmapLockUnderTheVmaReadLock.
     */
    BUG_08("__vmf_anon_prepare takes mmap_read_lock under the VMA read lock"),
    /**
     * Interrupted fork leaves an XA_ZERO_ENTRY marker that swapoff walked (fixed in 6.18-rc1). Fix:
     * unuse_mm checks check_stable_address_space and skips an mm with MMF_UNSTABLE ("mm: swap: check
     * for stable address space before operating on the VMA"). Off: swapoff walks the child of a fork
     * that a fatal signal stopped after the child joined the swap mmlist, meets the marker dup_mmap
     * stored where the copy stopped, and takes it for a VMA (the NULL-pointer oops, a {@link
     * KernelOops} here). Fix site: Unuse.unuseMm. Test: ForkSwapoffRaceTest.
     */
    BUG_09("unuse_mm walks an unstable mm: swapoff takes the interrupted fork's XA_ZERO_ENTRY for a VMA"),
    /**
     * Maple-tree structural regression. Fix: a store whose range spans nodes rebalances the
     * emptied right side (test_spanning_store_regression). Off: a store that deletes a whole node's
     * worth of entries leaves an under-full internal node, and mt_validate reports it. Fix site:
     * MapleWriter (mas_rebalance). Test: MapleTreeTest.bug10SwitchLeavesAnUnderfullNodeAfterASpanningStore.
     */
    BUG_10("a spanning store leaves an under-full node"),
    /**
     * Stale TLB. Fix: tlb_flush_mmu frees the gathered frames only after every CPU that may cache
     * the mm's translations was flushed. Off: the frames go back first, reusable while another CPU's
     * TLB still maps them. Fix site: MmuGather.flush. Test:
     * TlbRaceTest.bug11SwitchFreesTheFrameWhileAnotherCpuStillMapsIt.
     */
    BUG_11("tlb_finish_mmu frees pages without the remote shootdown"),
    /**
     * Unlocked read of map_count. Fix: mremap checks its map_count headroom under the mmap write
     * lock every map_count writer holds. Off: it checks a value read before taking the lock
     * (check_mremap_params, the KCSAN report) and goes ahead into the headroom. Fix site:
     * Mremap.mremap. Test: MremapMapCountTest.
     */
    BUG_12("mremap checks map_count from a stale lockless read"),
    /**
     * Unkillable writer stuck behind a reader. Fix: dup_mmap write-locks the parent's VMAs with
     * vma_start_write_killable, so SIGKILL ends the wait behind a leaked reader. Off: the wait is
     * uninterruptible and the task stays in D state. Fix site: Fork.writeLockParentVma. Test:
     * ForkFaultRaceTest.bug13SwitchLeavesForkUnkillableBehindALeakedReader.
     */
    BUG_13("dup_mmap write-locks uninterruptibly: SIGKILL cannot free a stuck writer"),
    /**
     * arm64 break-before-make of a table entry (catalogue Part I, TLB-06; not a dated kernel bug
     * but the mistake the rule exists to prevent). Fix: arm64's tlb_flush passes {@code last_level
     * = !tlb->freed_tables}, so after free_pgtables the TLBI is VAE1IS, which also drops cached
     * table descriptors. Off: it issues VALE1IS (last level only) although tables were freed; a
     * CPU whose walk cache still holds the cleared PMD entry walks the freed, reused frame as a PTE
     * page. Fix site: Arm64Mmu.flushRange (vmsim-arch-arm64). Test:
     * Arm64FreedTableWalkCacheTest.tlb06SwitchWalksTheReusedFrameThroughTheStaleTableEntry.
     */
    TLB_06("arm64 tlb_flush invalidates the last level only after freeing page tables");

    private final String title;

    Bug(final String title) {
        this.title = title;
    }

    /** The catalogue's id, e.g. {@code BUG-01} (or {@code TLB-06}). */
    public String id() {
        return name().replace('_', '-');
    }

    /** Can this bug be reintroduced (does vmsim model the code it lived in)? Every one can now. */
    public boolean replayable() {
        return true;
    }

    /** One line: what turning the fix off does. */
    public String title() {
        return title;
    }
}
