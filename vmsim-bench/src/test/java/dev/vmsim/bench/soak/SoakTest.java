package dev.vmsim.bench.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.sync.Lockdep;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The soak (issue [2/6]): random system calls and faults from several tasks on several mms, on both
 * architectures and in all three locking modes, with lockdep on and {@code validate()} of every mm
 * after every operation. Seed s runs architecture {@code s % 2} and locking mode {@code (s / 2) % 3},
 * so consecutive seeds cover every combination.
 *
 * <p>Sizes come from system properties: {@code vmsim.soak.seeds} seeds of {@code vmsim.soak.ops}
 * operations each, from {@code vmsim.soak.seed} on. The default build runs a small soak (3 seeds of
 * 3,000 operations); {@code mvn -B verify -Psoak} runs 100 seeds of 10^6. A failure names its seed
 * and operation index; {@code -Dvmsim.soak.seed=S -Dvmsim.soak.seeds=1} replays it exactly, since
 * the seed fixes every operation, its arguments and which task runs it (see {@link SoakRun}).
 * {@code vmsim.soak.jobs} seeds run at once, each on a machine of its own; a seed's run does not
 * depend on how many run beside it, and failures are reported in seed order.
 *
 * <p>Each seed then runs an interleaved phase ({@link SoakInterleaved}): three tasks on one mm at once,
 * under the virtual clock's seeded random schedule, {@code vmsim.soak.interleaved.ops} operations
 * each (300 by default), so the seed replays the interleaving too.
 */
class SoakTest {
    private static final long OPS = Long.getLong("vmsim.soak.ops", 3_000);
    private static final int SEEDS = Integer.getInteger("vmsim.soak.seeds", 3);
    private static final long FIRST_SEED = Long.getLong("vmsim.soak.seed", 1);
    /** Operations per task of each seed's interleaved phase (SoakInterleaved). */
    private static final int INTERLEAVED_OPS = Integer.getInteger("vmsim.soak.interleaved.ops", 300);
    /** Seeds run at once, each on its own machine (two by default: one per core of a 2-core machine). */
    private static final int JOBS = Math.max(1, Integer.getInteger("vmsim.soak.jobs", 2));

    @Test
    @Timeout(
            value = 6,
            unit = java.util.concurrent.TimeUnit.HOURS) // the -Psoak size; a hung op fails sooner (SoakRun.OP_BOUND_S)
    void randomSyscallsAndFaultsOnEveryArchAndLockingModeValidateAfterEveryOperation() throws Exception {
        assertTrue(Lockdep.ENABLED, "the soak runs with lockdep (surefire sets -Dvmsim.lockdep=true)");
        final long t0 = System.nanoTime();
        final ExecutorService pool = Executors.newFixedThreadPool(JOBS, r -> {
            final Thread t = new Thread(r, "soak-seed-runner");
            t.setDaemon(true);
            return t;
        });
        final List<Future<SeedResult>> results = new ArrayList<>();
        try {
            for (long seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
                final long s = seed;
                results.add(pool.submit(() -> runSeed(s)));
            }
            // in seed order, so the report reads the same whatever the number of jobs
            final List<String> failures = new ArrayList<>();
            long ops = 0;
            for (final Future<SeedResult> f : results) {
                final SeedResult r = f.get();
                ops += r.operations();
                if (r.failure() != null) {
                    failures.add(r.failure());
                }
            }
            report(failures, ops, t0);
        } finally {
            pool.shutdownNow();
        }
    }

    /** What one seed did: its operations, and its failure with the replay command, or null. */
    private record SeedResult(long operations, String failure) {}

    /** One seed: its own machine, so that seeds share nothing but lockdep's class graph, as tasks do. */
    private static SeedResult runSeed(final long seed) {
        final Arch arch = ArchRegistry.find(seed % 2 == 0 ? "x86_64" : "arm64");
        assertNotNull(arch, "architectures on the class path: " + ArchRegistry.names());
        final LockingMode mode = LockingMode.values()[(int) ((seed / 2) % LockingMode.values().length)];
        final Machine machine = new Machine(arch, 4096, 16);
        long ops = 0;
        try (SoakRun run = new SoakRun(machine, mode, seed)) {
            run.run(OPS);
            ops += run.operations();
            new SoakInterleaved(arch, mode, seed, INTERLEAVED_OPS).run();
            ops += (long) SoakInterleaved.TASKS * INTERLEAVED_OPS;
            return new SeedResult(ops, null);
        } catch (final Exception | AssertionError e) {
            e.printStackTrace();
            return new SeedResult(
                    ops,
                    "seed " + seed + " (" + arch.name() + ", " + mode + "): " + e
                            + "\n  replay: mvn -B -pl vmsim-bench -am verify -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false"
                            + " -Dvmsim.soak.seed=" + seed + " -Dvmsim.soak.seeds=1 -Dvmsim.soak.ops=" + OPS
                            + " -Dvmsim.soak.interleaved.ops=" + INTERLEAVED_OPS);
        } finally {
            machine.close();
        }
    }

    private static void report(final List<String> failures, final long ops, final long t0) {
        final double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf(
                "soak: %d seeds x %d ops = %d operations, %d violations, %.1f s%n",
                SEEDS, OPS, ops, failures.size(), s);
        assertEquals(List.of(), failures, "soak violations");
        assertEquals(SEEDS * (OPS + (long) SoakInterleaved.TASKS * INTERLEAVED_OPS), ops);
    }

    /**
     * The interleaved phase is a function of its seed: the same seed gives the same fingerprint (every
     * result in completion order, the scheduler's steps, the virtual time), so a failing seed replays
     * its interleaving exactly; another seed gives another interleaving.
     */
    @Test
    @Timeout(value = 5, unit = java.util.concurrent.TimeUnit.MINUTES)
    void anInterleavedSeedReplaysExactly() {
        final Arch arch = ArchRegistry.find("x86_64");
        final long a = new SoakInterleaved(arch, LockingMode.PER_VMA, 7, 200).run();
        assertEquals(a, new SoakInterleaved(arch, LockingMode.PER_VMA, 7, 200).run(), "seed 7, run twice");
        assertNotEquals(a, new SoakInterleaved(arch, LockingMode.PER_VMA, 8, 200).run(), "seed 8");
    }
}
