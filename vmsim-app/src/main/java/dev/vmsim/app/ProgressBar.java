package dev.vmsim.app;

import dev.vmsim.bench.WorkloadRunner;
import java.io.PrintWriter;

/**
 * A progress bar on stderr, drawn in place with carriage returns; only when a console is attached
 * (a pipe or a CI log would get every redraw as a line).
 */
final class ProgressBar implements WorkloadRunner.Progress {
    private static final int WIDTH = 40;

    private final PrintWriter err;
    private final String label;
    private int drawn = -1;

    private ProgressBar(final PrintWriter err, final String label) {
        this.err = err;
        this.label = label;
    }

    /** A bar on {@code err} when System.console() is present, else a progress sink that draws nothing. */
    static WorkloadRunner.Progress forConsole(final PrintWriter err, final String label) {
        return System.console() != null ? new ProgressBar(err, label) : WorkloadRunner.Progress.NONE;
    }

    @Override
    public void update(final double fraction) {
        final int pct = (int) Math.max(0, Math.min(100, Math.round(fraction * 100)));
        if (pct == drawn) {
            return;
        }
        drawn = pct;
        final int fill = pct * WIDTH / 100;
        err.print("\r" + label + " [" + "#".repeat(fill) + " ".repeat(WIDTH - fill) + "] " + pct + "%");
        if (pct == 100) {
            err.print("\r" + " ".repeat(label.length() + WIDTH + 8) + "\r");
        }
        err.flush();
    }
}
