package dev.vmsim.core.mm;

import static dev.vmsim.core.mm.Mman.MAP_ANONYMOUS;
import static dev.vmsim.core.mm.Mman.MAP_PRIVATE;
import static dev.vmsim.core.mm.Mman.PROT_READ;
import static dev.vmsim.core.mm.Mman.PROT_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.TestCosts;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What mmap and munmap write under the mmap_lock besides the lock (the maple nodes a store rewrites,
 * map_count and the vm_stat_account counters) lives on cache lines of the mm: one CPU repeating the
 * pair keeps them in its cache; two CPUs taking turns (mmap1 at two threads) move each line on every
 * call, which is what makes the kernel's hold time grow at two threads.
 */
@Timeout(60)
class MmWriteSideLinesTest {
    private static final String TREE = "mm_mt nodes a store rewrites";
    private static final String COUNTERS = "mm counters (map_count, total_vm)";
    private static final long LEN = 128L << 20;
    private static final int ROUNDS = 20;

    /** {@code tasks} tasks on one mm, each ROUNDS times mmap + munmap; the scheduler afterwards. */
    private static VirtualScheduler run(final int tasks) {
        final VirtualScheduler s = new VirtualScheduler(TestCosts.model(tasks), SchedulePolicy.earliestClock());
        final Machine machine = new Machine(new TestArch(), 256, tasks, s);
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA); // before run: on the host clock
        for (int t = 0; t < tasks; t++) {
            s.spawn("t" + t, () -> {
                for (int r = 0; r < ROUNDS; r++) {
                    final long va = mm.mmap(0, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
                    assertTrue(va > 0, "mmap: " + va);
                    assertEquals(0, mm.munmap(va, LEN));
                }
            });
        }
        s.run();
        mm.validate();
        return s;
    }

    @Test
    void oneCpuKeepsTheLinesInItsCache() {
        final VirtualScheduler s = run(1);
        // the first touch of each line comes from memory; after that the CPU owns both
        assertEquals(1, s.lineStats().get(TREE).transfers());
        assertEquals(1, s.lineStats().get(COUNTERS).transfers());
        assertEquals(2 * ROUNDS, s.lineStats().get(TREE).accesses(), "one store per mmap and per munmap");
    }

    @Test
    void twoCpusTakingTurnsMoveEachLineOnMostCalls() {
        final VirtualScheduler s = run(2);
        final long tree = s.lineStats().get(TREE).transfers();
        final long counters = s.lineStats().get(COUNTERS).transfers();
        // 4 * ROUNDS calls in all; strict alternation would move the lines on every call
        assertTrue(tree >= 2 * ROUNDS, "tree line transfers: " + tree);
        assertTrue(counters >= 2 * ROUNDS, "counter line transfers: " + counters);
    }
}
