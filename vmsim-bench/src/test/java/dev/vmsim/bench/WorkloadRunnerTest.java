package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The runner and the workloads' bookkeeping over {@link ToyKernel}: every touch lands in a VMA and
 * faults, every system call succeeds, and the mm is empty again at the end. The same checks against
 * the simulated kernel are in WorkloadCorrectnessTest.
 */
class WorkloadRunnerTest {
    private final List<ToyKernel> made = new CopyOnWriteArrayList<>();
    private final KernelFactory factory = (arch, mode, frames, cpus) -> {
        final ToyKernel k = new ToyKernel(arch, mode);
        made.add(k);
        return k;
    };

    /** The workloads without memory pressure: the toy kernel has no swap (MemoryPressureWorkloadTest runs the rest). */
    static Stream<Workload> workloads() {
        return Workloads.all().stream().filter(w -> w.swapBytes(1, 4096) == 0);
    }

    @ParameterizedTest
    @MethodSource("workloads")
    void everyWorkloadFaultsOnlyInsideItsMappingsAndUnmapsEverything(final Workload w) {
        final RunResult r = new WorkloadRunner(factory)
                .run(RunConfig.rounds(w, "x86_64", LockingMode.PER_VMA, 3, 2, 7), WorkloadRunner.Progress.NONE);
        assertEquals(6, r.rounds());
        assertTrue(r.seconds() > 0, "a run however short takes time");
        assertEquals(0, r.signals(), "signals");
        assertEquals(0, r.syscallErrors(), "failed syscalls");
        assertEquals(r.touches(), r.faults(), "every timed touch is expected to fault");
        assertEquals(r.touches(), r.faultLatency().count());
        assertEquals(r.syscalls(), r.syscallLatency().count());
        assertTrue(r.syscalls() > 0);
        assertEquals(0, r.leakedFrames());
        assertEquals(0, made.get(0).vmaCount(), "mappings left behind");
    }

    @Test
    void aDurationBoundRunStopsAfterItsDuration() {
        final RunResult r = new WorkloadRunner(factory)
                .run(
                        RunConfig.timed(
                                Workloads.find("spf"), "x86_64", LockingMode.MMAP_ONLY, 2, Duration.ofMillis(200), 1),
                        WorkloadRunner.Progress.NONE);
        assertTrue(r.seconds() >= 0.2, "ran " + r.seconds() + " s");
        assertTrue(r.seconds() < 10, "ran " + r.seconds() + " s");
        assertTrue(r.rounds() > 0);
        assertEquals(r.rounds() * 100, r.faults(), "spf faults 100 pages a round");
    }

    @Test
    void aTaskThatThrowsFailsTheRunWithItsMessage() {
        final KernelFactory broken = (arch, mode, frames, cpus) -> new ToyKernel(arch, mode) {
            @Override
            public synchronized long mmap(final long addr, final long len, final int prot, final int flags) {
                throw new UnsupportedOperationException("no mmap here");
            }
        };
        final WorkloadRunner.RunFailure f =
                assertThrows(WorkloadRunner.RunFailure.class, () -> new WorkloadRunner(broken)
                        .run(
                                RunConfig.rounds(Workloads.find("mmap1"), "x86_64", LockingMode.PER_VMA, 3, 1, 1),
                                WorkloadRunner.Progress.NONE));
        assertTrue(f.getMessage().contains("no mmap here"), f.getMessage());
    }

    @Test
    void sharedVmaFaultsEverySliceOnceARound() {
        final RunResult a = new WorkloadRunner(factory)
                .run(
                        RunConfig.rounds(Workloads.find("shared-vma"), "arm64", LockingMode.PER_VMA_WAIT, 2, 3, 99),
                        WorkloadRunner.Progress.NONE);
        assertEquals("arm64", a.config().arch());
        assertEquals(2 * 3 * 64, a.faults());
    }
}
