package dev.vmsim.core.lock;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.sync.RwSemaphore;

/**
 * The per-VMA lock as it was from 6.4 to 6.14: an rw_semaphore per VMA ({@code vma->vm_lock->lock},
 * include/linux/mm.h of those releases; kernel-semantics.md §16.2), with vm_lock_seq / mm_lock_seq
 * doing the write-locking as today. {@link VmaLock} calls this in the {@link
 * LockingMode#vmaLockIsRwsem} modes; the layout (separate vma_lock object or embedded in the VMA) is
 * {@link LockingMode#vmaLockLayout}, and behaves the same here.
 *
 * <ul>
 *   <li>vma_start_read: the lockless vm_lock_seq check, {@code down_read_trylock} (with the
 *       reader-owner store that goes with it, {@link RwSemaphore#downReadTrylock}), then the
 *       vm_lock_seq re-check against mm_lock_seq with acquire, failing with {@code up_read}.
 *   <li>vma_end_read: {@code up_read} inside an RCU read section (it keeps the VMA alive).
 *   <li>vma_start_write: {@code down_write} (waits for the readers to leave), set vm_lock_seq,
 *       {@code up_write}.
 *   <li>vma_start_read_locked: {@code down_read} under the mmap lock.
 * </ul>
 *
 * <p>Attachment is still vm_refcnt at 1 (attached) or 0 (detached), which 6.14 kept as the bool
 * {@code vma->detached}: readers do not touch it here, so detaching never waits.
 *
 * <p>Departures: 6.14 freed a VMA after an RCU grace period, so a reader never met a recycled one;
 * the simulator's VMA cache reuses objects at once (as 6.15's SLAB_TYPESAFE_BY_RCU does), so the
 * reader here also checks vm_mm and, through lock_vma_under_rcu, the range. A new vma_lock is made
 * by each vma_lock_init (vm_area_alloc's vma_lock_alloc for the separate object, init_rwsem for the
 * embedded one); a stale reader releases the lock object it took, never a newer one.
 */
final class VmaRwsem {
    private VmaRwsem() {}

    /**
     * vma_lock_init's init_rwsem (or vma_lock_alloc): a fresh, unlocked rw_semaphore of the VMA's
     * mm, its count and owner words on the lines the mode's {@link VmaLockLayout} gives: one line of
     * its own for both (the separate vma_lock object), or the count on the VMA's first line and the
     * owner on the next (embedded).
     */
    static void init(final Vma vma, final MmStruct mm) {
        final VmaLockLayout layout = mm.mmapLock().mode().vmaLockLayout();
        final CacheLine count =
                layout.sharesWithVmaFields("count") ? vma.line0 : new CacheLine(lineName(layout, "count"));
        final CacheLine owner = layout.shareLine("count", "owner") ? count : new CacheLine(lineName(layout, "owner"));
        vma.vmLock = new RwSemaphore(LockClass.VMA_LOCK, mm.mmapLock(), count, owner);
    }

    /** The name of the layout's line holding {@code word}. */
    private static String lineName(final VmaLockLayout layout, final String word) {
        for (final VmaLockLayout.Line l : layout.lines()) {
            if (l.lockWords().contains(word)) {
                return l.name();
            }
        }
        return "vma_lock." + word;
    }

    /**
     * vma_start_read (6.14). Context: inside an RCU read section; on failure RCU has been dropped.
     * Returns the VMA read-locked (RCU still held), null, or {@link VmaLock#EAGAIN} when the VMA was
     * detached (lock_vma_under_rcu's {@code vma->detached} check, counted as VMA_LOCK_MISS).
     */
    static Vma startRead(final MmStruct mm, final MmapLock ml, final Vma vma) {
        // READ_ONCE on both sides; a false "locked" result is allowed.
        Platform.current().load(vma.line0);
        if (vma.lockSeqOpaque() == ml.lockSeqOpaque()) {
            Rcu.readUnlock();
            return null;
        }
        final RwSemaphore sem = vma.vmLock; // the object we lock is the one we unlock
        if (sem == null || !sem.downReadTrylock()) {
            Rcu.readUnlock();
            return null;
        }
        LockHooks.at("vma_start_read:after_inc");
        // The VMA was freed and reused (a fresh vm_lock) between our read of vm_lock and the
        // trylock: the lock we hold is not the VMA's, and vma_end_read would release the new one.
        // Holding the VMA's own lock pins it (freeing it needs vma_start_write, a down_write), so
        // once this passes vm_lock stays ours until up_read. 6.14 freed VMAs after a grace period
        // and needed no such check.
        if (vma.vmLock != sem) {
            sem.upRead();
            Rcu.readUnlock();
            return null;
        }
        // Re-check with ACQUIRE on mm_lock_seq; pairs with the RELEASE in vma_end_write_all. Under the
        // read lock vm_lock_seq cannot change (vma_start_write writes it under the write lock).
        final boolean recycled = vma.vmMm != mm;
        if (recycled || vma.lockSeq() == ml.lockSeqAcquire()) {
            sem.upRead();
            Rcu.readUnlock();
            return null;
        }
        if (vma.refcnt() == 0) {
            sem.upRead();
            Rcu.readUnlock();
            return VmaLock.EAGAIN;
        }
        return vma;
    }

    /** vma_start_read_locked: down_read under the mmap lock; no VMA writer can hold it then. */
    static boolean startReadLocked(final Vma vma) {
        final RwSemaphore sem = vma.vmLock;
        if (sem == null || vma.refcnt() == 0) {
            return false;
        }
        sem.downRead();
        return true;
    }

    /** vma_end_read: up_read, inside rcu_read_lock so the VMA outlives the release. */
    static void endRead(final Vma vma) {
        Rcu.readLock();
        try {
            vma.vmLock.upRead();
        } finally {
            Rcu.readUnlock();
        }
    }

    /**
     * vma_start_write's body after the "already write-locked" check: down_write, set vm_lock_seq,
     * up_write. Killable (a simulator addition: 6.14 had no vma_start_write_killable) uses
     * down_write_killable and returns -EINTR with vm_lock_seq unchanged.
     */
    static int startWrite(final Vma vma, final int mmLockSeq, final boolean killable) {
        final RwSemaphore sem = vma.vmLock;
        if (killable) {
            if (sem.downWriteKillable() != 0) {
                return -VmaLock.EINTR;
            }
        } else {
            sem.downWrite();
        }
        vma.setLockSeq(mmLockSeq); // WRITE_ONCE: lockless readers of the early check may race
        sem.upWrite();
        return 0;
    }

    /** The read half of vma_assert_locked: with lockdep, held by this thread; without, held by anyone. */
    static boolean readLocked(final Vma vma) {
        final RwSemaphore sem = vma.vmLock;
        if (sem == null) {
            return false;
        }
        return Lockdep.active() ? Lockdep.isHeld(LockClass.VMA_LOCK, sem, true) : sem.readerCount() > 0;
    }
}
