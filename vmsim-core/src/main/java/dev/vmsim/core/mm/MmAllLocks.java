package dev.vmsim.core.mm;

import dev.vmsim.core.lock.VmaLock;
import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.RwSemaphore;

/**
 * mm_take_all_locks / mm_drop_all_locks (mm/vma.c): what mmu_notifier_register does to stop every
 * walker of an mm while a notifier is added.
 *
 * <p>The kernel's order, kept here: under the mmap write lock, take {@code mm_all_locks_mutex}, then
 * write-lock <em>every</em> VMA ({@code vma_start_write_killable}) before any i_mmap_rwsem or
 * anon_vma lock, because a page fault holds a VMA read lock and then takes those (the order of the
 * fault path, LOCK-14). A fatal signal between VMAs, or while one VMA's readers drain, ends it with
 * -EINTR after mm_drop_all_locks.
 *
 * <p><b>Departure.</b> The i_mmap_rwsem and anon_vma->rwsem stages are absent: vmsim has no
 * reverse-mapping locks on {@link AnonVma} or {@link ShmemFile} yet, so after the VMA stage there is
 * nothing further to take. The VMA write locks, as in the kernel, are not dropped by
 * {@link #mmDropAllLocks}: mmap_write_unlock releases them all at once (vma_end_write_all).
 */
public final class MmAllLocks {
    /** -EINTR. */
    public static final int EINTR = 4;

    /** mm_all_locks_mutex: one mm_take_all_locks at a time, machine-wide (a mutex: write side only). */
    private static final RwSemaphore MM_ALL_LOCKS_MUTEX = new RwSemaphore(LockClass.of("mm_all_locks_mutex"), null);

    private MmAllLocks() {}

    /**
     * mm_take_all_locks: 0 with every VMA of {@code mm} write-locked and the mutex held, or -EINTR
     * (fatal signal) with the mutex released. Context: mmap write lock held; may sleep while a VMA's
     * readers (page faults under lock_vma_under_rcu) drain.
     */
    public static int mmTakeAllLocks(final MmStruct mm) {
        mm.mmapLock().assertWriteLocked();
        MM_ALL_LOCKS_MUTEX.downWrite();
        for (final Vma vma : mm.vmas()) {
            if (Thread.currentThread().isInterrupted() || VmaLock.startWriteKillable(vma) != 0) {
                mmDropAllLocks(mm);
                return -EINTR;
            }
        }
        return 0;
    }

    /**
     * mm_drop_all_locks: releases the mutex. Context: mmap write lock held, and the caller keeps it
     * until this returns; the VMA write locks end at mmap_write_unlock.
     */
    public static void mmDropAllLocks(final MmStruct mm) {
        mm.mmapLock().assertWriteLocked();
        MM_ALL_LOCKS_MUTEX.upWrite();
    }
}
