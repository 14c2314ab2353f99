package dev.vmsim.core.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.Schedule;
import dev.vmsim.core.lock.Schedule.Actor;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Writer optimistic spinning (rwsem_optimistic_spin / rwsem_spin_on_owner, kernel-semantics.md
 * §3.3 step 3.1): spin while the owner is a running writer, stop when it blocks, when the
 * reader-owned budget runs out (NONSPINNABLE) or when the need_resched stand-in budget runs out.
 */
class RwSemaphoreSpinTest {
    /** Long enough that only the owner's state, never the clock, ends a spin in these tests. */
    private static final long NO_BUDGET_LIMIT_NS = TimeUnit.SECONDS.toNanos(60);

    private final RwSemaphore sem = new RwSemaphore();

    @AfterEach
    void tearDown() {
        Lockdep.resetCurrentThread();
    }

    private Actor writer(final String name) {
        final Actor a = new Actor(name, () -> {
            sem.downWrite();
            sem.upWrite();
            return null;
        });
        a.start();
        return a;
    }

    @Test
    void writerSpinningOnARunningWriterAcquiresWithoutQueueing() {
        sem.setOptimisticSpinBudgetNanos(NO_BUDGET_LIMIT_NS);
        sem.downWrite(); // this thread stays RUNNABLE (it spins, never parks) while it holds
        final Actor w = writer("W");
        Schedule.until("W spins on the owner", () -> sem.optimisticSpinner() == w);
        assertEquals(0, sem.waiterCount(), "a spinner is not on the wait list");
        sem.upWrite();
        w.joinResult();
        assertEquals(1, sem.optLockCount(), "W took the lock by spinning");
        assertEquals(0, sem.writersQueuedCount(), "W never queued");
        assertEquals(0, sem.count());
        assertFalse(sem.isNonspinnable());
    }

    @Test
    void spinningStopsAndQueuesWhenTheOwnerBlocks() {
        sem.setOptimisticSpinBudgetNanos(NO_BUDGET_LIMIT_NS);
        final AtomicBoolean block = new AtomicBoolean();
        final CountDownLatch release = new CountDownLatch(1);
        final Actor owner = new Actor("O", () -> {
            sem.downWrite();
            while (!block.get()) {
                Thread.onSpinWait(); // running: a spinner may spin on us
            }
            Schedule.await(release); // parks: owner_on_cpu is false from here on
            sem.upWrite();
            return null;
        });
        owner.start();
        Schedule.until("O holds", () -> sem.owner() == owner);
        final Actor w = writer("W");
        Schedule.until("W spins on the running owner", () -> sem.optimisticSpinner() == w);
        assertEquals(-1, sem.waiterPosition(w));
        block.set(true);
        Schedule.until("W queued once O blocked", () -> sem.waiterPosition(w) == 0);
        Schedule.untilParked(w);
        assertSame(null, sem.optimisticSpinner(), "W left the osq");
        release.countDown();
        owner.joinResult();
        w.joinResult();
        assertEquals(0, sem.optLockCount());
        assertEquals(1, sem.writersQueuedCount());
        assertEquals(0, sem.count());
    }

    @Test
    void writerDoesNotSpinOnAnOwnerThatIsAlreadyBlocked() {
        sem.setOptimisticSpinBudgetNanos(NO_BUDGET_LIMIT_NS);
        final CountDownLatch release = new CountDownLatch(1);
        final Actor owner = new Actor("O", () -> {
            sem.downWrite();
            Schedule.await(release);
            sem.upWrite();
            return null;
        });
        owner.start();
        Schedule.until("O holds", () -> sem.owner() == owner);
        Schedule.until("O blocked", () -> owner.getState() == Thread.State.TIMED_WAITING);
        final Actor w = writer("W");
        Schedule.until("W queued", () -> sem.waiterPosition(w) == 0);
        release.countDown();
        owner.joinResult();
        w.joinResult();
        assertEquals(0, sem.optLockCount());
        assertEquals(1, sem.writersQueuedCount());
    }

    @Test
    void readerOwnedSpinBudgetExpiresAndSetsNonspinnable() {
        sem.setOptimisticSpinBudgetNanos(NO_BUDGET_LIMIT_NS);
        sem.downRead(); // held until W has queued: the (10 + readers/2) us budget must run out
        final Actor w = writer("W");
        Schedule.until("W queued behind the reader", () -> sem.waiterPosition(w) == 0);
        assertTrue(sem.isNonspinnable(), "rwsem_set_nonspinnable on expiry of the reader-owned budget");
        assertEquals(1, sem.optNospinCount());
        sem.upRead(); // clears NONSPINNABLE and wakes W
        w.joinResult();
        assertFalse(sem.isNonspinnable());
        assertEquals(0, sem.optLockCount());
        assertEquals(0, sem.count());
    }

    @Test
    void needReschedBudgetBoundsSpinningOnARunningWriter() {
        sem.setOptimisticSpinBudgetNanos(TimeUnit.MICROSECONDS.toNanos(50));
        sem.downWrite(); // running owner that never releases until W has queued
        final Actor w = writer("W");
        Schedule.until("W queued after its spin budget", () -> sem.waiterPosition(w) == 0);
        assertFalse(sem.isNonspinnable(), "a writer-owned spin does not set NONSPINNABLE");
        sem.upWrite();
        w.joinResult();
        assertEquals(0, sem.optLockCount());
        assertEquals(1, sem.writersQueuedCount());
    }

    @Test
    void spinningOffQueuesAtOnce() {
        sem.setOptimisticSpinBudgetNanos(0);
        sem.downWrite();
        final Actor w = writer("W");
        Schedule.until("W queued", () -> sem.waiterPosition(w) == 0);
        assertSame(null, sem.optimisticSpinner());
        sem.upWrite();
        w.joinResult();
        assertEquals(1, sem.writersQueuedCount());
    }
}
