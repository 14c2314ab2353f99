package dev.vmsim.core.lock;

import dev.vmsim.core.arch.PtRegs;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;

/**
 * The fault path's lock helpers (mm/mmap_lock.c): lock_vma_under_rcu, lock_vma_under_rcu_wait and
 * lock_mm_and_find_vma.
 *
 * <p>API SKELETON: [3/6] implements these.
 */
public final class LockVma {
    private LockVma() {}

    /**
     * lock_vma_under_rcu: the VMA containing {@code address}, read-locked (the mmap lock is not
     * taken), or null (VMA_LOCK_ABORT counted; the caller falls back to the mmap lock). In
     * PER_VMA_WAIT mode this is lock_vma_under_rcu_wait.
     */
    public static Vma underRcu(final MmStruct mm, final long address) {
        throw new UnsupportedOperationException("lock_vma_under_rcu: [3/6]");
    }

    /**
     * lock_mm_and_find_vma: non-null means the mmap lock is read-held and the VMA contains
     * {@code address} (a growsdown stack may have been expanded under the write lock); null means
     * no lock is held.
     */
    public static Vma lockMmAndFindVma(final MmStruct mm, final long address, final PtRegs regs) {
        throw new UnsupportedOperationException("lock_mm_and_find_vma: [3/6]");
    }
}
