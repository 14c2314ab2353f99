package dev.vmsim.bench.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.MemoryLimits;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.workload.SwapStorm;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.sync.Lockdep;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The memory-pressure soak (issue [5/6]): swap-storm with memory at 25% of its working set, so that
 * nearly every sweep swaps out and back in, on every seed x locking mode x architecture: seed s runs
 * architecture {@code s % 2}, locking mode {@code (s / 2) % 5} (the five of {@link LockingMode}) and
 * a random order on even {@code s / 10}, sequential on odd, so ten consecutive seeds cover every arch
 * and mode, and twenty every arch, mode and order. Each run
 * ends with the runner's checks (the mm, every frame accounted for, the rmap, every swap slot's
 * count: Machine.validate) and the workload checks every page's data as it sweeps; a run that
 * breaks either is a violation.
 *
 * <p>Sizes come from system properties: {@code vmsim.soak.mp.seeds} seeds of
 * {@code vmsim.soak.mp.rounds} sweeps per task. The default build runs 10 seeds of 2 sweeps (about
 * 10-40 s on a loaded 2-core machine); {@code mvn -B verify -Psoak} runs 64 seeds of 40.
 */
class MemoryPressureSoakTest {
    private static final int SEEDS = Integer.getInteger("vmsim.soak.mp.seeds", 10);
    private static final long ROUNDS = Long.getLong("vmsim.soak.mp.rounds", 2);
    private static final int THREADS = 3;

    @Test
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.HOURS) // the -Psoak size
    void swapStormAtAQuarterOfItsWorkingSetOnEverySeedModeAndArchKeepsDataAndInvariants() {
        assertTrue(Lockdep.ENABLED, "the soak runs with lockdep (surefire sets -Dvmsim.lockdep=true)");
        final WorkloadRunner runner = new WorkloadRunner(KernelFactory.simulator());
        final List<String> failures = new ArrayList<>();
        long accesses = 0;
        long majfaults = 0;
        long pswpout = 0;
        final long t0 = System.nanoTime();
        for (long seed = 0; seed < SEEDS; seed++) {
            final String arch = seed % 2 == 0 ? "x86_64" : "arm64";
            final LockingMode mode = LockingMode.values()[(int) ((seed / 2) % LockingMode.values().length)];
            final SwapStorm w = new SwapStorm((seed / 10) % 2 == 0);
            final long ws = SwapStorm.workingSet(THREADS);
            final long mem = SwapStorm.memBytesAt(THREADS, 4096, 25);
            try {
                final RunResult r = runner.run(
                        RunConfig.rounds(w, arch, mode, THREADS, ROUNDS, seed)
                                .withMemory(new MemoryLimits(mem, 2 * ws * 4096)),
                        WorkloadRunner.Progress.NONE);
                if (r.signals() != 0 || r.leakedFrames() != 0) {
                    failures.add("seed " + seed + " (" + arch + ", " + mode + ", " + w.name() + "): " + r.signals()
                            + " signals, " + r.leakedFrames() + " frames leaked");
                }
                accesses += ROUNDS * ws; // each sweep visits every page of the working set once
                majfaults += r.counters().vmstat("pgmajfault");
                pswpout += r.counters().vmstat("pswpout");
            } catch (final RuntimeException | AssertionError e) {
                failures.add("seed " + seed + " (" + arch + ", " + mode + ", " + w.name() + "): " + e);
                e.printStackTrace();
            }
        }
        final double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "memory-pressure soak: %d seeds x %d sweeps, %d page visits, %.0f visits/s,"
                        + " %d major faults, %d pswpout, %d violations, %.1f s%n",
                SEEDS, ROUNDS, accesses, accesses / s, majfaults, pswpout, failures.size(), s);
        assertEquals(List.of(), failures, "memory-pressure soak violations");
        assertTrue(pswpout > 0 && majfaults > 0, "the soak ran under memory pressure");
    }
}
