package dev.vmsim.app;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.Scaling;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.report.HtmlReport;
import dev.vmsim.bench.report.TextReport;
import dev.vmsim.bench.workload.FaultVsMunmap;
import dev.vmsim.core.lock.LockingMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * `vmsim compare [WORKLOAD]`: the workload in each locking mode (or the columns --modes names),
 * interleaved, K times; one table of medians and ratios to the first column. With a list of thread
 * counts, one scaling table (a row per count, the published pft tables' form). With no arguments:
 * fault-vs-munmap, 3 threads, mmap-only, per-vma and per-vma-wait, about 15 s.
 */
@Command(
        mixinStandardHelpOptions = true,
        name = "compare",
        description = "Run a workload in every locking mode, interleaved, and compare their medians.")
final class CompareCommand implements Callable<Integer> {
    static final int DEFAULT_THREADS = 3;
    static final Duration DEFAULT_TOTAL = Duration.ofSeconds(15);
    static final int DEFAULT_REPEAT = 3;
    /**
     * A virtual-clock run's default bound: 2 ms of virtual time, a few thousand faults per CPU, about a
     * second of host time per mode at 128 CPUs. (A run always completes whole rounds, so pft's Hmean
     * covers at least one repeat.)
     */
    static final Duration DEFAULT_VIRTUAL_RUN = Duration.ofMillis(2);

    @ParentCommand
    private VmsimMain parent;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "WORKLOAD",
            converter = Converters.WorkloadConverter.class,
            completionCandidates = Converters.WorkloadNames.class,
            description = "The workload (default: fault-vs-munmap), one of: ${COMPLETION-CANDIDATES}.")
    private Workload workload;

    @Mixin
    private CommonOptions common;

    @Mixin
    private MmapUpgradeOption mmapUpgrade;

    @Option(
            names = "--modes",
            split = ",",
            paramLabel = "MODE[+upgrade]",
            converter = Converters.VariantConverter.class,
            description = "The columns, in order; the first is the baseline of the ratios and deltas (default:"
                    + " mmap-only,per-vma,per-vma-wait; also per-vma-rwsem, per-vma-rwsem-embedded). A mode followed by"
                    + " +upgrade runs with the simulator's mmap_lock upgrade, e.g. --modes per-vma,per-vma+upgrade.")
    private List<LockingVariant> modes;

    @Option(
            names = "--repeat",
            description = "Runs per mode (default: 3 on the host clock; 1 on the virtual clock,"
                    + " where a repeat gives the same figures).")
    private Integer repeat;

    @Option(names = "--json", paramLabel = "FILE", description = "Write {\"workload\":..,\"runs\":[..]} to FILE.")
    private Path json;

    @Option(
            names = "--html",
            paramLabel = "FILE",
            description = "Write a self-contained HTML page with charts to FILE.")
    private Path html;

    /** Accepted only to say why it does not apply: compare runs every mode (without it, picocli blamed the value as a workload). */
    @Option(names = "--locking", hidden = true, paramLabel = "MODE")
    private String locking;

    @Override
    public Integer call() throws Exception {
        final CommandLine cl = spec.commandLine();
        if (locking != null) {
            throw new CommandLine.ParameterException(
                    cl,
                    "--locking does not apply to compare: it runs every locking mode (choose the columns with --modes)");
        }
        final boolean virtual = common.clock.kind(cl) == ClockKind.VIRTUAL;
        final int repeat = this.repeat != null ? this.repeat : virtual ? 1 : DEFAULT_REPEAT;
        CommonOptions.checkAtLeastOne(cl, "--repeat", repeat);
        final Workload w = workload != null ? workload : new FaultVsMunmap();
        final List<LockingVariant> columns = columns(cl);
        final List<Integer> counts = common.threadCounts(cl, DEFAULT_THREADS);
        // The default budget covers the measured runs and the per-column warm-ups (one slot each);
        // under the virtual clock a run's default bound is virtual time, and there is no warm-up.
        final Duration each = virtual
                ? DEFAULT_VIRTUAL_RUN
                : DEFAULT_TOTAL.dividedBy((long) (repeat + 1) * columns.size() * counts.size());
        final RunConfig base = common.config(cl, w, LockingMode.MMAP_ONLY, counts.get(0), each);
        CommonOptions.checkWritable(cl, "--json", json);
        CommonOptions.checkWritable(cl, "--html", html);
        if (!virtual) {
            Oversubscription.warn(
                    cl.getErr(),
                    counts.stream().mapToInt(Integer::intValue).max().getAsInt(),
                    parent.hostCpus());
        }
        final WorkloadRunner runner = new WorkloadRunner(parent.kernels());
        final WorkloadRunner.Progress progress = parent.progress(cl.getErr(), w.name());
        if (counts.size() > 1) {
            final Scaling t = Scaling.run(runner, base, counts, columns, repeat, progress);
            cl.getOut().print(TextReport.scaling(t));
            cl.getOut().flush();
            writeReports(t.toJson(), html != null ? HtmlReport.render(t) : null);
            return 0;
        }
        final Comparison cmp = Comparison.run(runner, base, columns, repeat, progress);
        cl.getOut().print(TextReport.compare(cmp));
        cl.getOut().flush();
        writeReports(cmp.toJson(), html != null ? HtmlReport.render(cmp) : null);
        return 0;
    }

    /** --modes (default: {@link Comparison#MODES}), each with the upgrade if --mmap-upgrade; a column named twice is a usage error. */
    private List<LockingVariant> columns(final CommandLine cl) {
        final Set<LockingVariant> out = new LinkedHashSet<>();
        for (final LockingVariant v : modes != null ? modes : Comparison.MODES) {
            if (!out.add(v.withMmapUpgrade(mmapUpgrade.on))) {
                throw new CommandLine.ParameterException(
                        cl,
                        "--modes names " + v.withMmapUpgrade(mmapUpgrade.on).name() + " twice"
                                + (mmapUpgrade.on ? " (with --mmap-upgrade every column has +upgrade)" : ""));
            }
        }
        return List.copyOf(out);
    }

    /** Writes --json and --html where given. */
    private void writeReports(final String jsonText, final String htmlText) {
        if (json != null) {
            CommonOptions.write("--json", json, jsonText + "\n");
        }
        if (html != null) {
            CommonOptions.write("--html", html, htmlText);
        }
    }
}
