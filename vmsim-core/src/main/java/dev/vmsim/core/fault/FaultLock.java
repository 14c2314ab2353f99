package dev.vmsim.core.fault;

import static dev.vmsim.core.fault.FaultFlags.FAULT_FLAG_VMA_LOCK;

import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.mm.Vma;

/**
 * The lock a fault runs under, named by its flags (include/linux/mm.h): the VMA read lock with
 * FAULT_FLAG_VMA_LOCK, else the mmap read lock.
 */
final class FaultLock {
    private FaultLock() {}

    /**
     * assert_fault_locked: the fault holds the lock its flags name. The mmap form stays on without
     * lockdep (mmap_assert_locked), the VMA form checks vm_refcnt (and the holder with lockdep).
     */
    static void assertFaultLocked(final Vma vma, final int flags) {
        if ((flags & FAULT_FLAG_VMA_LOCK) != 0) {
            VmaLock.assertLocked(vma);
        } else {
            vma.vmMm.mmapLock().assertLocked();
        }
    }

    /** release_fault_lock: drops the lock its flags name (vma_end_read or mmap_read_unlock). */
    static void releaseFaultLock(final Vma vma, final int flags) {
        if ((flags & FAULT_FLAG_VMA_LOCK) != 0) {
            VmaLock.endRead(vma);
        } else {
            vma.vmMm.mmapLock().readUnlock();
        }
    }
}
