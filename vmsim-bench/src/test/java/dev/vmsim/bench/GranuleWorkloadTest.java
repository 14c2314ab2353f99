package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.workload.PageFault1;
import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every workload on arm64 machines with 16K and 64K pages: the mm validates clean after the run
 * (the runner calls validate()), nothing signals or fails, and every frame comes back; page-fault1
 * takes one fault per page of its 128 MiB, so a round is 128 MiB / PAGE_SIZE faults.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GranuleWorkloadTest {
    private static final long K = 1024;

    static Stream<Arguments> cases() {
        final List<Arguments> out = new ArrayList<>();
        for (final Workload w : Workloads.all()) {
            for (final long page : List.of(16 * K, 64 * K)) {
                out.add(Arguments.of(w.name(), page));
            }
        }
        return out.stream();
    }

    private static RunResult run(final Workload w, final long page, final int threads, final long rounds) {
        return new WorkloadRunner(KernelFactory.simulator())
                .run(
                        RunConfig.rounds(w, "arm64", LockingMode.PER_VMA, threads, rounds, 42)
                                .withPageSize(page),
                        WorkloadRunner.Progress.NONE);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void shortRunLeavesTheMmValidAndTheFramesBalanced(final String workload, final long page) {
        final RunResult r = run(Workloads.find(workload), page, 3, 1);
        assertEquals(0, r.signals(), "signals");
        assertEquals(0, r.syscallErrors(), "failed system calls");
        assertTrue(r.faults() >= r.touches(), r.faults() + " faults for " + r.touches() + " touches");
        assertEquals(0, r.leakedFrames(), "frames not freed");
        assertEquals(page, r.config().pageSize());
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {4096, 16384, 65536})
    void pageFault1RoundIs128MiBOverThePageSizeFaults(final long page) {
        final RunResult r = run(new PageFault1(), page, 1, 2);
        final long perRound = PageFault1.MEMSIZE / page;
        assertEquals(2 * perRound, r.touches(), "one touch per page");
        assertEquals(2 * perRound, r.faults(), "one fault per touch: no page touched twice");
    }

    @Test
    void aFactoryThatBuildsOnly4KMachinesRefusesAnotherPageSize() {
        final KernelFactory only4k =
                (arch, mode, frames, cpus) -> MmStructKernel.create(arch, 4096, mode, frames, cpus);
        assertThrows(IllegalArgumentException.class, () -> only4k.create("arm64", 16 * K, LockingMode.PER_VMA, 64, 1));
        assertThrows(IllegalArgumentException.class, () -> KernelFactory.simulator()
                .create("x86_64", 16 * K, LockingMode.PER_VMA, 64, 1));
    }
}
