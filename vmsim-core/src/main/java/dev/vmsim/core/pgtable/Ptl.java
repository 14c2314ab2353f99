package dev.vmsim.core.pgtable;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Platform;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A split page-table lock: the spinlock of one PTE page ({@code ptlock_ptr(ptdesc)}, taken by
 * {@code pte_offset_map_lock()}), or the mm's {@code page_table_lock} for the upper levels.
 *
 * <p>Departure from the kernel: a spinlock there; here, on the host clock, it spins briefly and then
 * parks (a platform thread may be descheduled while holding it, which a kernel spinlock holder never
 * is). Under the virtual clock it only spins, through the platform, as the kernel's does: the holder
 * runs in the waiter's spin steps, and the lock word's line ({@link #line}) moves between CPUs. It
 * is not reentrant, as a spinlock is not: locking it twice on one thread is a self-deadlock the
 * assertion reports.
 */
public final class Ptl {
    private static final int SPINS = 64;
    private final ReentrantLock lock = new ReentrantLock();
    /** The lock word's cache line (virtual clock only). */
    private final CacheLine line;

    /** A split PTE-page lock. */
    public Ptl() {
        this("ptl");
    }

    /** @param lineName the lock's line in the attribution ("ptl", "page_table_lock") */
    public Ptl(final String lineName) {
        this.line = new CacheLine(lineName);
    }

    /** spin_lock. */
    public void lock() {
        assert !lock.isHeldByCurrentThread() : "recursive page-table lock";
        final Platform p = Platform.current();
        p.rmw(line);
        for (int i = 0; ; i++) {
            if (lock.tryLock()) {
                return;
            }
            if (i >= SPINS && !p.isVirtual()) {
                break;
            }
            p.spinWait();
            if (p.isVirtual()) {
                p.rmw(line); // the retried atomic takes the line again
            }
        }
        lock.lock();
    }

    /** spin_trylock. */
    public boolean tryLock() {
        assert !lock.isHeldByCurrentThread() : "recursive page-table lock";
        Platform.current().rmw(line);
        return lock.tryLock();
    }

    /** spin_unlock. */
    public void unlock() {
        Platform.current().store(line);
        lock.unlock();
    }

    /** lockdep_is_held / assert_spin_locked. */
    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }
}
