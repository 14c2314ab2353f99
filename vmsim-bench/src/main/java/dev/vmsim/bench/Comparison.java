package dev.vmsim.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A side-by-side comparison of locking variants (the columns: locking modes, each with or without
 * the simulator's mmap_lock upgrade) on one workload: the runs, made interleaved (A B C, B C A, ...)
 * after a discarded warm-up of each column, so that drift of the host (frequency, other load)
 * spreads over every column, and each column's medians. The first column is the baseline of the
 * ratios.
 */
public final class Comparison {
    /**
     * The default columns: mmap-only (the baseline of the ratios), the per-VMA lock of today and the
     * 2026 waiting variant. {@code compare --modes} picks others, e.g. the rw_semaphore of 6.4-6.14.
     */
    public static final List<LockingVariant> MODES = List.of(
            LockingVariant.of(LockingMode.MMAP_ONLY),
            LockingVariant.of(LockingMode.PER_VMA),
            LockingVariant.of(LockingMode.PER_VMA_WAIT));

    private final String workload;
    private final List<LockingVariant> columns;
    private final List<RunResult> runs;

    /** A comparison of the columns {@code runs} ran in, in the order each first appears. */
    public Comparison(final String workload, final List<RunResult> runs) {
        this(workload, runs.stream().map(r -> r.config().variant()).distinct().toList(), runs);
    }

    /** A comparison of {@code columns} (the first is the baseline of the ratios). */
    public Comparison(final String workload, final List<LockingVariant> columns, final List<RunResult> runs) {
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("a comparison needs at least one column");
        }
        this.workload = workload;
        this.columns = List.copyOf(columns);
        this.runs = Collections.unmodifiableList(new ArrayList<>(runs));
    }

    /** The longest warm-up run per column (a timed comparison's warm-up is capped at this). */
    static final Duration WARMUP_CAP = Duration.ofSeconds(1);

    /** {@link #run(WorkloadRunner, RunConfig, List, int, WorkloadRunner.Progress)} over the default {@link #MODES}. */
    public static Comparison run(
            final WorkloadRunner runner,
            final RunConfig base,
            final int repeat,
            final WorkloadRunner.Progress progress) {
        return run(runner, base, MODES, repeat, progress);
    }

    /**
     * Runs {@code base} in every one of {@code columns}, {@code repeat} times interleaved. {@code
     * progress} sees the completed fraction of the whole comparison.
     *
     * <p>Measurement: first one discarded warm-up run per column (capped at {@link #WARMUP_CAP}), so
     * no column's measured runs include the JIT compiling the simulated kernel; then repeat {@code k}
     * starts at column {@code k mod columns} (A B C, B C A, C A B, ...) so that no column always runs
     * first after a warm-up, or always last before the host's next drift.
     */
    public static Comparison run(
            final WorkloadRunner runner,
            final RunConfig base,
            final List<LockingVariant> columns,
            final int repeat,
            final WorkloadRunner.Progress progress) {
        final List<RunResult> runs = new ArrayList<>();
        final int n = columns.size();
        // Under the virtual clock a run does not depend on the JIT's state: no warm-up.
        final boolean warmUp = base.clock() == ClockKind.HOST;
        final double total = (repeat + (warmUp ? 1 : 0)) * n;
        final RunConfig warm = base.duration() != null && base.duration().compareTo(WARMUP_CAP) > 0
                ? base.withDuration(WARMUP_CAP)
                : base;
        for (int m = 0; warmUp && m < n; m++) {
            final int done = m;
            runner.run(warm.withVariant(columns.get(m)), f -> progress.update((done + f) / total));
        }
        for (int k = 0; k < repeat; k++) {
            for (int m = 0; m < n; m++) {
                final LockingVariant v = columns.get((k + m) % n);
                final int done = (warmUp ? n : 0) + runs.size();
                runs.add(runner.run(base.withVariant(v), f -> progress.update((done + f) / total)));
            }
        }
        return new Comparison(base.workload().name(), columns, runs);
    }

    public String workload() {
        return workload;
    }

    /** The columns in the order they are shown; the first is the baseline of the ratios. */
    public List<LockingVariant> columns() {
        return columns;
    }

    public List<RunResult> runs() {
        return runs;
    }

    /** The runs of one column, in order. */
    public List<RunResult> runsOf(final LockingVariant column) {
        final List<RunResult> out = new ArrayList<>();
        for (final RunResult r : runs) {
            if (r.config().variant().equals(column)) {
                out.add(r);
            }
        }
        return out;
    }

    /** The median over {@code column}'s runs of {@code metric}; NaN when the column has no run. */
    public double median(final LockingVariant column, final ToDoubleFunction<RunResult> metric) {
        final double[] v = runsOf(column).stream().mapToDouble(metric).toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** {@code column}'s median of {@code metric} divided by the first column's; NaN when undefined. */
    public double ratio(final LockingVariant column, final ToDoubleFunction<RunResult> metric) {
        final double base = median(columns.get(0), metric);
        return base == 0 ? Double.NaN : median(column, metric) / base;
    }

    /** Each column's median latency percentiles (p50, p90, p99, p99.9, max) of the fault or syscall histogram. */
    public Map<LockingVariant, double[]> medianPercentiles(final boolean faults) {
        final Map<LockingVariant, double[]> out = new LinkedHashMap<>();
        for (final LockingVariant m : columns) {
            final double[] p = new double[Latency.labels().length];
            for (int i = 0; i < p.length; i++) {
                final int idx = i;
                p[i] = median(m, r -> (faults ? r.faultLatency() : r.syscallLatency()).values()[idx]);
            }
            out.put(m, p);
        }
        return out;
    }

    /** {"workload": ..., "runs": [run objects]} */
    public ObjectNode toJsonNode() {
        final ObjectNode o = Json.object().put("workload", workload);
        final ArrayNode a = o.putArray("runs");
        for (final RunResult r : runs) {
            a.add(r.toJsonNode());
        }
        return o;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }
}
