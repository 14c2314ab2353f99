package dev.vmsim.core.race;

import dev.vmsim.core.lock.MmapLock;
import dev.vmsim.core.lock.MmapLockTraceSink;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.stress.Watchdog;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * Controlled-schedule helpers for the race tests: threads whose failures reach the test, bounded
 * waits for a state that fail with a thread dump and the lock state, and {@link Pause}, which parks
 * one thread at an mmap_lock tracepoint while it still holds the lock.
 */
final class RaceSupport {
    /** Upper bound for every wait: far above any legitimate step, so only a hang reaches it. */
    static final long BOUND_S = 10;

    private RaceSupport() {}

    /** A started daemon thread running {@code body}; its failure is rethrown by {@link #join}. */
    static final class Task {
        final Thread thread;
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);

        Task(final String name, final ThrowingRunnable body) {
            thread = new Thread(
                    () -> {
                        try {
                            body.run();
                        } catch (final Throwable e) {
                            failure.set(e);
                        } finally {
                            done.countDown();
                        }
                    },
                    name);
            thread.setDaemon(true);
            thread.start();
        }

        boolean finished() {
            return done.getCount() == 0;
        }

        void join(final MmStruct... mms) throws InterruptedException {
            if (!done.await(BOUND_S, TimeUnit.SECONDS)) {
                throw new AssertionError(
                        thread.getName() + " did not finish\n" + Watchdog.lockState(mms) + Watchdog.threadDump());
            }
            if (failure.get() != null) {
                throw new AssertionError(thread.getName() + " failed", failure.get());
            }
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Spins (no sleeping) until {@code cond} holds; after {@link #BOUND_S} s fails with a dump. */
    static void awaitState(final String what, final BooleanSupplier cond, final MmStruct... mms) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_S);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "never reached: " + what + "\n" + Watchdog.lockState(mms) + Watchdog.threadDump());
            }
            Thread.onSpinWait();
        }
    }

    static void await(final CountDownLatch latch, final String what) {
        try {
            if (!latch.await(BOUND_S, TimeUnit.SECONDS)) {
                throw new AssertionError("never reached: " + what + "\n" + Watchdog.threadDump());
            }
        } catch (final InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** The mmap_lock tracepoint a {@link Pause} stops at. */
    enum Point {
        /**
         * trace_mmap_lock_released(write) at the head of mmap_write_unlock: the writer's changes are
         * in the tree, its VMA write locks still hold (mm_lock_seq not yet advanced) and so does the
         * mmap write lock.
         */
        WRITE_UNLOCK,
        /**
         * The acquire_returned(read) tracepoint at the head of mmap_write_downgrade (munmap's switch
         * to the read lock): the VMAs are detached and gone from the tree, the write lock still held.
         */
        WRITE_DOWNGRADE
    }

    /**
     * Parks the thread named {@code threadName} the first time it passes {@code point} on {@code
     * lock}, until {@link #release}. Installed as the global mmap_lock trace sink; {@link #close} removes it. Every
     * other thread and tracepoint passes straight through.
     */
    static final class Pause implements MmapLockTraceSink, AutoCloseable {
        private final MmapLock lock;
        private final Point point;
        private final String threadName;
        final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch go = new CountDownLatch(1);

        Pause(final MmapLock lock, final Point point, final String threadName) {
            this.lock = lock;
            this.point = point;
            this.threadName = threadName;
            MmapLock.setTraceSink(this);
        }

        void release() {
            go.countDown();
        }

        private void maybePark(final MmapLock l, final Point p) {
            if (l == lock
                    && p == point
                    && Thread.currentThread().getName().equals(threadName)
                    && reached.getCount() != 0) {
                reached.countDown();
                RaceSupport.await(go, "the test's release of " + point);
            }
        }

        @Override
        public void startLocking(final MmapLock l, final boolean write) {}

        @Override
        public void acquireReturned(final MmapLock l, final boolean write, final boolean success) {
            if (!write && success && l.isWriteLocked()) {
                maybePark(l, Point.WRITE_DOWNGRADE);
            }
        }

        @Override
        public void released(final MmapLock l, final boolean write) {
            if (write) {
                maybePark(l, Point.WRITE_UNLOCK);
            }
        }

        @Override
        public void close() {
            go.countDown();
            MmapLock.setTraceSink(null);
        }
    }
}
