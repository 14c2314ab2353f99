package dev.vmsim.core.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.Schedule.Actor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Lockdep: held stacks, order inversions naming both sites, the trylock exemption. */
class LockdepTest {
    private static final LockClass A = LockClass.of("test_a");
    private static final LockClass B = LockClass.of("test_b");

    @AfterEach
    void tearDown() {
        Lockdep.resetCurrentThread();
    }

    @Test
    void enabledBySurefire() {
        assertTrue(Lockdep.ENABLED);
    }

    @Test
    void inversionIsReportedWithBothSites() {
        final Object a = new Object();
        final Object b = new Object();
        // Thread 1: A then B (site "t1:A", "t1:B").
        final Actor t1 = new Actor("t1", () -> {
            Lockdep.acquire(A, a, null, false, false, "t1:A");
            Lockdep.acquire(B, b, null, false, false, "t1:B");
            Lockdep.release(B, b);
            Lockdep.release(A, a);
            return null;
        });
        t1.start();
        t1.joinResult();
        // Now B then A, on another schedule where nothing deadlocks.
        Lockdep.acquire(B, b, null, false, false, "main:B");
        final Lockdep.LockdepSplat s =
                assertThrows(Lockdep.LockdepSplat.class, () -> Lockdep.acquire(A, a, null, false, false, "main:A"));
        final String m = s.getMessage();
        assertTrue(m.contains("circular"), m);
        assertTrue(m.contains("main:B") && m.contains("main:A"), "new pair's sites: " + m);
        assertTrue(m.contains("t1:A") && m.contains("t1:B"), "old order's sites: " + m);
        assertTrue(Lockdep.reports().stream().anyMatch(r -> r.contains("t1:B")));
        assertEquals(1, Lockdep.heldLocks().size(), "the failed acquisition was not recorded");
        // A trylock in the inverted order is fine.
        Lockdep.acquire(A, a, null, false, true, "main:tryA");
        assertEquals(2, Lockdep.heldLocks().size());
        Lockdep.release(A, a);
        Lockdep.release(B, b);
        assertTrue(Lockdep.heldLocks().isEmpty());
    }

    @Test
    void rwsemAcquisitionsAreTracked() {
        final RwSemaphore sem = new RwSemaphore();
        sem.downRead();
        assertTrue(Lockdep.isHeld(LockClass.RWSEM, sem, true));
        assertTrue(sem.upgradeTrylock());
        assertTrue(Lockdep.isHeld(LockClass.RWSEM, sem, false));
        sem.downgradeWrite();
        assertTrue(Lockdep.isHeld(LockClass.RWSEM, sem, true));
        sem.upRead();
        assertTrue(Lockdep.heldLocks().isEmpty());
    }

    @Test
    void heldLocksRecordNoStackUnlessAsked() {
        final RwSemaphore sem = new RwSemaphore();
        sem.downWrite();
        final String site = Lockdep.heldLocks().get(0).site();
        sem.upWrite();
        if (Lockdep.STACKS) {
            assertTrue(site.contains("LockdepTest.heldLocksRecordNoStackUnlessAsked"), site);
        } else {
            assertTrue(site.contains("-Dvmsim.lockdep.stacks=true"), site);
        }
    }

    /** Recursion: the same rwsem taken again reports both places and leaves the count alone. */
    @Test
    void sameLockTakenAgainIsRecursiveLocking() {
        final RwSemaphore sem = new RwSemaphore();
        sem.downWrite();
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, sem::downWrite);
        assertTrue(s.getMessage().contains("possible recursive locking detected"), s.getMessage());
        assertTrue(s.getMessage().contains("which it already holds"), s.getMessage());
        assertTrue(
                s.getMessage().contains("LockdepTest.sameLockTakenAgainIsRecursiveLocking"),
                "the requesting stack: " + s.getMessage());
        assertEquals(RwSemaphore.RWSEM_WRITER_LOCKED, sem.count(), "the second acquire changed nothing");
        sem.upWrite();
        sem.downRead();
        assertThrows(Lockdep.LockdepSplat.class, sem::downRead, "a second down_read is not a recursive read");
        assertEquals(RwSemaphore.RWSEM_READER_BIAS, sem.count());
        sem.upRead();
        assertTrue(Lockdep.heldLocks().isEmpty());
    }

    /** Two locks of one class need a nesting annotation (down_write_nested). */
    @Test
    void secondLockOfTheClassNeedsASubclass() {
        final RwSemaphore a = new RwSemaphore();
        final RwSemaphore b = new RwSemaphore();
        a.downWrite();
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, b::downWrite);
        assertTrue(s.getMessage().contains("but already holds"), s.getMessage());
        assertEquals(0, b.count());
        b.downWriteNested(1);
        b.upWrite();
        a.upWrite();
        assertTrue(Lockdep.heldLocks().isEmpty());
    }

    /** Release of a lock this thread does not hold (another task holds it) is reported; the count stays. */
    @Test
    void releaseOfALockNotHeldByThisThreadIsReported() {
        final RwSemaphore sem = new RwSemaphore();
        final Actor holder = new Actor("holder", () -> {
            sem.downRead();
            return null;
        });
        holder.start();
        holder.joinResult(); // the Actor forgets its held stack; the rwsem stays read-held
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, sem::upRead);
        assertTrue(s.getMessage().contains("bad unlock balance detected"), s.getMessage());
        assertTrue(s.getMessage().contains("release of a lock that is not held"), s.getMessage());
        assertTrue(s.getMessage().contains("LockdepTest.releaseOfALockNotHeldByThisThreadIsReported"), s.getMessage());
        assertEquals(RwSemaphore.RWSEM_READER_BIAS, sem.count(), "the reader's hold is intact");
    }

    /** Unbalanced unlock: up_write of a read hold. */
    @Test
    void releaseInTheWrongModeIsUnbalanced() {
        final RwSemaphore sem = new RwSemaphore();
        sem.downRead();
        final Actor writer = new Actor("other-reader", () -> {
            sem.downRead();
            return null;
        });
        writer.start();
        writer.joinResult();
        // Two readers now: an up_read by us is fine, but first try up_read's wrong-mode twin via lockdep.
        final Lockdep.LockdepSplat s =
                assertThrows(Lockdep.LockdepSplat.class, () -> Lockdep.release(LockClass.RWSEM, sem, false));
        assertTrue(s.getMessage().contains("unbalanced unlock: up_write"), s.getMessage());
        assertTrue(s.getMessage().contains("held for read"), s.getMessage());
        sem.upRead();
        assertTrue(Lockdep.heldLocks().isEmpty());
    }

    /** An upgrade by a thread with no read hold is reported even while others read. */
    @Test
    void upgradeWithoutAReadHoldIsReported() {
        final RwSemaphore sem = new RwSemaphore();
        final Actor reader = new Actor("reader", () -> {
            sem.downRead();
            return null;
        });
        reader.start();
        reader.joinResult();
        final Lockdep.LockdepSplat s = assertThrows(Lockdep.LockdepSplat.class, sem::upgradeTrylock);
        assertTrue(s.getMessage().contains("upgrade without a read hold"), s.getMessage());
        assertEquals(RwSemaphore.RWSEM_READER_BIAS, sem.count(), "the other reader's hold is intact");
    }
}
