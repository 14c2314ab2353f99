package dev.vmsim.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A scaling table: one {@link Comparison} of the same modes per thread count, in the form of the
 * published pft tables (each row a thread count, each column a mode's faults/s, and each mode's
 * delta against the first mode of the row, e.g. -8.1%).
 */
public final class Scaling {
    private final String workload;
    private final List<LockingVariant> modes;
    private final List<Comparison> rows;

    public Scaling(final String workload, final List<LockingVariant> modes, final List<Comparison> rows) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a scaling table needs at least one thread count");
        }
        this.workload = workload;
        this.modes = List.copyOf(modes);
        this.rows = Collections.unmodifiableList(new ArrayList<>(rows));
    }

    /**
     * Runs {@code base} at each of {@code threadCounts}, in that order, comparing {@code modes}
     * interleaved {@code repeat} times per count ({@link Comparison#run}); {@code progress} sees the
     * completed fraction of the whole table.
     */
    public static Scaling run(
            final WorkloadRunner runner,
            final RunConfig base,
            final List<Integer> threadCounts,
            final List<LockingVariant> modes,
            final int repeat,
            final WorkloadRunner.Progress progress) {
        final List<Comparison> rows = new ArrayList<>();
        final int n = threadCounts.size();
        for (int i = 0; i < n; i++) {
            final int done = i;
            rows.add(Comparison.run(
                    runner,
                    base.withThreads(threadCounts.get(i)),
                    modes,
                    repeat,
                    f -> progress.update((done + f) / n)));
        }
        return new Scaling(base.workload().name(), modes, rows);
    }

    public String workload() {
        return workload;
    }

    /** The columns; the first is the baseline of the deltas. */
    public List<LockingVariant> modes() {
        return modes;
    }

    /** One comparison per thread count, in the order run. */
    public List<Comparison> rows() {
        return rows;
    }

    /** The thread count of a row. */
    public static int threads(final Comparison row) {
        return row.runs().get(0).config().threads();
    }

    /** The row's median faults/s of {@code mode}. */
    public static double faultsPerSec(final Comparison row, final LockingVariant mode) {
        return row.median(mode, RunResult::faultsPerSec);
    }

    /** {@code mode}'s faults/s against the row's first mode, as a fraction (-0.081 for -8.1%); NaN if undefined. */
    public static double delta(final Comparison row, final LockingVariant mode) {
        return row.ratio(mode, RunResult::faultsPerSec) - 1;
    }

    /**
     * {"workload", "modes": [..], "rows": [{"threads", "faultsPerSec": {mode: ..}, "delta": {mode: ..}}],
     * "comparisons": [each row's comparison]}: the deltas as fractions, the first mode's omitted.
     */
    public ObjectNode toJsonNode() {
        final ObjectNode o = Json.object().put("workload", workload);
        final ArrayNode ms = o.putArray("modes");
        modes.forEach(m -> ms.add(m.name()));
        final ArrayNode rs = o.putArray("rows");
        for (final Comparison row : rows) {
            final ObjectNode r = rs.addObject().put("threads", threads(row));
            final ObjectNode fps = r.putObject("faultsPerSec");
            final ObjectNode delta = r.putObject("delta");
            for (final LockingVariant m : modes) {
                Json.putFinite(fps, m.name(), faultsPerSec(row, m));
                if (m != modes.get(0)) {
                    Json.putFinite(delta, m.name(), delta(row, m));
                }
            }
        }
        final ArrayNode cs = o.putArray("comparisons");
        rows.forEach(c -> cs.add(c.toJsonNode()));
        return o;
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }
}
