package dev.vmsim.bench.profile;

import java.util.Arrays;
import java.util.Locale;

/**
 * The spread of repeated measurements of one figure: min, median and max over {@code n} runs. A
 * fit reports it instead of one run because a VM's page-fault cost moves (1.3 to 13 us within an
 * hour on this project's machines).
 */
public record Spread(double min, double median, double max, int n) {
    public Spread {
        if (n < 1 || !(min <= median && median <= max)) {
            throw new IllegalArgumentException("not a spread: " + min + " / " + median + " / " + max + " over " + n);
        }
    }

    /** The spread of {@code values} (at least one). */
    public static Spread of(final double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no measurements");
        }
        final double[] s = values.clone();
        Arrays.sort(s);
        final int k = s.length;
        final double median = k % 2 == 1 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
        return new Spread(s[0], median, s[k - 1], k);
    }

    /** One value, as a published figure is: min = median = max, n = 1. */
    public static Spread single(final double value) {
        return new Spread(value, value, value, 1);
    }

    /** "1234.5 ns (median of 5 runs; min 1200.0, max 1500.0)", or "1234.5 ns" for a single figure. */
    public String describe() {
        if (n == 1) {
            return String.format(Locale.ROOT, "%.1f ns", median);
        }
        return String.format(Locale.ROOT, "%.1f ns (median of %d runs; min %.1f, max %.1f)", median, n, min, max);
    }

    /** max / min: how far the runs moved. */
    public double ratio() {
        return min > 0 ? max / min : Double.NaN;
    }
}
