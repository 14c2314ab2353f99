package dev.vmsim.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Histogram;

/** The percentiles a report shows of one latency histogram, in ns. */
public final class Latency {
    private final long count;
    private final long p50;
    private final long p90;
    private final long p99;
    private final long p999;
    private final long max;
    private final double mean;

    public Latency(
            final long count,
            final double mean,
            final long p50,
            final long p90,
            final long p99,
            final long p999,
            final long max) {
        this.count = count;
        this.mean = mean;
        this.p50 = p50;
        this.p90 = p90;
        this.p99 = p99;
        this.p999 = p999;
        this.max = max;
    }

    /** The percentiles of {@code h}; all zero when it is empty. */
    public static Latency of(final Histogram h) {
        if (h.getTotalCount() == 0) {
            return new Latency(0, 0, 0, 0, 0, 0, 0);
        }
        return new Latency(
                h.getTotalCount(),
                h.getMean(),
                h.getValueAtPercentile(50),
                h.getValueAtPercentile(90),
                h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9),
                h.getMaxValue());
    }

    public long count() {
        return count;
    }

    /** The mean in ns (of the histogram's bucketed values). */
    public double mean() {
        return mean;
    }

    public long p50() {
        return p50;
    }

    public long p90() {
        return p90;
    }

    public long p99() {
        return p99;
    }

    public long p999() {
        return p999;
    }

    public long max() {
        return max;
    }

    /** The values in report order: p50, p90, p99, p99.9, max. */
    public long[] values() {
        return new long[] {p50, p90, p99, p999, max};
    }

    /** Labels for {@link #values()}. */
    public static String[] labels() {
        return new String[] {"p50", "p90", "p99", "p99.9", "max"};
    }

    /** {"p50":..,"p90":..,"p99":..,"p999":..,"max":..} */
    public ObjectNode toJsonNode() {
        return Json.object()
                .put("p50", p50)
                .put("p90", p90)
                .put("p99", p99)
                .put("p999", p999)
                .put("max", max);
    }
}
