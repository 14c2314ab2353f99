package dev.vmsim.bench.report;

import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.KernelCounters;
import dev.vmsim.bench.Latency;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Scaling;
import dev.vmsim.core.arch.SigInfo;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
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
                kernelNote(r.config())
                        + (r.attribution().isEmpty()
                                ? ""
                                : "  clock=virtual  machine="
                                        + r.config().machine().name())));
        b.append(String.format(
                Locale.ROOT,
                "%.3f s, %d rounds: %d faults (%s/s), %d syscalls (%s/s)%n",
                r.seconds(),
                r.rounds(),
                r.faults(),
                si(r.faultsPerSec()),
                r.syscalls(),
                si(r.syscallsPerSec())));
        if (!r.killedTasks().isEmpty()) {
            b.append(String.format(
                    Locale.ROOT,
                    "OOM: the OOM killer killed the workload's process (oom_kill %d); SIGKILL stopped task%s %s"
                            + " before their rounds were done%n",
                    r.counters().vmstat("oom_kill"),
                    r.killedTasks().size() == 1 ? "" : "s",
                    r.killedTasks().stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))));
        }
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
        b.append(String.format(
                Locale.ROOT, "page-table frames %s, leaked frames %d%n", count(c.pageTableFrames()), r.leakedFrames()));
        if (!r.attribution().isEmpty()) {
            b.append(String.format(
                    Locale.ROOT,
                    "%nvirtual time by mechanism, summed over CPUs (host: %.1f s to simulate)%n",
                    r.hostSeconds()));
            attribution(b, List.of(r.config().variant()), v -> r);
        }
        return b.toString();
    }

    /**
     * Where the virtual time went, one row per mechanism (a cost parameter, a cache line's transfers
     * or waits, a lock's sleep, idle), one column per run: ns per fault, and the share of the run's
     * CPU time.
     */
    static void attribution(
            final StringBuilder b, final List<LockingVariant> modes, final Function<LockingVariant, RunResult> run) {
        final java.util.TreeSet<String> keys = new java.util.TreeSet<>();
        for (final LockingVariant m : modes) {
            keys.addAll(run.apply(m).attribution().keySet());
        }
        b.append(String.format(Locale.ROOT, "  %-34s", "ns per fault (share)"));
        for (final LockingVariant m : modes) {
            b.append(String.format(Locale.ROOT, "%24s", m.name()));
        }
        b.append('\n');
        for (final String k : keys) {
            b.append(String.format(Locale.ROOT, "  %-34s", k));
            for (final LockingVariant m : modes) {
                final RunResult r = run.apply(m);
                final Map<String, Long> a = r.attribution();
                long total = 0;
                for (final long v : a.values()) {
                    total += v;
                }
                final long v = a.getOrDefault(k, 0L);
                final double perFault = r.faults() > 0 ? (double) v / r.faults() : 0;
                b.append(String.format(
                        Locale.ROOT,
                        "%24s",
                        String.format(Locale.ROOT, "%.1f (%4.1f%%)", perFault, total > 0 ? 100.0 * v / total : 0)));
            }
            b.append('\n');
        }
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
        if (!first.attribution().isEmpty()) {
            b.append(String.format(
                    Locale.ROOT,
                    "%nvirtual time (machine %s), summed over CPUs%n",
                    first.config().machine().name()));
            attribution(b, cmp.columns(), m -> cmp.runsOf(m).get(0));
        }
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
                t.workload(),
                cfg.arch(),
                cfg.machine().name(),
                kernelNote(cfg),
                t.rows().get(0).runsOf(baseline).size(),
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
                b.append(String.format(
                        Locale.ROOT,
                        "%24s",
                        m == baseline || Double.isNaN(d)
                                ? fps
                                : fps + String.format(Locale.ROOT, " %+6.1f%%", 100 * d)));
            }
            b.append('\n');
        }
        final Comparison last = t.rows().get(t.rows().size() - 1);
        if (!last.runs().get(0).attribution().isEmpty()) {
            b.append(String.format(
                    Locale.ROOT, "%nvirtual time at %d threads, summed over CPUs%n", Scaling.threads(last)));
            attribution(b, t.modes(), m -> last.runsOf(m).get(0));
        }
        return b.toString();
    }

    private static void row(
            final StringBuilder b, final Comparison cmp, final String label, final ToDoubleFunction<RunResult> metric) {
        b.append(String.format(Locale.ROOT, "%-22s", label));
        for (final LockingVariant m : cmp.columns()) {
            final double v = cmp.median(m, metric);
            final double ratio = cmp.ratio(m, metric);
            final String cell =
                    v < 0 ? "n/a" : si(v) + (Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, " (%.2fx)", ratio));
            b.append(String.format(Locale.ROOT, "%24s", cell));
        }
        b.append('\n');
    }

    private static void latencyRow(final StringBuilder b, final String label, final Latency l) {
        b.append(String.format(
                Locale.ROOT,
                "  %-10s %10d %10d %10d %10d %10d %10d%n",
                label,
                l.p50(),
                l.p90(),
                l.p99(),
                l.p999(),
                l.max(),
                l.count()));
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
