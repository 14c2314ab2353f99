package dev.vmsim.bench.workload;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.KernelCounters;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The thrashing curve: {@link Thrash} run at working sets from below to above memory, each step a
 * fresh machine of the same memory, tabulating per step faults/s, major faults and pswpin/pswpout.
 * The knee is where the working set passes memory: major faults and swap traffic appear, faults/s
 * drop.
 */
public final class ThrashSweep {
    /** The default steps: 50% to 200% of memory by 25%. */
    public static final int[] PERCENTS = {50, 75, 100, 125, 150, 175, 200};

    /** One step's figures. */
    public record Step(int percent, double faultsPerSec, long faults, long majorFaults, long pswpin, long pswpout) {
        /** A row of {@link #table}. */
        String row() {
            return String.format(
                    "%6d%% %14.0f %10d %10d %10d %10d", percent, faultsPerSec, faults, majorFaults, pswpin, pswpout);
        }
    }

    private ThrashSweep() {}

    /**
     * Prints the table: {@code java -cp vmsim-app/target/vmsim.jar dev.vmsim.bench.workload.ThrashSweep
     * [ARCH [LOCKING [THREADS [ROUNDS [host|virtual]]]]]} (defaults x86_64 per-vma 2 3 virtual).
     */
    public static void main(final String[] args) {
        final String arch = args.length > 0 ? args[0] : "x86_64";
        final LockingMode mode = args.length > 1 ? LockingVariant.parse(args[1]).mode() : LockingMode.PER_VMA;
        final int threads = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        final long rounds = args.length > 3 ? Long.parseLong(args[3]) : 3;
        final ClockKind clock = args.length > 4 && args[4].equals("host") ? ClockKind.HOST : ClockKind.VIRTUAL;
        final List<Step> steps = run(
                new WorkloadRunner(KernelFactory.simulator()),
                pct -> RunConfig.rounds(new Thrash(pct), arch, mode, threads, rounds, 1)
                        .withClock(clock),
                PERCENTS);
        System.out.print(table(steps));
    }

    /**
     * Runs each step: {@code config} maps a {@link Thrash} of the step's percent to the run's
     * configuration (arch, locking, threads, rounds, clock).
     */
    public static List<Step> run(
            final WorkloadRunner runner, final IntFunction<RunConfig> config, final int[] percents) {
        final List<Step> steps = new ArrayList<>();
        for (final int pct : percents) {
            final RunResult r = runner.run(config.apply(pct), WorkloadRunner.Progress.NONE);
            final KernelCounters c = r.counters();
            steps.add(new Step(
                    pct,
                    r.faultsPerSec(),
                    r.faults(),
                    c.vmstat("pgmajfault"),
                    c.vmstat("pswpin"),
                    c.vmstat("pswpout")));
        }
        return steps;
    }

    /** The steps as a text table with a header. */
    public static String table(final List<Step> steps) {
        final StringBuilder b = new StringBuilder(String.format(
                "%7s %14s %10s %10s %10s %10s%n", "ws/mem", "faults/s", "faults", "majfault", "pswpin", "pswpout"));
        for (final Step s : steps) {
            b.append(s.row()).append('\n');
        }
        return b.toString();
    }
}
