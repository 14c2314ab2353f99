package dev.vmsim.bench.report;

import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.Latency;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Scaling;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The self-contained HTML page of `vmsim compare --html`: the comparison table and charts drawn as
 * inline SVG (throughput bars per mode, latency percentile curves). No script and no external URL,
 * so the page opens anywhere, offline included.
 */
public final class HtmlReport {
    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"};
    private static final int W = 560;
    private static final int H = 300;
    private static final int PAD = 60;
    private static final String STYLE = "<style>body{font-family:sans-serif;margin:2em;color:#222}"
            + "pre{background:#f6f6f6;padding:1em;overflow-x:auto}"
            + "svg{background:#fff;border:1px solid #ddd;margin:0 1em 1em 0}"
            + "text{font-size:12px}</style>";

    private HtmlReport() {}

    public static String render(final Comparison cmp) {
        final StringBuilder b = page("vmsim compare: " + cmp.workload(), TextReport.compare(cmp));
        b.append(bars(cmp, "faults/s (median, dots: each run)", RunResult::faultsPerSec));
        b.append(bars(cmp, "syscalls/s (median, dots: each run)", RunResult::syscallsPerSec));
        b.append(curves("fault latency percentiles (ns, log scale, medians)", cmp.medianPercentiles(true)));
        b.append(curves("syscall latency percentiles (ns, log scale, medians)", cmp.medianPercentiles(false)));
        b.append("\n</body></html>\n");
        return b.toString();
    }

    /**
     * The page of `vmsim compare --threads N,N,..`: the scaling table, faults/s against threads (one
     * line per mode, threads on a log scale), and each thread count's own comparison charts.
     */
    public static String render(final Scaling t) {
        final StringBuilder b = page("vmsim compare: " + t.workload() + ", scaling", TextReport.scaling(t));
        b.append(scalingChart(t));
        for (final Comparison row : t.rows()) {
            b.append("<h2>").append(Scaling.threads(row)).append(" threads</h2>\n");
            b.append("<pre>").append(esc(TextReport.compare(row))).append("</pre>\n");
            b.append(bars(row, "faults/s (median, dots: each run)", RunResult::faultsPerSec));
        }
        b.append("\n</body></html>\n");
        return b.toString();
    }

    /** faults/s (median) against threads, one polyline per mode; threads on a log2 axis. */
    static String scalingChart(final Scaling t) {
        double max = 0;
        for (final Comparison row : t.rows()) {
            for (final LockingVariant m : t.modes()) {
                max = Math.max(max, Scaling.faultsPerSec(row, m));
            }
        }
        max = max <= 0 || Double.isNaN(max) ? 1 : max * 1.1;
        final StringBuilder b = svgOpen("faults/s against threads (medians)");
        axisY(b, max, false);
        final int first = Scaling.threads(t.rows().get(0));
        final int last = Scaling.threads(t.rows().get(t.rows().size() - 1));
        final double lo = Math.log(Math.min(first, last));
        final double span = Math.max(1e-9, Math.log(Math.max(first, last)) - lo);
        final java.util.function.IntToDoubleFunction x = n -> PAD + (W - 2.0 * PAD) * (Math.log(n) - lo) / span;
        for (final Comparison row : t.rows()) {
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>",
                    x.applyAsDouble(Scaling.threads(row)),
                    H - PAD + 18,
                    Scaling.threads(row)));
        }
        int c = 0;
        for (final LockingVariant m : t.modes()) {
            final StringBuilder pts = new StringBuilder();
            for (final Comparison row : t.rows()) {
                final double v = Math.max(0, Scaling.faultsPerSec(row, m));
                pts.append(String.format(
                        Locale.ROOT,
                        "%.1f,%.1f ",
                        x.applyAsDouble(Scaling.threads(row)),
                        H - PAD - (H - 2.0 * PAD) * (Double.isNaN(v) ? 0 : v) / max));
            }
            final String color = COLORS[c % COLORS.length];
            b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"")
                    .append(color)
                    .append("\" points=\"")
                    .append(pts.toString().trim())
                    .append("\"/>");
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>",
                    W - PAD - 150,
                    PAD - 10 + 14 * c,
                    color,
                    esc(m.name())));
            c++;
        }
        return b.append("</svg>\n").toString();
    }

    /** The page's head, its title as the heading, and the text report as preformatted text. */
    private static StringBuilder page(final String title, final String table) {
        return new StringBuilder()
                .append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>")
                .append(esc(title))
                .append("</title>")
                .append(STYLE)
                .append("</head><body>\n")
                .append("<h1>")
                .append(esc(title))
                .append("</h1>\n")
                .append("<pre>")
                .append(esc(table))
                .append("</pre>\n");
    }

    /** One bar per mode at its median, with a dot per run. */
    static String bars(final Comparison cmp, final String title, final ToDoubleFunction<RunResult> metric) {
        final List<LockingVariant> modes = cmp.columns();
        double max = 0;
        for (final RunResult r : cmp.runs()) {
            max = Math.max(max, metric.applyAsDouble(r));
        }
        max = max <= 0 ? 1 : max * 1.1;
        final StringBuilder b = svgOpen(title);
        axisY(b, max, false);
        final double slot = (W - 2.0 * PAD) / modes.size();
        for (int i = 0; i < modes.size(); i++) {
            final LockingVariant m = modes.get(i);
            final double med = Math.max(0, cmp.median(m, metric));
            final double x = PAD + i * slot + slot * 0.2;
            final double h = Double.isNaN(med) ? 0 : (H - 2.0 * PAD) * med / max;
            b.append(String.format(
                    Locale.ROOT,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>",
                    x,
                    H - PAD - h,
                    slot * 0.6,
                    h,
                    COLORS[i % COLORS.length],
                    esc(m.name()),
                    TextReport.si(med)));
            for (final RunResult r : cmp.runsOf(m)) {
                final double y = H - PAD - (H - 2.0 * PAD) * Math.max(0, metric.applyAsDouble(r)) / max;
                b.append(String.format(
                        Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#222\"/>", x + slot * 0.3, y));
            }
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    x + slot * 0.3,
                    H - PAD + 18,
                    esc(m.name())));
        }
        return b.append("</svg>\n").toString();
    }

    /** One polyline per mode over p50, p90, p99, p99.9, max on a log scale. */
    static String curves(final String title, final Map<LockingVariant, double[]> percentiles) {
        double max = 1;
        for (final double[] p : percentiles.values()) {
            for (final double v : p) {
                max = Math.max(max, v);
            }
        }
        final double top = Math.log10(max) + 0.1;
        final StringBuilder b = svgOpen(title);
        axisY(b, top, true);
        final String[] labels = Latency.labels();
        final double step = (W - 2.0 * PAD) / (labels.length - 1);
        for (int i = 0; i < labels.length; i++) {
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                    PAD + i * step,
                    H - PAD + 18,
                    labels[i]));
        }
        int c = 0;
        for (final Map.Entry<LockingVariant, double[]> e : percentiles.entrySet()) {
            final StringBuilder pts = new StringBuilder();
            final double[] p = e.getValue();
            for (int i = 0; i < p.length; i++) {
                final double y = H - PAD - (H - 2.0 * PAD) * Math.log10(Math.max(1, p[i])) / top;
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", PAD + i * step, y));
            }
            final String color = COLORS[c % COLORS.length];
            b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"")
                    .append(color)
                    .append("\" points=\"")
                    .append(pts.toString().trim())
                    .append("\"/>");
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>",
                    W - PAD - 90,
                    PAD - 10 + 14 * c,
                    color,
                    esc(e.getKey().name())));
            c++;
        }
        return b.append("</svg>\n").toString();
    }

    private static StringBuilder svgOpen(final String title) {
        final StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">"
                        + "<text x=\"%d\" y=\"20\" font-weight=\"bold\">%s</text>"
                        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
                        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>",
                W,
                H,
                W,
                H,
                PAD,
                esc(title),
                PAD,
                PAD,
                PAD,
                H - PAD,
                PAD,
                H - PAD,
                W - PAD,
                H - PAD));
        return b;
    }

    /** Five gridlines with labels; {@code top} is the axis maximum (a log10 value when {@code log}). */
    private static void axisY(final StringBuilder b, final double top, final boolean log) {
        for (int i = 0; i <= 4; i++) {
            final double f = i / 4.0;
            final double y = H - PAD - (H - 2.0 * PAD) * f;
            final double v = log ? Math.pow(10, top * f) : top * f;
            b.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                    PAD,
                    y,
                    W - PAD,
                    y,
                    PAD - 4,
                    y + 4,
                    TextReport.si(v)));
        }
    }

    private static String esc(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
