package dev.vmsim.core.lock;

import dev.vmsim.core.sync.RwSemaphore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The mmap_lock of one mm (include/linux/mmap_lock.h, mm/mmap_lock.c): the rw_semaphore plus
 * {@code mm_lock_seq} (odd while write-locked) and {@code vma_writer_wait}.
 *
 * <p>Departure from the kernel: {@code mm_lock_seq} and {@code vma_writer_wait} live here rather
 * than directly in mm_struct, so that all of an mm's lock state is one object.
 *
 * <p>SKELETON; [2/6] adds tracepoints, counters, lockdep and the speculation API.
 */
public final class MmapLock {
    private static final VarHandle MM_LOCK_SEQ;

    static {
        try {
            MM_LOCK_SEQ = MethodHandles.lookup().findVarHandle(MmapLock.class, "mmLockSeq", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final RwSemaphore sem = new RwSemaphore();
    private final LockingMode mode;
    /** mm_lock_seq: written only by the write-lock holder (release); read with acquire by others. */
    private volatile int mmLockSeq;
    /** vma_writer_wait: the single thread sleeping in vma_start_write / vma_mark_detached. */
    volatile Thread vmaWriterWait;

    public MmapLock(final LockingMode mode) {
        this.mode = mode;
    }

    public LockingMode mode() {
        return mode;
    }

    public RwSemaphore rwsem() {
        return sem;
    }

    /** mm_lock_seq with acquire ordering; pairs with the release in {@link #writeUnlock}. */
    public int lockSeqAcquire() {
        return (int) MM_LOCK_SEQ.getAcquire(this);
    }

    /** mm_lock_seq, plain read (caller holds the mmap lock). */
    public int lockSeq() {
        return (int) MM_LOCK_SEQ.get(this);
    }

    private void seqBegin() {
        MM_LOCK_SEQ.setRelease(this, lockSeq() + 1);
    }

    /** vma_end_write_all: ends every VMA write lock of this mm at once. */
    private void vmaEndWriteAll() {
        MM_LOCK_SEQ.setRelease(this, lockSeq() + 1);
    }

    /** mmap_read_lock. */
    public void readLock() {
        sem.downRead();
    }

    /** mmap_read_lock_killable: true if locked, false on a fatal signal. */
    public boolean readLockKillable() {
        return sem.downReadKillable() == 0;
    }

    /** mmap_read_trylock. */
    public boolean readTrylock() {
        return sem.downReadTrylock();
    }

    /** mmap_read_unlock. */
    public void readUnlock() {
        sem.upRead();
    }

    /** mmap_write_lock. */
    public void writeLock() {
        sem.downWrite();
        seqBegin();
    }

    /** mmap_write_lock_killable: 0 or -EINTR. */
    public int writeLockKillable() {
        final int r = sem.downWriteKillable();
        if (r == 0) {
            seqBegin();
        }
        return r;
    }

    /** mmap_write_unlock. */
    public void writeUnlock() {
        vmaEndWriteAll();
        sem.upWrite();
    }

    /** mmap_write_downgrade. */
    public void writeDowngrade() {
        vmaEndWriteAll();
        sem.downgradeWrite();
    }

    /** mmap_upgrade_trylock (a simulator feature; the kernel's is a stub that always fails). */
    public boolean upgradeTrylock() {
        if (sem.upgradeTrylock()) {
            seqBegin();
            return true;
        }
        return false;
    }

    public boolean isWriteLocked() {
        return sem.isWriteLocked();
    }

    /** mmap_assert_locked. */
    public void assertLocked() {
        if (!sem.isLocked()) {
            throw new AssertionError("mmap_assert_locked: mmap_lock not held");
        }
    }

    /** mmap_assert_write_locked. */
    public void assertWriteLocked() {
        if (!sem.isWriteLocked()) {
            throw new AssertionError("mmap_assert_write_locked: mmap_lock not write-held");
        }
    }
}
