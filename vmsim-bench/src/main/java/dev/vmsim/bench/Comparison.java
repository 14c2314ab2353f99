package dev.vmsim.bench;

import dev.vmsim.core.lock.LockingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A side-by-side comparison of the locking modes on one workload: the runs, made interleaved
 * (A B C A B C ...) so that drift of the host (frequency, other load) spreads over every mode, and
 * each mode's medians.
 */
public final class Comparison {
    /** The modes in the order they run and are shown; mmap-only is the baseline of the ratios. */
    public static final List<LockingMode> MODES = List.of(LockingMode.values());

    private final String workload;
    private final List<RunResult> runs;

    public Comparison(final String workload, final List<RunResult> runs) {
        this.workload = workload;
        this.runs = Collections.unmodifiableList(new ArrayList<>(runs));
    }

    /**
     * Runs {@code base} in every mode, {@code repeat} times interleaved. {@code progress} sees the
     * completed fraction of the whole comparison.
     */
    public static Comparison run(
            final WorkloadRunner runner, final RunConfig base, final int repeat, final WorkloadRunner.Progress progress) {
        final List<RunResult> runs = new ArrayList<>();
        final int total = repeat * MODES.size();
        for (int k = 0; k < repeat; k++) {
            for (final LockingMode mode : MODES) {
                final int done = runs.size();
                runs.add(runner.run(base.withLocking(mode), f -> progress.update((done + f) / total)));
            }
        }
        return new Comparison(base.workload().name(), runs);
    }

    public String workload() {
        return workload;
    }

    public List<RunResult> runs() {
        return runs;
    }

    /** The runs of one mode, in order. */
    public List<RunResult> runsOf(final LockingMode mode) {
        final List<RunResult> out = new ArrayList<>();
        for (final RunResult r : runs) {
            if (r.config().locking() == mode) {
                out.add(r);
            }
        }
        return out;
    }

    /** The median over {@code mode}'s runs of {@code metric}; NaN when the mode has no run. */
    public double median(final LockingMode mode, final ToDoubleFunction<RunResult> metric) {
        final double[] v = runsOf(mode).stream().mapToDouble(metric).toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** {@code mode}'s median of {@code metric} divided by mmap-only's; NaN when undefined. */
    public double ratio(final LockingMode mode, final ToDoubleFunction<RunResult> metric) {
        final double base = median(LockingMode.MMAP_ONLY, metric);
        return base == 0 ? Double.NaN : median(mode, metric) / base;
    }

    /** Each mode's median latency percentiles (p50, p90, p99, p99.9, max) of the fault or syscall histogram. */
    public Map<LockingMode, double[]> medianPercentiles(final boolean faults) {
        final Map<LockingMode, double[]> out = new EnumMap<>(LockingMode.class);
        for (final LockingMode m : MODES) {
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
    public String toJson() {
        final JsonWriter w = new JsonWriter();
        w.beginObject().name("workload").value(workload).name("runs").beginArray();
        for (final RunResult r : runs) {
            r.writeJson(w);
        }
        w.endArray().endObject();
        return w.toString();
    }
}
