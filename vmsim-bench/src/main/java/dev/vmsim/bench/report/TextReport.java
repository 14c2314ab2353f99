package dev.vmsim.bench.report;

import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.KernelCounters;
import dev.vmsim.bench.Latency;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Scaling;
import dev.vmsim.core.arch.SigInfo;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The plain-text reports of `vmsim run` and `vmsim compare`. */
public final class TextReport {
    private TextReport() {}

    /** The architecture as a header names it: "arm64/16K" when the page size is not 4 KiB. */
    static String archName(final RunConfig c) {
        return c.pageSize() == 4096 ? c.arch() : c.arch() + "/" + (c.pageSize() >> 10) + "K";
    }

    /** "  kernel=--no-zero-page" for a run on a kernel variant, "" on the vanilla kernel. */
    static String kernelNote(final RunConfig c) {
        final String v = c.kernel().describe();
        return v.isEmpty() ? "" : "  kernel=" + v;
    }

    /** The report of one run. */
    public static String run(final RunResult r) {
        final StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "%s  arch=%s  locking=%s  threads=%d  seed=%d%s%n",
                r.config().workload().name(),
                archName(r.config()),
                r.config().variant().name(),
                r.config().threads(),
                r.config().seed(),
                kernelNote(r.config())));
        b.append(String.format(
                Locale.ROOT,
                "%.3f s, %d rounds: %d faults (%s/s), %d syscalls (%s/s)%n",
                r.seconds(),
                r.rounds(),
                r.faults(),
                si(r.faultsPerSec()),
                r.syscalls(),
                si(r.syscallsPerSec())));
        if (r.signals() > 0 || r.syscallErrors() > 0) {
            b.append(String.format(
                    Locale.ROOT,
                    "WARNING: %d accesses signalled (first: %s), %d syscalls failed%n",
                    r.signals(),
                    SigInfo.describe(r.firstSignal()),
                    r.syscallErrors()));
        }
        b.append("\nlatency (ns)      p50        p90        p99      p99.9        max      count\n");
        latencyRow(b, "fault", r.faultLatency());
        latencyRow(b, "syscall", r.syscallLatency());
        final KernelCounters c = r.counters();
        b.append("\nvmstat\n");
        for (final Map.Entry<String, Long> e : c.vmstat().entrySet()) {
            b.append(String.format(Locale.ROOT, "  %-30s %14d%n", e.getKey(), e.getValue()));
        }
        b.append("mmap_lock\n");
        b.append(String.format(Locale.ROOT, "  %-30s %14s%n", "acquisitions", count(c.mmapLockAcquisitions())));
        b.append(String.format(Locale.ROOT, "  %-30s %14s%n", "contended", count(c.mmapLockContended())));
        b.append(String.format(Locale.ROOT, "  %-30s %14s%n", "wait (ns)", count(c.mmapLockWaitNs())));
        b.append("tlb\n");
        b.append(String.format(Locale.ROOT, "  %-30s %14d%n", "hits", c.tlbHits()));
        b.append(String.format(Locale.ROOT, "  %-30s %14d%n", "misses", c.tlbMisses()));
        b.append(String.format(Locale.ROOT, "  %-30s %14d%n", "shootdowns", c.tlbShootdowns()));
        b.append(String.format(Locale.ROOT, "page-table frames %s, leaked frames %d%n", count(c.pageTableFrames()), r.leakedFrames()));
        return b.toString();
    }

    /** The one table of `vmsim compare`: each column's medians and its ratio to the first column's. */
    public static String compare(final Comparison cmp) {
        final StringBuilder b = new StringBuilder();
        final RunResult first = cmp.runs().get(0);
        b.append(String.format(
                Locale.ROOT,
                "%s  arch=%s  threads=%d%s  %d runs per mode, interleaved; medians (ratio to %s)%n%n",
                cmp.workload(),
                archName(first.config()),
                first.config().threads(),
                kernelNote(first.config()),
                cmp.runsOf(cmp.columns().get(0)).size(),
                cmp.columns().get(0).name()));
        b.append(String.format(Locale.ROOT, "%-22s", "metric"));
        for (final LockingVariant m : cmp.columns()) {
            b.append(String.format(Locale.ROOT, "%24s", m.name()));
        }
        b.append('\n');
        row(b, cmp, "faults/s", RunResult::faultsPerSec);
        row(b, cmp, "syscalls/s", RunResult::syscallsPerSec);
        row(b, cmp, "fault p50 ns", r -> r.faultLatency().p50());
        row(b, cmp, "fault p99 ns", r -> r.faultLatency().p99());
        row(b, cmp, "fault p99.9 ns", r -> r.faultLatency().p999());
        row(b, cmp, "fault max ns", r -> r.faultLatency().max());
        row(b, cmp, "syscall p50 ns", r -> r.syscallLatency().p50());
        row(b, cmp, "syscall p99 ns", r -> r.syscallLatency().p99());
        row(b, cmp, "vma_lock_success", r -> r.counters().vmstat("vma_lock_success"));
        row(b, cmp, "vma_lock_retry", r -> r.counters().vmstat("vma_lock_retry"));
        row(b, cmp, "vma_lock_abort", r -> r.counters().vmstat("vma_lock_abort"));
        row(b, cmp, "mmap_lock contended", r -> r.counters().mmapLockContended());
        row(b, cmp, "mmap_lock wait ms", r -> r.counters().mmapLockWaitNs() / 1e6);
        return b.toString();
    }

    /**
     * `vmsim compare --threads 1,4,48,128`: one row per thread count, each mode's median faults/s and
     * its delta against the first mode of the row, as the published pft tables show them.
     */
    public static String scaling(final Scaling t) {
        final StringBuilder b = new StringBuilder();
        final RunConfig cfg = t.rows().get(0).runs().get(0).config();
        final LockingVariant baseline = t.modes().get(0);
        b.append(String.format(
                Locale.ROOT,
                "%s  arch=%s  machine=%s%s  %d runs per mode and thread count, interleaved;"
                        + " faults/s medians (delta against %s)%n%n",
                t.workload(), cfg.arch(), cfg.machine().name(), kernelNote(cfg), t.rows().get(0).runsOf(baseline).size(),
                baseline.name()));
        b.append(String.format(Locale.ROOT, "%-8s", "threads"));
        for (final LockingVariant m : t.modes()) {
            b.append(String.format(Locale.ROOT, "%24s", m.name()));
        }
        b.append('\n');
        for (final Comparison row : t.rows()) {
            b.append(String.format(Locale.ROOT, "%7d ", Scaling.threads(row)));
            for (final LockingVariant m : t.modes()) {
                final String fps = si(Scaling.faultsPerSec(row, m));
                final double d = Scaling.delta(row, m);
                b.append(String.format(Locale.ROOT, "%24s", m == baseline || Double.isNaN(d)
                        ? fps
                        : fps + String.format(Locale.ROOT, " %+6.1f%%", 100 * d)));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static void row(
            final StringBuilder b, final Comparison cmp, final String label, final ToDoubleFunction<RunResult> metric) {
        b.append(String.format(Locale.ROOT, "%-22s", label));
        for (final LockingVariant m : cmp.columns()) {
            final double v = cmp.median(m, metric);
            final double ratio = cmp.ratio(m, metric);
            final String cell = v < 0 ? "n/a" : si(v) + (Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, " (%.2fx)", ratio));
            b.append(String.format(Locale.ROOT, "%24s", cell));
        }
        b.append('\n');
    }

    private static void latencyRow(final StringBuilder b, final String label, final Latency l) {
        b.append(String.format(
                Locale.ROOT,
                "  %-10s %10d %10d %10d %10d %10d %10d%n",
                label, l.p50(), l.p90(), l.p99(), l.p999(), l.max(), l.count()));
    }

    private static String count(final long v) {
        return v == KernelCounters.UNAVAILABLE ? "n/a" : Long.toString(v);
    }

    /** 1234567 -> "1.23M": three significant figures with an SI suffix. */
    public static String si(final double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        final double a = Math.abs(v);
        if (a >= 1e9) {
            return String.format(Locale.ROOT, "%.3gG", v / 1e9);
        }
        if (a >= 1e6) {
            return String.format(Locale.ROOT, "%.3gM", v / 1e6);
        }
        if (a >= 1e4) {
            return String.format(Locale.ROOT, "%.3gk", v / 1e3);
        }
        return a >= 100 || a == Math.rint(a)
                ? String.format(Locale.ROOT, "%.0f", v)
                : String.format(Locale.ROOT, "%.3g", v);
    }
}
