package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.context.annotation.Property;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.http.client.exceptions.HttpClientResponseException;
import io.micronaut.http.client.sse.SseClient;
import io.micronaut.http.sse.Event;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;

/**
 * {@code /api/runs}: jobs that run the CLI's run and compare, their Server-Sent Events, results and
 * traces; the 400s; and the job limit (one here), over which a burst gets 429s.
 */
@MicronautTest
@Property(name = "vmsim.limits.jobs", value = "1")
@Property(name = "vmsim.limits.run-duration", value = "5s")
@Property(name = "micronaut.http.client.max-content-length", value = "67108864")
@Timeout(120)
class RunsApiTest {
    @Inject
    @Client("/")
    HttpClient http;

    @Inject
    @Client("/")
    SseClient sse;

    private RunsApi.Accepted start(final RunsApi.Request r) {
        final HttpResponse<RunsApi.Accepted> res =
                http.toBlocking().exchange(HttpRequest.POST("/api/runs", r), RunsApi.Accepted.class);
        assertEquals(HttpStatus.ACCEPTED, res.getStatus());
        return res.body();
    }

    private static RunsApi.Request compare(final String duration, final List<String> modes) {
        return new RunsApi.Request(
                "compare",
                "page-fault1",
                null,
                null,
                modes,
                List.of(2),
                duration,
                null,
                1,
                null,
                null,
                null,
                null,
                null);
    }

    private static RunsApi.Request run(final String duration, final boolean trace) {
        return new RunsApi.Request(
                "run",
                "page-fault1",
                "arm64",
                "per-vma",
                null,
                List.of(2),
                duration,
                null,
                null,
                7L,
                null,
                null,
                trace,
                null);
    }

    /** A run of a few rounds of mmap1 (a traced run writes ~20 events a fault: keep it small). */
    private static RunsApi.Request rounds(final long iterations, final boolean trace) {
        return new RunsApi.Request(
                "run",
                "mmap1",
                "arm64",
                "per-vma",
                null,
                List.of(2),
                null,
                iterations,
                null,
                7L,
                null,
                null,
                trace,
                null);
    }

    /** A compare of mmap1 in two modes for 10 ms of virtual time each, costs from a shipped profile. */
    private static RunsApi.Request virtualCompare() {
        return new RunsApi.Request(
                "compare",
                "mmap1",
                null,
                null,
                List.of("mmap-only", "per-vma"),
                List.of(2),
                "10ms",
                null,
                1,
                7L,
                "icelake-2s-64c",
                null,
                null,
                "virtual");
    }

    /** The runs of a compare's JSON less their host seconds (the one figure of a virtual-clock run that is the host's). */
    private List<?> runsLessHostTime(final RunsApi.Accepted job) {
        final List<?> runs = (List<?>) http.toBlocking()
                .retrieve(HttpRequest.GET(job.result()), Map.class)
                .get("runs");
        runs.forEach(r -> assertNotNull(((Map<?, ?>) r).remove("hostSeconds"), "a run's host seconds"));
        return runs;
    }

    /** The job's events until it ends; the last is done or failed. */
    private List<RunsApi.Progress> follow(final RunsApi.Accepted job) {
        return Flux.from(sse.eventStream(job.events(), RunsApi.Progress.class))
                .map(Event::getData)
                .collectList()
                .block(Duration.ofSeconds(60));
    }

    @Test
    void aCompareJobStreamsItsProgressAndReturnsTheJsonOfDashDashJson() {
        final RunsApi.Accepted job = start(compare("100ms", List.of("mmap-only", "per-vma")));
        assertEquals(
                "./vmsim compare page-fault1 --modes mmap-only,per-vma --threads 2 --repeat 1 --duration 100ms"
                        + " --json RESULT.json",
                job.command());
        final List<RunsApi.Progress> events = follow(job);
        assertEquals("done", events.get(events.size() - 1).state(), events::toString);
        assertEquals(1.0, events.get(events.size() - 1).progress());
        // Progress never goes back.
        for (int i = 1; i < events.size(); i++) {
            assertTrue(events.get(i).progress() >= events.get(i - 1).progress(), events::toString);
        }
        final Map<?, ?> json = http.toBlocking().retrieve(HttpRequest.GET(job.result()), Map.class);
        assertEquals("page-fault1", json.get("workload"));
        final List<?> runs = (List<?>) json.get("runs");
        assertEquals(2, runs.size(), "1 repeat x 2 modes");
        final RunsApi.Status st =
                http.toBlocking().retrieve(HttpRequest.GET("/api/runs/" + job.id() + "/status"), RunsApi.Status.class);
        assertTrue(st.report().contains("faults/s"), st.report());
        assertFalse(st.trace());
    }

    @Test
    void aVirtualClockCompareRunsTheCliWithItsClockAndRepeatsItself() {
        final RunsApi.Accepted first = start(virtualCompare());
        assertEquals(
                "./vmsim compare mmap1 --modes mmap-only,per-vma --threads 2 --repeat 1 --duration 10ms --seed 7"
                        + " --machine icelake-2s-64c --clock virtual --json RESULT.json",
                first.command());
        final List<RunsApi.Progress> events = follow(first);
        assertEquals("done", events.get(events.size() - 1).state(), events::toString);
        final List<?> a = runsLessHostTime(first);
        assertEquals("virtual", ((Map<?, ?>) a.get(0)).get("clock"));
        final RunsApi.Accepted second = start(virtualCompare());
        follow(second);
        // Virtual time charged from the profile: the same request gives the same figures, on any host.
        assertEquals(a, runsLessHostTime(second));
    }

    @Test
    void aTracedRunGivesAPerfettoTrace() {
        final RunsApi.Accepted job = start(rounds(20, true));
        follow(job);
        final Map<?, ?> trace =
                http.toBlocking().retrieve(HttpRequest.GET("/api/runs/" + job.id() + "/trace"), Map.class);
        assertFalse(((List<?>) trace.get("traceEvents")).isEmpty());
        final Map<?, ?> json = http.toBlocking().retrieve(HttpRequest.GET(job.result()), Map.class);
        assertEquals("arm64", json.get("arch"));
        assertEquals(7, ((Number) json.get("seed")).intValue());
    }

    @Test
    void aBurstOverTheJobLimitGets429sNotFailures() {
        final RunsApi.Accepted busy = start(run("1500ms", false));
        int refused = 0;
        for (int i = 0; i < 5; i++) {
            try {
                http.toBlocking().exchange(HttpRequest.POST("/api/runs", run("100ms", false)), RunsApi.Accepted.class);
            } catch (HttpClientResponseException e) {
                assertEquals(HttpStatus.TOO_MANY_REQUESTS, e.getStatus());
                assertTrue(e.getResponse()
                        .getBody(ApiError.class)
                        .orElseThrow()
                        .error()
                        .contains("limit"));
                refused++;
            }
        }
        assertEquals(5, refused, "the one slot is busy");
        // Until it is done, its result is 409 with its state.
        ApiErrors.assertError(http, HttpStatus.CONFLICT, null, "is running", HttpRequest.GET(busy.result()));
        final List<RunsApi.Progress> events = follow(busy);
        assertEquals("done", events.get(events.size() - 1).state());
        // The slot is free again.
        follow(start(run("100ms", false)));
    }

    @Test
    void badRunsAre400NamingTheField() {
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "duration",
                "over this server's cap",
                HttpRequest.POST("/api/runs", run("10s", false)));
        ApiErrors.assertError(
                http, HttpStatus.BAD_REQUEST, "duration", "in all", HttpRequest.POST("/api/runs", compare("1s", null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "duration",
                "invalid duration",
                HttpRequest.POST("/api/runs", run("soon", false)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "workload",
                "unknown workload",
                HttpRequest.POST("/api/runs", Map.of("command", "run", "workload", "nope")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "arch",
                "unknown arch",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "arch", "mips")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "threads",
                "must be 1 to 16",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "threads", List.of(4, 64))));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "modes",
                "unknown",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "modes", List.of("fastest"))));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "machine",
                "unknown profile",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "machine", "/etc/passwd")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "clock",
                "unknown clock 'sundial' (known: host, virtual)",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "clock", "sundial")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "command",
                "not run or compare",
                HttpRequest.POST("/api/runs", Map.of("command", "calibrate")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "trace",
                "only run",
                HttpRequest.POST("/api/runs", Map.of("command", "compare", "trace", true, "duration", "10ms")));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                null,
                "malformed JSON",
                HttpRequest.POST("/api/runs", "{\"command\": run}"));
        ApiErrors.assertError(http, HttpStatus.NOT_FOUND, "id", "no run 999", HttpRequest.GET("/api/runs/999/status"));
    }

    @Test
    void metaListsTheChoicesAndLimits() {
        final Map<?, ?> meta = http.toBlocking().retrieve(HttpRequest.GET("/api/meta"), Argument.of(Map.class));
        assertTrue(((List<?>) meta.get("workloads")).contains("fault-vs-munmap"));
        assertEquals(1, ((Number) meta.get("jobs")).intValue());
        assertEquals(5000, ((Number) meta.get("runDurationMs")).intValue());
    }
}
