package dev.vmsim.app.serve;

import dev.vmsim.bench.WorkloadRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * One run or compare job: its state, progress and result, and the stream of its progress events.
 *
 * <p>State is written by the job's thread and read by request threads: {@code state}, {@code
 * progress}, {@code report} and {@code error} are volatile, and {@code report}/{@code error} are
 * written before {@code state} becomes done/failed (release), so a reader that sees the final state
 * sees them. Events are emitted by the job's thread only (the runner calls {@link #progress} from the
 * thread that runs it), so the sink's emissions are serialised.
 */
final class RunJob implements WorkloadRunner.Progress {
    static final String QUEUED = "queued";
    static final String RUNNING = "running";
    static final String DONE = "done";
    static final String FAILED = "failed";

    private final String id;
    private final String command;
    private final Path json;
    private final Path trace;
    /** The latest event is replayed to a late subscriber, and completion too. */
    private final Sinks.Many<RunsApi.Progress> events = Sinks.many().replay().latest();

    private volatile String state = QUEUED;
    private volatile double progress;
    private volatile String report;
    private volatile String error;
    /** The last whole percent sent as an event; job thread only. */
    private int sentPct = -1;

    RunJob(final String id, final String command, final Path json, final Path trace) {
        this.id = id;
        this.command = command;
        this.json = json;
        this.trace = trace;
        emit();
    }

    String id() {
        return id;
    }

    String command() {
        return command;
    }

    Path tracePath() {
        return trace;
    }

    boolean isDone() {
        final String s = state;
        return s.equals(DONE) || s.equals(FAILED);
    }

    void started() {
        state = RUNNING;
        emit();
    }

    /** From the runner: the completed fraction. One event per whole percent. */
    @Override
    public void update(final double fraction) {
        progress = Math.max(0, Math.min(1, fraction));
        final int pct = (int) Math.floor(progress * 100);
        if (pct != sentPct) {
            sentPct = pct;
            emit();
        }
    }

    void finished(final String text) {
        report = text;
        progress = 1;
        state = DONE;
        emit();
        events.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    void failed(final String why) {
        error = why;
        state = FAILED;
        emit();
        events.emitComplete(Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    private void emit() {
        events.emitNext(
                new RunsApi.Progress(id, state, progress), Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(1)));
    }

    /** The job's events from now on (the latest one first), completing when the job ends. */
    Flux<RunsApi.Progress> events() {
        return events.asFlux();
    }

    RunsApi.Status status() {
        final String s = state; // acquire: report and error were written before the final state
        return new RunsApi.Status(id, s, progress, command, report, trace != null && s.equals(DONE), error);
    }

    /** The JSON {@code --json} wrote, or null until the job is done. */
    String resultJson() throws IOException {
        return state.equals(DONE) && Files.exists(json) ? Files.readString(json) : null;
    }

    /** The Chrome/Perfetto trace, or null. */
    Path traceFile() {
        return trace != null && state.equals(DONE) && Files.exists(trace) ? trace : null;
    }

    void delete() {
        try {
            Files.deleteIfExists(json);
            if (trace != null) {
                Files.deleteIfExists(trace);
            }
        } catch (IOException e) {
            // a temp file left behind is harmless; the directory is the OS's to clean
        }
    }
}
