package dev.vmsim.app.script;

/** Renders two vmscript transcripts side by side for a failure message: first difference marked. */
public final class TranscriptDiff {
    private TranscriptDiff() {}

    /**
     * A line-by-line comparison of {@code expected} and {@code actual}: lines that agree are prefixed
     * with two spaces, differing lines with {@code -} (expected) and {@code +} (actual), like a unified
     * diff without hunks; null when the transcripts are equal.
     */
    public static String describe(final String expected, final String actual) {
        if (expected.equals(actual)) {
            return null;
        }
        final String[] e = expected.split("\n", -1);
        final String[] a = actual.split("\n", -1);
        final StringBuilder sb = new StringBuilder();
        int first = -1;
        for (int i = 0; i < Math.max(e.length, a.length); i++) {
            final String el = i < e.length ? e[i] : null;
            final String al = i < a.length ? a[i] : null;
            if (el != null && el.equals(al)) {
                sb.append("  ").append(el).append('\n');
                continue;
            }
            if (first < 0) {
                first = i + 1;
            }
            if (el != null) {
                sb.append("- ").append(el).append('\n');
            }
            if (al != null) {
                sb.append("+ ").append(al).append('\n');
            }
        }
        return "first difference at transcript line " + first + " (- kernel, + simulator):\n" + sb;
    }
}
