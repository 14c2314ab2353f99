package dev.vmsim.app.serve;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.LockingVariant;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.bench.workload.Workloads;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A {@link RunsApi.Request} checked field by field (400 naming the field) and against the
 * {@link ServerLimits}, then written as the command line of {@code vmsim run} or {@code vmsim
 * compare} that the job runs, so the server and the CLI parse options with the same code.
 */
final class RunArgs {
    /** compare's budget when neither --duration nor --iterations is given (CompareCommand.DEFAULT_TOTAL). */
    static final Duration COMPARE_DEFAULT_TOTAL = Duration.ofSeconds(15);
    /** run's default duration (RunCommand.DEFAULT_DURATION). */
    static final Duration RUN_DEFAULT = Duration.ofSeconds(5);

    static final int MAX_REPEAT = 20;

    private RunArgs() {}

    static List<String> of(final RunsApi.Request r, final ServerLimits limits, final Path json, final Path trace) {
        final String cmd = r.command() == null ? "compare" : r.command();
        if (!cmd.equals("run") && !cmd.equals("compare")) {
            throw ApiException.badField("command", "'" + cmd + "' is not run or compare");
        }
        final boolean run = cmd.equals("run");
        final List<String> a = new ArrayList<>(List.of(cmd));
        if (r.workload() != null) {
            if (Workloads.find(r.workload()) == null) {
                throw ApiException.badField(
                        "workload", "unknown workload '" + r.workload() + "' (known: " + Workloads.names() + ")");
            }
            a.add(r.workload());
        } else if (run) {
            throw ApiException.badField("workload", "missing (run needs one: " + Workloads.names() + ")");
        }
        if (r.arch() != null) {
            if (!r.arch().equals("x86_64") && !r.arch().equals("arm64")) {
                throw ApiException.badField("arch", "unknown arch '" + r.arch() + "' (known: x86_64, arm64)");
            }
            a.add("--arch");
            a.add(r.arch());
        }
        if (r.locking() != null) {
            if (!run) {
                throw ApiException.badField("locking", "compare runs every mode; choose its columns with modes");
            }
            a.add("--locking");
            a.add(ScriptService.locking(r.locking()).cliName());
        }
        int columns = run ? 1 : RunJobs.defaultModes();
        if (r.modes() != null) {
            if (run) {
                throw ApiException.badField("modes", "run takes one locking mode: use locking");
            }
            if (r.modes().isEmpty()) {
                throw ApiException.badField("modes", "empty");
            }
            for (final String m : r.modes()) {
                try {
                    LockingVariant.parse(m);
                } catch (IllegalArgumentException e) {
                    throw ApiException.badField("modes", e.getMessage());
                }
            }
            columns = r.modes().size();
            a.add("--modes");
            a.add(String.join(",", r.modes()));
        }
        int rows = 1;
        if (r.threads() != null) {
            if (r.threads().isEmpty() || (run && r.threads().size() != 1)) {
                throw ApiException.badField("threads", run ? "run takes one thread count" : "empty");
            }
            for (final Integer t : r.threads()) {
                if (t == null || t < 1 || t > limits.runThreads()) {
                    throw ApiException.badField("threads", "must be 1 to " + limits.runThreads() + ", got " + t);
                }
            }
            rows = r.threads().size();
            a.add("--threads");
            a.add(r.threads().stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        final int repeat = r.repeat() == null ? 3 : r.repeat();
        if (r.repeat() != null) {
            if (run) {
                throw ApiException.badField("repeat", "run has no repeat");
            }
            if (repeat < 1 || repeat > MAX_REPEAT) {
                throw ApiException.badField("repeat", "must be 1 to " + MAX_REPEAT + ", got " + repeat);
            }
            a.add("--repeat");
            a.add(Integer.toString(repeat));
        }
        if (r.duration() != null && r.iterations() != null) {
            throw ApiException.badField("duration", "give duration or iterations, not both");
        }
        final Duration total;
        if (r.duration() != null) {
            final Duration each = RunJobs.duration("duration", r.duration());
            total = run ? each : each.multipliedBy((long) (repeat + 1) * columns * rows);
            a.add("--duration");
            a.add(r.duration().strip());
        } else {
            total = run ? RUN_DEFAULT : COMPARE_DEFAULT_TOTAL.multipliedBy(rows);
        }
        if (r.iterations() != null) {
            if (r.iterations() < 1 || r.iterations() > limits.runIterations()) {
                throw ApiException.badField(
                        "iterations", "must be 1 to " + limits.runIterations() + ", got " + r.iterations());
            }
            a.add("--iterations");
            a.add(Long.toString(r.iterations()));
        }
        if (r.seed() != null) {
            a.add("--seed");
            a.add(Long.toString(r.seed()));
        }
        if (r.machine() != null) {
            if (!MachineProfiles.SHIPPED.contains(r.machine())) {
                throw ApiException.badField(
                        "machine",
                        "unknown profile '" + r.machine() + "' (known: " + String.join(", ", MachineProfiles.SHIPPED)
                                + "; no files: the server reads none for a request)");
            }
            a.add("--machine");
            a.add(r.machine());
        }
        if (r.clock() != null) {
            if (ClockKind.fromCliName(r.clock()) == null) {
                throw ApiException.badField("clock", "unknown clock '" + r.clock() + "' (known: host, virtual)");
            }
            a.add("--clock");
            a.add(r.clock());
        }
        if (Boolean.TRUE.equals(r.mmapUpgrade())) {
            a.add("--mmap-upgrade");
        }
        if (trace != null) {
            if (!run) {
                throw ApiException.badField("trace", "only run records a trace");
            }
            a.add("--trace");
            a.add(trace.toString());
        }
        if (total.compareTo(limits.runDuration()) > 0) {
            throw ApiException.badField(
                    "duration",
                    (run ? "" : "in all (repeat + 1 warm-up) x modes x thread counts: ") + total.toMillis()
                            + " ms is over this server's cap of "
                            + limits.runDuration().toMillis() + " ms");
        }
        a.add("--json");
        a.add(json.toString());
        return a;
    }

    /** {@code args} as a command a user would type: vmsim first, the server's files as FILE.json. */
    static List<String> display(final List<String> args) {
        final List<String> out = new ArrayList<>(List.of("./vmsim"));
        for (int i = 0; i < args.size(); i++) {
            final String s = args.get(i);
            final boolean file = i > 0
                    && (args.get(i - 1).equals("--json") || args.get(i - 1).equals("--trace"));
            out.add(file ? (args.get(i - 1).equals("--json") ? "RESULT.json" : "TRACE.json") : s);
        }
        return out;
    }
}
