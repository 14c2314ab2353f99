package dev.vmsim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.workload.Workloads;
import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every workload against the simulated kernel: a short run with --iterations ends with
 * mm.validate() clean (the runner calls it), no signal, no failed system call, at least one pgfault
 * per timed touch, and every data frame freed again (the frame count balanced).
 */
class WorkloadCorrectnessTest {
    /** The simulator's kernels this test made, for the tests that look inside the machine and mm afterwards. */
    private final List<MmStructKernel> made = new ArrayList<>();

    private final KernelFactory capture = (arch, mode, frames, cpus) -> {
        final MmStructKernel k = MmStructKernel.create(arch, 4096, mode, frames, cpus);
        made.add(k);
        return k;
    };

    static Stream<Arguments> cases() {
        final List<Arguments> out = new ArrayList<>();
        for (final Workload w : Workloads.all()) {
            for (final String arch : List.of("x86_64", "arm64")) {
                for (final LockingMode mode : LockingMode.values()) {
                    out.add(Arguments.of(w.name(), arch, mode));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void shortRunLeavesTheMmValidAndTheFramesBalanced(
            final String workload, final String arch, final LockingMode mode) {
        final Workload w = Workloads.find(workload);
        final int threads = workload.equals("page-fault1") ? 2 : 3;
        final RunResult r = new WorkloadRunner(KernelFactory.simulator())
                .run(RunConfig.rounds(w, arch, mode, threads, 1, 42), WorkloadRunner.Progress.NONE);
        assertEquals(0, r.signals(), "signals");
        assertEquals(0, r.syscallErrors(), "failed system calls");
        assertTrue(r.faults() >= r.touches(), r.faults() + " faults for " + r.touches() + " touches");
        assertEquals(0, r.leakedFrames(), "frames not freed");
        if (mode == LockingMode.MMAP_ONLY) {
            assertEquals(0, r.counters().vmstat("vma_lock_success"), "mmap-only never takes a VMA lock");
        }
    }

    /** A run with the upgrade variant turns the simulator's mmap_lock upgrade on in the run's mm, and only there. */
    @Test
    void theUpgradeVariantReachesTheMm() {
        final RunConfig base =
                RunConfig.rounds(Workloads.find("stack-growth"), "x86_64", LockingMode.PER_VMA, 2, 1, 42);
        for (final boolean upgrade : new boolean[] {false, true}) {
            final RunResult r = new WorkloadRunner(capture)
                    .run(base.withVariant(base.variant().withMmapUpgrade(upgrade)), WorkloadRunner.Progress.NONE);
            assertEquals(0, r.signals(), "signals");
            assertEquals(upgrade, made.get(made.size() - 1).mm().mmapLock().upgradeEnabled());
        }
    }

    /** Every run frees VMAs into the machine's VMA cache and allocates them from it again (typesafe-by-RCU reuse). */
    @Test
    void aRunReusesFreedVmas() {
        final RunResult r = new WorkloadRunner(capture)
                .run(
                        RunConfig.rounds(Workloads.find("fault-vs-munmap"), "x86_64", LockingMode.PER_VMA, 3, 20, 42),
                        WorkloadRunner.Progress.NONE);
        assertEquals(0, r.signals(), "signals");
        assertTrue(made.get(0).machine().vmaCache().reused() > 0, "no VMA was reused");
        assertTrue(r.counters().vmstat().containsKey("vma_recheck_vm_mm"), "the re-check counters are in the report");
    }
}
