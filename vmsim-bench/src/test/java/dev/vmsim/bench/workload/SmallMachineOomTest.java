package dev.vmsim.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.MemoryLimits;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.lock.LockingMode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OOM killer on machines that are small, not out of memory: with swap that has room, the
 * allocation slow path keeps reclaiming (should_reclaim_retry counts the swappable LRU folios, and
 * reclaim_throttle lets writeback finish) instead of killing; when memory and swap are both
 * exhausted the killer chooses the workload's process, SIGKILL stops its tasks, the oom_reaper frees
 * its memory, and the run ends with the kill reported. The runner validates the machine after every
 * run (Machine.validate: frames, rmap, swap slots). Virtual clock: each run is deterministic.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SmallMachineOomTest {
    private static final WorkloadRunner RUNNER = new WorkloadRunner(KernelFactory.simulator());
    /** 75 frames of 4 KiB: min watermark 32 pages, so 42 frames for page tables and data. */
    private static final long MEM_75_FRAMES = 300 << 10;

    /**
     * The reproducer of the premature OOM: spf (100 pages per round per task) on 75 frames with 8 MiB
     * of swap. Before should_reclaim_retry, one direct-reclaim pass that freed nothing (its folios
     * isolated by another task's reclaim, or under writeback) sent the allocation to out_of_memory,
     * which killed the only process while swap had 2047 free slots.
     */
    @ParameterizedTest(name = "{0} tasks")
    @ValueSource(ints = {1, 2, 4})
    void aSmallMachineWithSwapReclaimsInsteadOfKilling(final int threads) {
        final RunResult r = RUNNER.run(
                RunConfig.rounds(new Spf(), "x86_64", LockingMode.PER_VMA, threads, 20, 1)
                        .withClock(ClockKind.VIRTUAL)
                        .withMemory(new MemoryLimits(MEM_75_FRAMES, 8 << 20)),
                WorkloadRunner.Progress.NONE);
        assertEquals(
                0,
                r.counters().vmstat("oom_kill"),
                "swap had room: nobody killed " + r.counters().vmstat());
        assertTrue(r.killedTasks().isEmpty(), "killed: " + r.killedTasks());
        assertEquals(0, r.signals(), "first signal " + SigInfo.describe(r.firstSignal()));
        assertTrue(r.counters().vmstat("pswpout") > 0, "the working set went through swap");
        assertEquals(20L * threads, r.rounds(), "every task ran its rounds");
        assertEquals(0, r.leakedFrames());
    }

    /**
     * swap-storm (one sweeper of 1024 pages and a churner) in 2 MiB with a swap device of one slot:
     * memory and swap are exhausted, so the OOM killer runs, chooses the workload's process (its
     * tasks registered, oom_score_adj 0), and SIGKILL stops both tasks; the run still completes,
     * validates, and reports which tasks the kill stopped.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"x86_64, VIRTUAL", "arm64, VIRTUAL", "x86_64, HOST"})
    void whenMemoryAndSwapAreExhaustedTheWorkloadIsKilledAndTheRunReportsIt(final String arch, final ClockKind clock) {
        final RunResult r = RUNNER.run(
                RunConfig.rounds(new SwapStorm(false), arch, LockingMode.PER_VMA, 2, 3, 1)
                        .withClock(clock)
                        .withMemory(new MemoryLimits(2 << 20, 8 << 10)),
                WorkloadRunner.Progress.NONE);
        assertEquals(
                1, r.counters().vmstat("oom_kill"), "one kill: " + r.counters().vmstat());
        assertFalse(r.killedTasks().isEmpty(), "the victim's tasks were stopped");
        assertTrue(
                r.killedTasks().contains(0),
                "the sweeper, whose faults ran out of memory, was killed: " + r.killedTasks());
        assertEquals("SIGKILL", SigInfo.describe(r.firstSignal()));
        assertTrue(r.rounds() < 2 * 3, "the killed tasks stopped before their rounds were done: " + r.rounds());
        assertEquals(0, r.leakedFrames(), "the reaper and the exit freed the victim's memory");
    }
}
