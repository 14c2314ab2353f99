package dev.vmsim.core.phys;

import dev.vmsim.core.clock.Platform;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The folio lock and the waits on a folio's bits (mm/filemap.c): folio_lock, folio_trylock,
 * folio_unlock, folio_wait_locked, folio_wait_writeback and folio_end_writeback, over the
 * {@link PageFlags#PG_LOCKED} and {@link PageFlags#PG_WRITEBACK} bits of {@link MemMap}.
 *
 * <p>Waiters sleep on a hashed wait table, as the kernel's folio_wait_table does (a bucket per
 * hash of the pfn, shared by unrelated folios; a waker wakes only the waiters of its own folio and
 * bit). Departure: no PG_waiters bit; a waker always looks at its bucket, which costs a queue scan
 * where the kernel skips the wake-up when no one waits.
 *
 * <p><b>No lost wake-up.</b> A waiter first enqueues itself, then re-tests the bit, then parks; a
 * waker first clears the bit (a full-barrier RMW), then scans the bucket. Either the waiter's
 * re-test sees the clear bit, or the waker's scan sees the waiter and unparks it (a permit if it
 * has not parked yet). Parks go through {@link Platform}, so under the virtual clock a wait is
 * virtual time.
 */
public final class FolioWait {
    private static final int BUCKETS = 256; // PAGE_WAIT_TABLE_SIZE

    private record Waiter(long pfn, int bit, Thread thread) {}

    private final MemMap memMap;

    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<Waiter>[] table = new ConcurrentLinkedQueue[BUCKETS];

    public FolioWait(final MemMap memMap) {
        this.memMap = memMap;
        for (int i = 0; i < BUCKETS; i++) {
            table[i] = new ConcurrentLinkedQueue<>();
        }
    }

    private ConcurrentLinkedQueue<Waiter> bucket(final long pfn) {
        return table[(int) ((pfn * 0x9E3779B97F4A7C15L) >>> 56) & (BUCKETS - 1)];
    }

    /** folio_trylock: takes the lock if it is free; never sleeps. */
    public boolean trylock(final long pfn) {
        return !memMap.testAndSet(pfn, PageFlags.PG_LOCKED);
    }

    /** folio_lock: sleeps (TASK_UNINTERRUPTIBLE) until it owns the lock. */
    public void lock(final long pfn) {
        while (!trylock(pfn)) {
            waitOnBit(pfn, PageFlags.PG_LOCKED);
        }
    }

    /** folio_unlock: releases the lock (clear_bit_unlock) and wakes this folio's lock waiters. */
    public void unlock(final long pfn) {
        if (!memMap.testAndClear(pfn, PageFlags.PG_LOCKED)) {
            throw new IllegalStateException("folio_unlock of an unlocked folio, pfn " + pfn);
        }
        wake(pfn, PageFlags.PG_LOCKED);
    }

    /** folio_test_locked. */
    public boolean isLocked(final long pfn) {
        return memMap.test(pfn, PageFlags.PG_LOCKED);
    }

    /** folio_wait_locked: sleeps until the lock is free, without taking it. */
    public void waitLocked(final long pfn) {
        waitOnBit(pfn, PageFlags.PG_LOCKED);
    }

    /** folio_wait_writeback: sleeps until {@link PageFlags#PG_WRITEBACK} is clear. */
    public void waitWriteback(final long pfn) {
        waitOnBit(pfn, PageFlags.PG_WRITEBACK);
    }

    /** folio_end_writeback: clears {@link PageFlags#PG_WRITEBACK} and wakes its waiters. */
    public void endWriteback(final long pfn) {
        if (!memMap.testAndClear(pfn, PageFlags.PG_WRITEBACK)) {
            throw new IllegalStateException("folio_end_writeback without writeback, pfn " + pfn);
        }
        wake(pfn, PageFlags.PG_WRITEBACK);
    }

    /** folio_wait_bit_common: sleeps until {@code bit} of the folio is clear. */
    public void waitOnBit(final long pfn, final int bit) {
        if (!memMap.test(pfn, bit)) {
            return;
        }
        final Waiter w = new Waiter(pfn, bit, Thread.currentThread());
        final ConcurrentLinkedQueue<Waiter> q = bucket(pfn);
        q.add(w);
        try {
            final Platform p = Platform.current();
            while (memMap.test(pfn, bit)) {
                p.park(this);
            }
        } finally {
            q.remove(w);
        }
    }

    private void wake(final long pfn, final int bit) {
        final Platform p = Platform.current();
        for (final Waiter w : bucket(pfn)) {
            if (w.pfn == pfn && w.bit == bit) {
                p.unpark(w.thread);
            }
        }
    }
}
