package dev.vmsim.app.serve;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.server.types.files.SystemFile;
import io.micronaut.http.sse.Event;
import java.io.IOException;
import java.nio.file.Path;
import org.reactivestreams.Publisher;

/**
 * {@code /api/runs}: start a run or compare ({@code POST}), follow it as Server-Sent Events, and
 * fetch its result (the JSON {@code --json} writes), its status with the CLI's text report, and its
 * Perfetto trace.
 */
@Controller("/api/runs")
final class RunsController {
    private final RunJobs jobs;

    RunsController(final RunJobs jobs) {
        this.jobs = jobs;
    }

    @Post
    HttpResponse<RunsApi.Accepted> start(@Body final RunsApi.Request request) {
        final RunsApi.Accepted a = jobs.submit(request);
        return HttpResponse.accepted().body(a);
    }

    /** The job's progress: an event per percent and one for each change of state; the stream ends with the job. */
    @Get(value = "/{id}/events", produces = MediaType.TEXT_EVENT_STREAM)
    Publisher<Event<RunsApi.Progress>> events(@PathVariable final String id) {
        return jobs.get(id).events().map(p -> Event.of(p).name(p.state()));
    }

    /** The same JSON as {@code --json}; 409 with the job's state until it is done. */
    @Get(value = "/{id}", produces = MediaType.APPLICATION_JSON)
    HttpResponse<String> result(@PathVariable final String id) throws IOException {
        final RunJob job = jobs.get(id);
        final String json = job.resultJson();
        if (json == null) {
            final RunsApi.Status s = job.status();
            throw new ApiException(
                    HttpStatus.CONFLICT,
                    null,
                    "run " + id + " is " + s.state()
                            + (s.error() != null ? ": " + s.error() : String.format(" (%.0f%%)", s.progress() * 100)));
        }
        return HttpResponse.ok(json).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    @Get("/{id}/status")
    RunsApi.Status status(@PathVariable final String id) {
        return jobs.get(id).status();
    }

    /** The Chrome/Perfetto trace-event JSON of a traced run (open it at ui.perfetto.dev). */
    @Get(value = "/{id}/trace", produces = MediaType.APPLICATION_JSON)
    SystemFile trace(@PathVariable final String id) {
        final Path f = jobs.get(id).traceFile();
        if (f == null) {
            throw new ApiException(
                    HttpStatus.NOT_FOUND, "id", "run " + id + " has no trace (ask for one with trace: true)");
        }
        return new SystemFile(f.toFile(), MediaType.APPLICATION_JSON_TYPE).attach("vmsim-trace-" + id + ".json");
    }
}
