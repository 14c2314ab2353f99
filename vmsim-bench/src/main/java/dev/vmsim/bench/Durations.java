package dev.vmsim.bench;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses run lengths written as on the command line: "500ms", "5s", "2m", "1.5s". */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)");

    private Durations() {}

    /**
     * The duration {@code text} denotes.
     *
     * @throws IllegalArgumentException if it is not a positive number followed by ms, s or m
     */
    public static Duration parse(final String text) {
        final Matcher m = FORMAT.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "invalid duration '" + text + "' (expected a number and a unit: 500ms, 5s, 2m)");
        }
        final double n = Double.parseDouble(m.group(1));
        final double unitNs;
        switch (m.group(2)) {
            case "ms":
                unitNs = 1e6;
                break;
            case "s":
                unitNs = 1e9;
                break;
            default:
                unitNs = 60e9;
                break;
        }
        final long ns = Math.round(n * unitNs);
        if (ns <= 0) {
            throw new IllegalArgumentException("invalid duration '" + text + "' (must be positive)");
        }
        return Duration.ofNanos(ns);
    }

    /** "5s", "500ms", "2m" style text for reports. */
    public static String format(final Duration d) {
        final long ms = d.toMillis();
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
