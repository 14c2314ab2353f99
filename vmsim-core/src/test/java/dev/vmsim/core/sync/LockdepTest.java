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
    void capturedSiteNamesTheCaller() {
        final RwSemaphore sem = new RwSemaphore();
        sem.downWrite();
        final String site = Lockdep.heldLocks().get(0).site;
        sem.upWrite();
        assertTrue(site.contains("LockdepTest.capturedSiteNamesTheCaller"), site);
    }
}
