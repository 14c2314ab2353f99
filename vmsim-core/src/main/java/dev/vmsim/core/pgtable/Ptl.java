package dev.vmsim.core.pgtable;

import java.util.concurrent.locks.ReentrantLock;

/**
 * A split page-table lock: the spinlock of one PTE page ({@code ptlock_ptr(ptdesc)}, taken by
 * {@code pte_offset_map_lock()}), or the mm's {@code page_table_lock} for the upper levels.
 *
 * <p>Departure from the kernel: a spinlock there; here it spins briefly and then parks (a platform
 * thread may be descheduled while holding it, which a kernel spinlock holder never is). It is not
 * reentrant, as a spinlock is not: locking it twice on one thread is a self-deadlock the assertion
 * reports.
 */
public final class Ptl {
    private static final int SPINS = 64;
    private final ReentrantLock lock = new ReentrantLock();

    /** spin_lock. */
    public void lock() {
        assert !lock.isHeldByCurrentThread() : "recursive page-table lock";
        for (int i = 0; i < SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    /** spin_trylock. */
    public boolean tryLock() {
        assert !lock.isHeldByCurrentThread() : "recursive page-table lock";
        return lock.tryLock();
    }

    /** spin_unlock. */
    public void unlock() {
        lock.unlock();
    }

    /** lockdep_is_held / assert_spin_locked. */
    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }
}
