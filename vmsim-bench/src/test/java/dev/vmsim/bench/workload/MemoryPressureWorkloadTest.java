package dev.vmsim.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.MemoryLimits;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.core.lock.LockingMode;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * swap-storm and thrash on the simulator: a working set larger than memory swaps out and back in,
 * every page's data is checked by the workload itself, and the runner's post-run checks (the mm,
 * the frame accounting, the rmap and the swap slots: Machine.validate) pass after each run.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MemoryPressureWorkloadTest {
    private static final WorkloadRunner RUNNER = new WorkloadRunner(KernelFactory.simulator());

    @ParameterizedTest(name = "{0} {1} {2} {3}")
    @CsvSource({
        "true, x86_64, MMAP_ONLY, HOST",
        "true, x86_64, PER_VMA, HOST",
        "false, arm64, PER_VMA_RWSEM, HOST",
        "true, arm64, PER_VMA, VIRTUAL",
        "false, x86_64, MMAP_ONLY, VIRTUAL"
    })
    void swapStormSwapsOutAndBackInWithItsDataIntact(
            final boolean random, final String arch, final LockingMode mode, final ClockKind clock) {
        final RunResult r = RUNNER.run(
                RunConfig.rounds(new SwapStorm(random), arch, mode, 3, 3, 7).withClock(clock),
                WorkloadRunner.Progress.NONE);
        assertEquals(0, r.signals(), "no fault ended in a signal; first " + r.firstSignal());
        assertEquals(0, r.leakedFrames());
        assertTrue(r.faults() >= SwapStorm.workingSet(3), "the first sweep faults every page: " + r.faults());
        // Both sweepers' regions stay mapped until the run ends (HeldRegions), so the working set
        // exceeds memory however the host schedules them.
        assertTrue(
                r.counters().vmstat("pswpout") > 0,
                "pages went to swap: " + r.counters().vmstat());
        if (clock == ClockKind.VIRTUAL) {
            // Only on the virtual clock, whose sweeps interleave: on the host clock one sweeper may
            // run all its sweeps before the other starts, and its region then fits in memory.
            assertTrue(r.counters().vmstat("pswpin") > 0, "pages came back from swap");
            assertTrue(r.counters().vmstat("pgmajfault") > 0, "the swap-ins were major faults");
            assertTrue(r.faults() > r.counters().vmstat("pgmajfault"), "and minor faults too");
        }
        assertTrue(r.syscalls() > 0, "the churner ran");
    }

    @Test
    void withoutPressureNothingIsSwapped() {
        // --mem at the workload's full need: the same sweeps, all minor faults.
        final SwapStorm w = new SwapStorm(true);
        final RunResult r = RUNNER.run(
                RunConfig.rounds(w, "x86_64", LockingMode.PER_VMA, 2, 3, 7)
                        .withMemory(new MemoryLimits(w.frames(2, 4096) * 4096, 0)),
                WorkloadRunner.Progress.NONE);
        assertEquals(0, r.counters().vmstat("pswpout"));
        assertEquals(0, r.counters().vmstat("pgmajfault"));
        assertEquals(0, r.signals());
    }

    @Test
    void thrashHasNoMajorFaultsBelowMemoryAndManyAbove() {
        final List<ThrashSweep.Step> steps = ThrashSweep.run(
                RUNNER,
                pct -> RunConfig.rounds(new Thrash(pct), "x86_64", LockingMode.PER_VMA, 2, 3, 1)
                        .withClock(ClockKind.VIRTUAL),
                new int[] {50, 200});
        final ThrashSweep.Step below = steps.get(0);
        final ThrashSweep.Step above = steps.get(1);
        assertEquals(0, below.majorFaults(), ThrashSweep.table(steps));
        assertEquals(0, below.pswpout(), ThrashSweep.table(steps));
        // A sequential sweep over twice memory evicts every page before it is reached again: each of
        // the two re-sweeps reads most of the working set back from swap. Swap readahead
        // (page-cluster 3) brings the next pages in with each major fault, so the major faults are
        // fewer than the pages read in, but there are some.
        assertTrue(above.pswpin() > new Thrash(200).workingSet(), ThrashSweep.table(steps));
        assertTrue(above.majorFaults() > 0 && above.majorFaults() < above.pswpin(), ThrashSweep.table(steps));
        assertTrue(above.pswpout() > 0, ThrashSweep.table(steps));
    }
}
