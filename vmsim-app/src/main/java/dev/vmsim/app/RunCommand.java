package dev.vmsim.app;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.RunResult;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.WorkloadRunner;
import dev.vmsim.bench.report.TextReport;
import dev.vmsim.core.trace.ChromeTraceJson;
import dev.vmsim.core.trace.FaultTrace;
import dev.vmsim.core.trace.TraceRecorder;
import dev.vmsim.core.trace.jfr.VmsimRecording;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import jdk.jfr.Recording;
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
            completionCandidates = Converters.WorkloadNames.class,
            description = "One of: ${COMPLETION-CANDIDATES}.")
    private Workload workload;

    @Mixin
    private LockingOption locking;

    @Mixin
    private CommonOptions common;

    @Mixin
    private MmapUpgradeOption mmapUpgrade;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the result as JSON to FILE.")
    private Path json;

    @Option(
            names = "--trace",
            paramLabel = "FILE.json",
            description =
                    "Also record the fault path (page faults, mmap_lock waits, lock_vma_under_rcu, handle_mm_fault)"
                            + " as Chrome/Perfetto trace-event JSON in FILE: one track per CPU, flows from a wait to the release"
                            + " that ended it, counters; per-CPU ring buffers, the first " + TRACE_CAPACITY
                            + " events. Under"
                            + " --clock virtual the timestamps are virtual time.")
    private Path trace;

    @Option(
            names = "--jfr",
            paramLabel = "FILE.jfr",
            description = "Also record the simulator's JDK Flight Recorder events (vmsim.mm.PageFault, MmapLockAcquire,"
                    + " MmapLockRelease, VmaLockAbort, vmsim.tlb.Shootdown) to FILE, for `jfr print` and Mission Control."
                    + " Under --clock virtual each event also carries virtualTime (and virtualDuration) in virtual ns.")
    private Path jfr;

    /** Events a --trace run keeps: about 20 per fault, so the first ~10,000 faults (tens of MB of JSON). */
    static final int TRACE_CAPACITY = 200_000;

    @Override
    public Integer call() throws Exception {
        final CommandLine cl = spec.commandLine();
        common.checkOneThreadCount(cl);
        final RunConfig base = common.config(cl, workload, locking.locking, DEFAULT_THREADS, DEFAULT_DURATION);
        final RunConfig cfg = base.withVariant(base.variant().withMmapUpgrade(mmapUpgrade.on));
        CommonOptions.checkWritable(cl, "--json", json);
        CommonOptions.checkWritable(cl, "--trace", trace);
        CommonOptions.checkWritable(cl, "--jfr", jfr);
        if (cfg.clock() == ClockKind.HOST) {
            Oversubscription.warn(cl.getErr(), cfg.threads(), parent.hostCpus());
        }
        final TraceRecorder recorder = trace == null
                ? null
                : cfg.clock() == ClockKind.VIRTUAL
                        ? TraceRecorder.virtual(TRACE_CAPACITY)
                        : new TraceRecorder(TRACE_CAPACITY);
        final RunResult r;
        final Recording recording = jfr == null ? null : VmsimRecording.create();
        if (recorder != null) {
            recorder.start();
        }
        if (recording != null) {
            recording.start();
        }
        FaultTrace.install(recorder);
        try {
            r = new WorkloadRunner(parent.kernels()).run(cfg, parent.progress(cl.getErr(), workload.name()));
        } finally {
            FaultTrace.install(null);
            if (recorder != null) {
                recorder.close();
            }
            if (recording != null) {
                recording.stop();
            }
        }
        cl.getOut().print(TextReport.run(r));
        if (recorder != null) {
            cl.getOut().print(traceSummary(recorder));
        }
        cl.getOut().flush();
        if (json != null) {
            CommonOptions.write("--json", json, r.toJson() + "\n");
        }
        if (recording != null) {
            dump(recording, jfr);
        }
        if (recorder != null) {
            CommonOptions.write(
                    "--trace", trace, ChromeTraceJson.write(recorder.events(), recorder.stats(), recorder.capacity()));
        }
        return 0;
    }

    private static void dump(final Recording recording, final Path file) {
        try (recording) {
            recording.dump(file);
        } catch (final IOException e) {
            throw new IllegalStateException("cannot write --jfr " + file + ": " + IoErrors.reason(e), e);
        }
    }

    /**
     * What the trace kept and lost, as ftrace prints it: the trace file's header line
     * ({@code entries-in-buffer/entries-written}, {@code #P}) and each CPU's per_cpu/cpuN/stats
     * figures that matter here.
     */
    static String traceSummary(final TraceRecorder recorder) {
        final List<TraceRecorder.CpuStats> stats = recorder.stats();
        final StringBuilder sb = new StringBuilder();
        long entries = 0;
        long written = 0;
        int cpus = 0;
        for (final TraceRecorder.CpuStats s : stats) {
            entries += s.entries();
            written += s.entries() + s.lost();
            cpus += s.cpu() >= 0 ? 1 : 0;
        }
        sb.append(String.format("%ntrace: entries-in-buffer/entries-written: %d/%d   #P:%d%n", entries, written, cpus));
        for (final TraceRecorder.CpuStats s : stats) {
            sb.append(String.format(
                    "  %-7s entries: %d  dropped events: %d  unread: %d%n",
                    s.cpu() >= 0 ? "cpu" + s.cpu() : "no-cpu", s.entries(), s.droppedEvents(), s.unread()));
        }
        return sb.toString();
    }
}
