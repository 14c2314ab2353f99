package dev.vmsim.bench;

import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * A side-by-side comparison of the locking modes on one workload: the runs, made interleaved
 * (A B C, B C A, ...) after a discarded warm-up of each mode, so that drift of the host (frequency, other load) spreads over every mode, and
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

    /** The longest warm-up run per mode (a timed comparison's warm-up is capped at this). */
    static final Duration WARMUP_CAP = Duration.ofSeconds(1);

    /**
     * Runs {@code base} in every mode, {@code repeat} times interleaved. {@code progress} sees the
     * completed fraction of the whole comparison.
     *
     * <p>Measurement: first one discarded warm-up run per mode (capped at {@link #WARMUP_CAP}), so
     * no mode's measured runs include the JIT compiling the simulated kernel; then repeat {@code k}
     * starts at mode {@code k mod modes} (A B C, B C A, C A B, ...) so that no mode always runs
     * first after a warm-up, or always last before the host's next drift.
     */
    public static Comparison run(
            final WorkloadRunner runner, final RunConfig base, final int repeat, final WorkloadRunner.Progress progress) {
        final List<RunResult> runs = new ArrayList<>();
        final int modes = MODES.size();
        final double total = (repeat + 1) * modes;
        final RunConfig warm = base.duration() != null && base.duration().compareTo(WARMUP_CAP) > 0
                ? base.withDuration(WARMUP_CAP)
                : base;
        for (int m = 0; m < modes; m++) {
            final int done = m;
            runner.run(warm.withLocking(MODES.get(m)), f -> progress.update((done + f) / total));
        }
        for (int k = 0; k < repeat; k++) {
            for (int m = 0; m < modes; m++) {
                final LockingMode mode = MODES.get((k + m) % modes);
                final int done = modes + runs.size();
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
