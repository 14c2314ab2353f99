package dev.vmsim.core.lock;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_FIXED;
import static dev.vmsim.core.mm.Mman.MAP_GROWSDOWN;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import dev.vmsim.core.lock.Schedule.Actor;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.testing.TestArch;
import dev.vmsim.core.tree.MaState;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * BUG-01, StackRot (CVE-2023-3269), replayed step by step (test-catalogue.md Part II):
 *
 * <pre>
 *   T2: mmap_read_lock; mas_walk(A) caches leaf N              (no rcu_read_lock)
 *   T1: fault below A (VM_GROWSDOWN, P below is VM_GROWSDOWN: no guard gap)
 *       fixed:  lock_mm_and_find_vma must take the write lock: waits for T2
 *       bug:    expand_downwards under the read lock: N replaced, call_rcu(free N)
 *   grace period (synchronize_rcu): T2 is in no read section, nothing delays it; N poisoned
 *   T2: mas_prev → reads N
 * </pre>
 */
class StackRotTest {
    private static final long PAGE = 4096;
    private final Machine machine = TestArch.machine(2048);

    /** Fixed: the expansion waits for the mmap reader; the reader's leaf is intact and P is found. */
    @Test
    @Timeout(30)
    void stackExpansionWaitsForMmapReaders() {
        final Replay r = new Replay();
        r.t1.start();
        Schedule.until(
                "T1 queued for the mmap write lock",
                () -> r.mm.mmapLock().rwsem().isContended());
        Schedule.untilParked(r.t1);
        Rcu.synchronizeRcu();
        r.go.countDown();
        assertSame(r.p, r.t2.joinResult(), "mas_prev from the cached leaf finds P");
        assertEquals(r.a, r.t1.joinResult());
        assertEquals(r.stack - PAGE, r.a.vmStart, "grown, under the write lock");
        r.mm.validate();
    }

    /** BUG-01 reintroduced: the leaf T2 holds is freed after the grace period; mas_prev reads the poison. */
    @Test
    @Timeout(30)
    void bug01SwitchShowsTheUseAfterFree() {
        try (var bug = BugSwitches.reintroduce(Bug.BUG_01)) {
            final Replay r = new Replay();
            r.t1.start();
            assertEquals(r.a, r.t1.joinResult(), "T1 expanded beside T2's read hold, not waiting");
            assertEquals(r.stack - PAGE, r.a.vmStart);
            Rcu.synchronizeRcu(); // T2 holds only the mmap lock: nothing delays the grace period
            r.go.countDown();
            final AssertionError e = assertThrows(AssertionError.class, r.t2::joinResult);
            assertTrue(
                    e.getCause().getMessage().contains("use-after-free"),
                    e.getCause().getMessage());
        }
    }

    /** The address space of the replay and its two tasks; T2 is started and has walked. */
    private final class Replay {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long stack = mm.mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN);
        final Vma a = mm.vmaLookup(stack);
        final Vma p;
        final CountDownLatch walked = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);
        final Actor t2;
        final Actor t1;

        Replay() {
            final long below = stack - 64 * PAGE;
            assertEquals(
                    below,
                    mm.mmap(
                            below,
                            PAGE,
                            PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN));
            p = mm.vmaLookup(below);
            t2 = new Actor("T2", () -> {
                mm.mmapLock().readLock();
                try {
                    final MaState<Vma> mas = new MaState<>(mm.mmMt(), stack, stack);
                    assertSame(a, mas.walk());
                    walked.countDown();
                    Schedule.await(go);
                    return mas.prev(0);
                } finally {
                    mm.mmapLock().readUnlock();
                }
            });
            t1 = new Actor("T1", () -> {
                final Vma v = LockVma.lockMmAndFindVma(mm, stack - PAGE, null);
                mm.mmapLock().readUnlock();
                return v;
            });
            t2.start();
            Schedule.await(walked);
        }
    }
}
