package dev.vmsim.app;

import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.RunConfig;
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
 * `vmsim compare [WORKLOAD]`: the workload in every locking mode (or the columns --modes names),
 * interleaved, K times; one table of medians and ratios to the first column. With no arguments:
 * fault-vs-munmap, 3 threads, every mode, about 15 s.
 */
@Command(
        mixinStandardHelpOptions = true,
        name = "compare",
        description = "Run a workload in every locking mode, interleaved, and compare their medians.")
final class CompareCommand implements Callable<Integer> {
    static final int DEFAULT_THREADS = 3;
    static final Duration DEFAULT_TOTAL = Duration.ofSeconds(15);

    @ParentCommand
    private VmsimMain parent;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            arity = "0..1",
            paramLabel = "WORKLOAD",
            converter = Converters.WorkloadConverter.class,
            description = "The workload (default: fault-vs-munmap).")
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
            description = "The columns, in order; the first is the baseline of the ratios (default: every locking mode,"
                    + " mmap-only first). A mode followed by +upgrade runs with the simulator's mmap_lock upgrade, e.g."
                    + " --modes per-vma,per-vma+upgrade.")
    private List<LockingVariant> modes;

    @Option(names = "--repeat", defaultValue = "3", description = "Runs per mode (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--json", paramLabel = "FILE", description = "Write {\"workload\":..,\"runs\":[..]} to FILE.")
    private Path json;

    @Option(names = "--html", paramLabel = "FILE", description = "Write a self-contained HTML page with charts to FILE.")
    private Path html;

    /** Accepted only to say why it does not apply: compare runs every mode (without it, picocli blamed the value as a workload). */
    @Option(names = "--locking", hidden = true, paramLabel = "MODE")
    private String locking;

    @Override
    public Integer call() throws Exception {
        final CommandLine cl = spec.commandLine();
        if (locking != null) {
            throw new CommandLine.ParameterException(cl,
                    "--locking does not apply to compare: it runs every locking mode (choose the columns with --modes)");
        }
        CommonOptions.checkAtLeastOne(cl, "--repeat", repeat);
        final Workload w = workload != null ? workload : new FaultVsMunmap();
        final List<LockingVariant> columns = columns(cl);
        // The default budget covers the measured runs and the per-column warm-ups (one slot each).
        final Duration each = DEFAULT_TOTAL.dividedBy((long) (repeat + 1) * columns.size());
        final RunConfig base = common.config(cl, w, LockingMode.MMAP_ONLY, DEFAULT_THREADS, each);
        CommonOptions.checkWritable(cl, "--json", json);
        CommonOptions.checkWritable(cl, "--html", html);
        Oversubscription.warn(cl.getErr(), base.threads(), parent.hostCpus());
        final Comparison cmp = Comparison.run(new WorkloadRunner(parent.kernels()), base, columns, repeat,
                ProgressBar.forConsole(cl.getErr(), w.name()));
        cl.getOut().print(TextReport.compare(cmp));
        cl.getOut().flush();
        if (json != null) {
            CommonOptions.write("--json", json, cmp.toJson() + "\n");
        }
        if (html != null) {
            CommonOptions.write("--html", html, HtmlReport.render(cmp));
        }
        return 0;
    }

    /** --modes (default: every mode), each with the upgrade if --mmap-upgrade; a column named twice is a usage error. */
    private List<LockingVariant> columns(final CommandLine cl) {
        final Set<LockingVariant> out = new LinkedHashSet<>();
        for (final LockingVariant v : modes != null ? modes : Comparison.MODES) {
            if (!out.add(v.withMmapUpgrade(mmapUpgrade.on))) {
                throw new CommandLine.ParameterException(cl, "--modes names " + v.withMmapUpgrade(mmapUpgrade.on).name()
                        + " twice" + (mmapUpgrade.on ? " (with --mmap-upgrade every column has +upgrade)" : ""));
            }
        }
        return List.copyOf(out);
    }
}
