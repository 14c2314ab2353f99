package dev.vmsim.app;

import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.report.TextReport;
import dev.vmsim.core.trace.ChromeTraceJson;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.TraceRecorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** `vmsim run WORKLOAD`: one workload in one locking mode, and its report. */
@Command(
        mixinStandardHelpOptions = true,
        name = "run",
        description = "Run one workload and print faults/s, syscalls/s, latency percentiles and kernel counters.")
final class RunCommand implements Callable<Integer> {
    static final Duration DEFAULT_DURATION = Duration.ofSeconds(5);
    static final int DEFAULT_THREADS = 2;

    @ParentCommand
    private VmsimMain parent;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0",
            paramLabel = "WORKLOAD",
            converter = Converters.WorkloadConverter.class,
            description = "page-fault1, mmap1, spf, fault-vs-munmap, shared-vma or stack-growth.")
    private Workload workload;

    @Mixin
    private LockingOption locking;

    @Mixin
    private CommonOptions common;

    @Mixin
    private MmapUpgradeOption mmapUpgrade;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to FILE.")
    private Path json;

    @Option(names = "--trace", paramLabel = "FILE.json",
            description = "Also record the fault path (page faults, mmap_lock waits, lock_vma_under_rcu, handle_mm_fault)"
                    + " as Chrome/Perfetto trace-event JSON in FILE (the first " + TRACE_CAPACITY + " events).")
    private Path trace;

    /** Events a --trace run keeps: about 20 per fault, so the first ~10,000 faults (tens of MB of JSON). */
    static final int TRACE_CAPACITY = 200_000;

    @Override
    public Integer call() throws Exception {
        final CommandLine cl = spec.commandLine();
        final RunConfig base = common.config(cl, workload, locking.locking, DEFAULT_THREADS, DEFAULT_DURATION);
        final RunConfig cfg = base.withVariant(base.variant().withMmapUpgrade(mmapUpgrade.on));
        CommonOptions.checkWritable(cl, "--json", json);
        CommonOptions.checkWritable(cl, "--trace", trace);
        Oversubscription.warn(cl.getErr(), cfg.threads(), parent.hostCpus());
        final TraceRecorder recorder = trace == null ? null : new TraceRecorder(TRACE_CAPACITY);
        final RunResult r;
        FaultTrace.install(recorder);
        try {
            r = new WorkloadRunner(parent.kernels()).run(cfg, ProgressBar.forConsole(cl.getErr(), workload.name()));
        } finally {
            FaultTrace.install(null);
        }
        cl.getOut().print(TextReport.run(r));
        cl.getOut().flush();
        if (json != null) {
            CommonOptions.write("--json", json, r.toJson() + "\n");
        }
        if (recorder != null) {
            CommonOptions.write("--trace", trace,
                    ChromeTraceJson.write(recorder.events(), recorder.dropped(), recorder.capacity()));
        }
        return 0;
    }
}
