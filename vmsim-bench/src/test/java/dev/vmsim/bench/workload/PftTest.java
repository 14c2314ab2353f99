package dev.vmsim.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** pft-threads on the simulator: disjoint slices of one shared mapping, repeats, Hmean. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PftTest {
    private static final long PAGE = 4096;

    private static RunResult run(final Pft w, final LockingMode mode, final int threads, final long repeats) {
        return new WorkloadRunner(KernelFactory.simulator())
                .run(RunConfig.rounds(w, "x86_64", mode, threads, repeats, 1), WorkloadRunner.Progress.NONE);
    }

    @ParameterizedTest(name = "{0} pages, {1} threads")
    @CsvSource({"64, 3", "64, 1", "4, 8", "100, 7"})
    void everyPageOfTheSharedMappingIsWriteFaultedOncePerRepeat(final int pages, final int threads) {
        final RunResult r = run(new Pft(pages * PAGE), LockingMode.PER_VMA, threads, 3);
        assertEquals(3L * pages, r.faults(), "the slices cover the mapping once, without overlap");
        assertEquals(3L * pages, r.touches());
        assertEquals(3L * pages, r.counters().vmstat("vma_lock_success"), "each fault takes the one VMA's lock");
        assertEquals(0, r.signals());
        assertEquals(0, r.leakedFrames(), "each repeat's mapping is unmapped");
        assertEquals(3L * threads, r.rounds());
        assertEquals(2L * 3, r.syscalls(), "each repeat ends with one munmap and one mmap, by the last thread");
        assertTrue(r.faultsPerSec() > 0 && Double.isFinite(r.faultsPerSec()), "Hmean " + r.faultsPerSec());
    }

    @Test
    void theRunsFaultsPerSecondIsTheHarmonicMeanOfTheRepeats() {
        assertEquals(3 / (1 + 0.5 + 0.25), Pft.hmean(new double[] {1, 2, 4, 99}, 3), 1e-12);
        assertEquals(7.0, Pft.hmean(new double[] {7}, 1), 1e-12);
    }

    /** A timed run ends with threads leaving after different repeats: the rest carry on without them. */
    @Test
    void aTimedRunEndsWithoutWaitingForThreadsThatStopped() {
        final RunResult r = new WorkloadRunner(KernelFactory.simulator())
                .run(
                        RunConfig.timed(
                                new Pft(256 * PAGE), "x86_64", LockingMode.PER_VMA_RWSEM, 4, Duration.ofMillis(300), 1),
                        WorkloadRunner.Progress.NONE);
        assertTrue(r.rounds() >= 4, "every thread finished at least one repeat: " + r.rounds());
        assertEquals(r.touches(), r.faults());
        assertEquals(0, r.leakedFrames());
        assertEquals(0, r.signals());
    }
}
