package dev.vmsim.app.serve;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/** The JSON of {@code /api/runs}: the options of {@code vmsim run} and {@code vmsim compare}, and a job's state. */
public final class RunsApi {
    private RunsApi() {}

    /**
     * A run or a compare, with the options of the command of that name (null: the command's default).
     *
     * @param command     "run" or "compare"
     * @param workload    the workload (compare's default: fault-vs-munmap; run needs one)
     * @param arch        x86_64 or arm64
     * @param locking     run only: the locking mode
     * @param modes       compare only: the columns, e.g. ["mmap-only", "per-vma+upgrade"]
     * @param threads     simulated threads; compare takes several (one row per count)
     * @param duration    each run's duration, as the CLI takes it: 500ms, 2s
     * @param iterations  rounds per thread instead of a duration
     * @param repeat      compare only: runs per mode
     * @param seed        the workloads' seed
     * @param machine     the machine profile (host, icelake-2s-64c, zen5-2s-128c)
     * @param mmapUpgrade the simulator's atomic mmap_lock upgrade
     * @param trace       run only: also record a Chrome/Perfetto trace (GET /api/runs/{id}/trace)
     * @param clock       host or virtual (the virtual clock charges the machine profile's costs)
     */
    @Serdeable
    public record Request(
            @Nullable String command,
            @Nullable String workload,
            @Nullable String arch,
            @Nullable String locking,
            @Nullable List<String> modes,
            @Nullable List<Integer> threads,
            @Nullable String duration,
            @Nullable Long iterations,
            @Nullable Integer repeat,
            @Nullable Long seed,
            @Nullable String machine,
            @Nullable Boolean mmapUpgrade,
            @Nullable Boolean trace,
            @Nullable String clock) {}

    /** A job accepted: its id, where to follow it, and the CLI command it runs. */
    @Serdeable
    public record Accepted(String id, String events, String result, String command) {}

    /**
     * A job's state: queued, running, done or failed; its progress (0 to 1); when done, the text
     * report the CLI prints, and whether a trace is there; when failed, why.
     */
    @Serdeable
    public record Status(
            String id,
            String state,
            double progress,
            String command,
            @Nullable String report,
            boolean trace,
            @Nullable String error) {}

    /** One Server-Sent Event of a job: its state and progress. */
    @Serdeable
    public record Progress(String id, String state, double progress) {}
}
