package dev.vmsim.core.sync;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The kernel's rw_semaphore (kernel/locking/rwsem.c).
 *
 * <p>SKELETON implementation on {@link ReentrantReadWriteLock}; [2/6] replaces it with the kernel's
 * count-word layout, FIFO wait queue, handoff and reader batching behind the same API.
 */
public final class RwSemaphore {
    /** Returned by the killable forms when the wait was ended by a fatal signal (Java interrupt). */
    public static final int EINTR = 4;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);

    /** down_read. */
    public void downRead() {
        lock.readLock().lock();
    }

    /** down_read_killable: 0, or -EINTR with the lock not held. */
    public int downReadKillable() {
        try {
            lock.readLock().lockInterruptibly();
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -EINTR;
        }
    }

    /** down_read_trylock. */
    public boolean downReadTrylock() {
        return lock.readLock().tryLock();
    }

    /** up_read. */
    public void upRead() {
        lock.readLock().unlock();
    }

    /** down_write. */
    public void downWrite() {
        lock.writeLock().lock();
    }

    /** down_write_killable: 0, or -EINTR with the lock not held. */
    public int downWriteKillable() {
        try {
            lock.writeLock().lockInterruptibly();
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -EINTR;
        }
    }

    /** down_write_trylock. */
    public boolean downWriteTrylock() {
        return lock.writeLock().tryLock();
    }

    /** up_write. */
    public void upWrite() {
        lock.writeLock().unlock();
    }

    /** downgrade_write. */
    public void downgradeWrite() {
        lock.readLock().lock();
        lock.writeLock().unlock();
    }

    /**
     * Turns the caller's read hold into a write hold when it is the only reader and nobody waits
     * (the upgrade the kernel leaves as a stub, mmap_upgrade_trylock). Fails without dropping the
     * read hold.
     */
    public boolean upgradeTrylock() {
        return false;
    }

    public boolean isLocked() {
        return lock.isWriteLocked() || lock.getReadLockCount() > 0;
    }

    public boolean isWriteLocked() {
        return lock.isWriteLocked();
    }

    public boolean isWriteLockedByCurrentThread() {
        return lock.isWriteLockedByCurrentThread();
    }

    /** rwsem_is_contended: the wait list is non-empty. */
    public boolean isContended() {
        return lock.hasQueuedThreads();
    }
}
