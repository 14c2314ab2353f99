package dev.vmsim.app.serve;

import dev.vmsim.app.VmsimMain;
import dev.vmsim.bench.Comparison;
import dev.vmsim.bench.Durations;
import dev.vmsim.bench.KernelFactory;
import io.micronaut.http.HttpStatus;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The run and compare jobs: each is the CLI command of that name ({@link VmsimMain}, the same code
 * as {@code vmsim run ... --json FILE}), run on a pool of {@link ServerLimits#jobs()} threads with its
 * progress sent to the job's events. A job over the limit is refused with 429, not queued, so a
 * class cannot pile up hours of work. The last {@value #KEEP} jobs are kept.
 */
@Singleton
final class RunJobs {
    static final int KEEP = 64;

    private final ServerLimits limits;
    private final TraceLock traceLock;
    private final Semaphore slots;
    private final ExecutorService pool;
    private final AtomicLong ids = new AtomicLong();
    /** Insertion-ordered so the oldest finished job is dropped first; guarded by {@code this}. */
    private final Map<String, RunJob> jobs = new LinkedHashMap<>();

    private final Path dir;

    RunJobs(final ServerLimits limits, final TraceLock traceLock) {
        this.limits = limits;
        this.traceLock = traceLock;
        this.slots = new Semaphore(limits.jobs());
        this.pool = Executors.newFixedThreadPool(limits.jobs(), r -> {
            final Thread t = new Thread(r, "vmsim-job");
            t.setDaemon(true);
            return t;
        });
        try {
            this.dir = Files.createTempDirectory("vmsim-serve-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Checks {@code req}, and starts it or refuses it (429 when every slot is busy). */
    RunsApi.Accepted submit(final RunsApi.Request req) {
        final String id = Long.toString(ids.incrementAndGet());
        final Path json = dir.resolve("run-" + id + ".json");
        final Path trace = Boolean.TRUE.equals(req.trace()) ? dir.resolve("trace-" + id + ".json") : null;
        final List<String> args = RunArgs.of(req, limits, json, trace);
        if (!slots.tryAcquire()) {
            throw new ApiException(
                    HttpStatus.TOO_MANY_REQUESTS,
                    null,
                    limits.jobs() + " runs are running, the server's limit; try again when one is done");
        }
        final RunJob job = new RunJob(id, String.join(" ", RunArgs.display(args)), json, trace);
        synchronized (this) {
            jobs.put(id, job);
            trim();
        }
        try {
            pool.execute(() -> run(job, args));
        } catch (RuntimeException e) {
            slots.release();
            throw e;
        }
        return new RunsApi.Accepted(id, "/api/runs/" + id + "/events", "/api/runs/" + id, job.command());
    }

    /**
     * Runs the job's command. The slot is released before the job says it is done, so a client that
     * starts its next run on the done event finds the slot free.
     */
    private void run(final RunJob job, final List<String> args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        job.started();
        String failure = null;
        try {
            if (job.tracePath() != null) {
                traceLock.lock(limits.requestTimeout());
            }
            try {
                final VmsimMain main = new VmsimMain(KernelFactory.simulator()).withProgress(job);
                final int rc =
                        VmsimMain.run(main, new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
                if (rc != 0) {
                    failure = ErrorHandlers.firstLine(err.toString().replaceFirst("^vmsim: ", ""));
                }
            } finally {
                if (job.tracePath() != null) {
                    traceLock.unlock();
                }
            }
        } catch (ApiException e) {
            failure = e.getMessage();
        } catch (RuntimeException | Error e) {
            // An Error too (a lockdep assertion, OutOfMemoryError): the job must end, not hang in running.
            failure = "internal error: " + e;
        } finally {
            slots.release();
        }
        if (failure == null) {
            job.finished(out.toString());
        } else {
            job.failed(failure);
        }
    }

    /** The job {@code id}, or 404. */
    synchronized RunJob get(final String id) {
        final RunJob j = jobs.get(id);
        if (j == null) {
            throw new ApiException(
                    HttpStatus.NOT_FOUND, "id", "no run " + id + " (the server keeps the last " + KEEP + ")");
        }
        return j;
    }

    private void trim() {
        final Iterator<RunJob> it = jobs.values().iterator();
        while (jobs.size() > KEEP && it.hasNext()) {
            final RunJob j = it.next();
            if (j.isDone()) {
                j.delete();
                it.remove();
            }
        }
    }

    @PreDestroy
    void close() {
        pool.shutdownNow();
    }

    /** The default runs of a compare (every mode), for the duration cap. */
    static int defaultModes() {
        return Comparison.MODES.size();
    }

    /** {@code s} as a duration, or 400 naming {@code field}. */
    static Duration duration(final String field, final String s) {
        try {
            return Durations.parse(s);
        } catch (IllegalArgumentException e) {
            throw ApiException.badField(field, e.getMessage());
        }
    }
}
