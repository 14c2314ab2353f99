package dev.vmsim.core.lock;

import static dev.vmsim.core.lock.VmaFixture.attached;
import static dev.vmsim.core.lock.VmaFixture.tryRead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.CostModel;
import dev.vmsim.core.clock.Explorer;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.TestCosts;
import dev.vmsim.core.clock.VirtualCpu;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Lockdep;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Schedule exploration on the virtual clock: the per-VMA lock scenarios of BUG-03, BUG-04, BUG-05
 * and BUG-06 (test-catalogue.md) run under many seeded schedules with nothing but the tasks' code,
 * no hooks placed by the test. With a bug's fix switched off some schedule within the bound fails,
 * and its seed replays the failure; with the fix on, the same schedules all pass. (VmaLockTest
 * replays the same four with gates at named points; here the policy has to find the interleaving.)
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ScheduleExplorationTest {
    private static final CostModel COSTS = TestCosts.model(4);
    private static final int BOUND = 1000;

    /** BUG-03's schedules: delay injection, 20 % of points, up to 2 us. */
    private static SchedulePolicy delays(final long seed) {
        return SchedulePolicy.randomDelays(seed, 0.2, 2_000);
    }

    /** BUG-06's schedules: PCT of depth 2 over about 40 preemption points. */
    private static SchedulePolicy pct(final long seed) {
        return SchedulePolicy.pct(seed, 2, 40);
    }

    /**
     * With {@code bug}'s fix off, explores {@code policies} over the scenario up to the bound: some
     * schedule must fail, and its seed must replay the same failure. Returns the finding.
     */
    private static Explorer.Finding findAndReplay(
            final Bug bug,
            final LongFunction<SchedulePolicy> policies,
            final Supplier<? extends Explorer.Scenario> scenario,
            final String what) {
        BugSwitches.set(bug, true);
        final Explorer.Finding f = Explorer.explore(COSTS, policies, scenario, BOUND);
        assertNotNull(f, "some schedule within " + BOUND + " " + what);
        System.out.println(bug.id() + " found by " + f.schedule() + " after " + f.schedulesTried() + " schedules: "
                + f.failure().getMessage());
        final Throwable again = Explorer.replay(COSTS, policies.apply(f.seed()), scenario);
        assertNotNull(again, "the seed replays the failure: " + f.schedule());
        assertEquals(f.failure().getMessage(), again.getMessage());
        return f;
    }

    @AfterEach
    void tearDown() {
        BugSwitches.set(Bug.BUG_03, false);
        BugSwitches.set(Bug.BUG_04, false);
        BugSwitches.set(Bug.BUG_05, false);
        BugSwitches.set(Bug.BUG_06, false);
        Lockdep.resetCurrentThread();
    }

    /**
     * BUG-03: T1 (mm A) still holds a VMA object that was freed and reused by mm B; T1's
     * vma_start_read takes a reference, sees vm_mm != A and drops it, while T3 (mm B) detaches the
     * VMA and exits, freeing mm B. Without mmgrab, T1's rcuwait_wake_up can touch the freed mm.
     */
    private static final class Bug03 implements Explorer.Scenario {
        private final MmStruct a = VmaFixture.mm();
        private final MmStruct b = VmaFixture.mm();
        private final Vma v = attached(a, 0x1000, 0x5000);
        private final Vma reused;

        Bug03() {
            final VmaCache cache = new VmaCache();
            a.mmapLock().writeLock();
            VmaLock.startWrite(v);
            VmaLock.markDetached(v);
            a.mmapLock().writeUnlock();
            cache.free(v);
            reused = cache.alloc(b, 0x9000, 0xa000);
            assertSame(v, reused, "type-safe-by-RCU: the object is reused at once");
            b.mmapLock().writeLock();
            VmaLock.startWrite(reused);
            VmaLock.markAttached(reused);
            b.mmapLock().writeUnlock();
        }

        @Override
        public void spawn(final VirtualScheduler s) {
            s.spawn("T1", () -> {
                final Vma r = tryRead(a, v); // detached (EAGAIN) or recycled (null): never locked for mm A
                assertTrue(r == null || r == VmaLock.EAGAIN, "a recycled VMA was locked for mm A");
            });
            s.spawn("T3", () -> {
                b.mmapLock().writeLock();
                VmaLock.startWrite(reused);
                VmaLock.markDetached(reused);
                b.mmapLock().writeUnlock();
                b.mmapLock().mmdrop(); // exit: mm B's last own reference
            });
        }

        @Override
        public void check() {
            assertEquals(0, v.refcnt(), "detached, no reader left");
            assertTrue(b.mmapLock().isFreed(), "mm B is freed once both are done");
        }
    }

    @Test
    void randomDelaysFindBug03WithTheFixOffAndReplayIt() {
        final Explorer.Finding f =
                findAndReplay(Bug.BUG_03, ScheduleExplorationTest::delays, Bug03::new, "shows the use-after-free");
        assertTrue(
                f.failure().getMessage().contains("use-after-free"), f.failure().toString());
    }

    @Test
    void bug03FixHoldsUnderTheSameSchedules() {
        final Explorer.Finding f = Explorer.explore(COSTS, ScheduleExplorationTest::delays, Bug03::new, BOUND);
        assertNull(f, () -> "with mmgrab no schedule fails, but " + f.schedule() + ": " + f.failure());
    }

    /**
     * BUG-06: R holds a VMA read lock for a while; W (mmap write lock) write-locks the VMA with the
     * killable form and waits for R; K sends W a fatal signal at a time the schedule picks. Whatever
     * the order, vm_refcnt must end at 1 (attached, no reader, no exclusion flag) and a new reader
     * must get the lock.
     */
    private static final class Bug06 implements Explorer.Scenario {
        private final MmStruct mm = VmaFixture.mm();
        private final Vma v = attached(mm, 0x1000, 0x5000);

        @Override
        public void spawn(final VirtualScheduler s) {
            s.spawn("R", () -> {
                if (tryRead(mm, v) == v) { // fails while W holds the VMA write-locked
                    s.charge(Cost.SPIN_STEP, 2000); // hold it for 2 us of virtual time
                    VmaLock.endRead(v);
                }
            });
            final VirtualCpu w = s.spawn("W", () -> {
                final MmapLock ml = mm.mmapLock();
                ml.writeLock();
                VmaLock.startWriteKillable(v); // 0 or -EINTR: either is allowed
                ml.writeUnlock();
            });
            s.spawn("K", () -> {
                s.charge(Cost.SPIN_STEP, 100);
                s.kill(w.thread());
            });
        }

        @Override
        public void check() {
            assertEquals(1, v.refcnt(), "vm_refcnt back to attached-and-unlocked");
            assertSame(v, tryRead(mm, v), "a new reader gets the VMA");
            VmaLock.endRead(v);
        }
    }

    @Test
    void pctFindsBug06WithTheFixOffAndReplaysIt() {
        final Explorer.Finding f =
                findAndReplay(Bug.BUG_06, ScheduleExplorationTest::pct, Bug06::new, "leaves the exclusion flag");
        assertTrue(f.failure() instanceof AssertionError, f.failure().toString());
    }

    @Test
    void bug06FixHoldsUnderTheSameSchedules() {
        final Explorer.Finding f = Explorer.explore(COSTS, ScheduleExplorationTest::pct, Bug06::new, BOUND);
        assertNull(f, () -> "with the fix no schedule fails, but " + f.schedule() + ": " + f.failure());
    }

    /**
     * BUG-04: R passes vma_start_read's early check before W (munmap) write-locks V, and takes its
     * reference after; W's vma_mark_detached then finds the spurious reader. The fix waits until R
     * has re-checked and backed out; before it, vma_mark_detached returned with R still counted, W
     * dropped the mmap lock, and R's re-check passed: a read lock on a detached VMA. Between
     * vma_start_write and vma_mark_detached W does the rest of the unmap's work (a charge).
     */
    private static final class Bug04 implements Explorer.Scenario {
        private final MmStruct mm = VmaFixture.mm();
        private final Vma v = attached(mm, 0x1000, 0x5000);
        /** Set by W once vma_mark_detached returned; read by R (one task runs at a time). */
        private boolean detachReturned;

        @Override
        public void spawn(final VirtualScheduler s) {
            s.spawn("R", () -> {
                if (tryRead(mm, v) == v) {
                    assertFalse(detachReturned, "read-locked a detached VMA");
                    VmaLock.endRead(v);
                }
            });
            s.spawn("W", () -> {
                final MmapLock ml = mm.mmapLock();
                ml.writeLock();
                VmaLock.startWrite(v);
                s.charge(Cost.SPIN_STEP, 200); // the unmap's work before the detach (split, gather)
                VmaLock.markDetached(v);
                detachReturned = true;
                ml.writeUnlock();
            });
        }

        @Override
        public void check() {
            assertEquals(0, v.refcnt(), "detached, no reader left");
        }
    }

    @Test
    void randomDelaysFindBug04WithTheFixOffAndReplayIt() {
        final Explorer.Finding f = findAndReplay(
                Bug.BUG_04, ScheduleExplorationTest::delays, Bug04::new, "leaves a reader in the detached VMA");
        assertTrue(
                f.failure().getMessage().contains("read-locked a detached VMA"),
                f.failure().toString());
    }

    @Test
    void bug04FixHoldsUnderTheSameSchedules() {
        final Explorer.Finding f = Explorer.explore(COSTS, ScheduleExplorationTest::delays, Bug04::new, BOUND);
        assertNull(f, () -> "with the fix no schedule fails, but " + f.schedule() + ": " + f.failure());
    }

    /**
     * BUG-05: R passes the early check before W write-locks V and takes its reference after W's
     * vma_start_write found no reader. The re-check of vm_lock_seq under the reference makes R back
     * out; without it R holds V for read while W holds it for write (a false "unlocked" result). W
     * holds the lock for the rest of its work (a charge) before mmap_write_unlock. R checks at once,
     * in the step of the skipped re-check: it returns from vma_start_read with no preemption point.
     */
    private static final class Bug05 implements Explorer.Scenario {
        private final MmStruct mm = VmaFixture.mm();
        private final Vma v = attached(mm, 0x1000, 0x5000);

        @Override
        public void spawn(final VirtualScheduler s) {
            s.spawn("R", () -> {
                if (tryRead(mm, v) == v) {
                    assertFalse(VmaLock.isWriteLocked(v), "read-locked while write-locked");
                    VmaLock.endRead(v);
                }
            });
            s.spawn("W", () -> {
                final MmapLock ml = mm.mmapLock();
                ml.writeLock();
                VmaLock.startWrite(v);
                s.charge(Cost.SPIN_STEP, 200); // the write side's work under the lock
                // An instruction boundary after it: without one, mmap_write_unlock's mm_lock_seq store
                // (no preemption point before it) would land at the start of W's work in virtual time.
                s.preemptionPoint();
                ml.writeUnlock();
            });
        }

        @Override
        public void check() {
            assertEquals(1, v.refcnt(), "attached, no reader left");
        }
    }

    @Test
    void randomDelaysFindBug05WithTheFixOffAndReplayIt() {
        final Explorer.Finding f = findAndReplay(
                Bug.BUG_05, ScheduleExplorationTest::delays, Bug05::new, "lets a reader in beside the writer");
        assertTrue(
                f.failure().getMessage().contains("read-locked while write-locked"),
                f.failure().toString());
    }

    @Test
    void bug05FixHoldsUnderTheSameSchedules() {
        final Explorer.Finding f = Explorer.explore(COSTS, ScheduleExplorationTest::delays, Bug05::new, BOUND);
        assertNull(f, () -> "with the fix no schedule fails, but " + f.schedule() + ": " + f.failure());
    }
}
