package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.client.HttpClient;
import io.micronaut.http.client.annotation.Client;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code /api/interleavings}: a two-CPU scenario stepped under the virtual clock. */
@MicronautTest
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InterleavingsApiTest {
    @Inject
    @Client("/")
    HttpClient http;

    private String postJson(final InterleavingApi.Request req) {
        return http.toBlocking().retrieve(HttpRequest.POST("/api/interleavings", req), String.class);
    }

    private InterleavingApi.Response post(final InterleavingApi.Request req) {
        return http.toBlocking().retrieve(HttpRequest.POST("/api/interleavings", req), InterleavingApi.Response.class);
    }

    @Test
    void theCatalogueListsBothScenarios() {
        final InterleavingApi.Catalogue c =
                http.toBlocking().retrieve(HttpRequest.GET("/api/interleavings"), InterleavingApi.Catalogue.class);
        assertEquals(
                List.of("fault-vs-munmap", "stack-expansion-vs-fault"),
                c.scenarios().stream().map(InterleavingApi.Scenario::name).toList());
        assertEquals(Interleavings.MAX_STEPS, c.maxSteps());
    }

    @Test
    void theStepsForASeedAreTheSameTwice() {
        for (final String sc : List.of("fault-vs-munmap", "stack-expansion-vs-fault")) {
            final InterleavingApi.Request req = new InterleavingApi.Request(sc, "x86_64", "per-vma", 7L);
            final String a = postJson(req);
            assertEquals(a, postJson(req), sc + ": the same JSON for the same seed");
            final InterleavingApi.Response r = post(req);
            assertFalse(r.truncated(), sc);
            assertEquals("done", r.outcome(), sc);
            assertTrue(r.steps().size() > 10, sc + ": " + r.steps().size() + " steps");
            assertTrue(r.schedule().startsWith("random-delays(seed=7,"), r.schedule());
        }
        final String other = postJson(new InterleavingApi.Request("fault-vs-munmap", "x86_64", "per-vma", 8L));
        assertNotEquals(
                postJson(new InterleavingApi.Request("fault-vs-munmap", "x86_64", "per-vma", 7L)),
                other,
                "another seed, another schedule");
    }

    /** Some stop shows one CPU waiting on a lock the other CPU holds, named as both a waiter and a holder. */
    private static boolean aCpuWaitsOnTheOther(final InterleavingApi.Response r) {
        for (final InterleavingApi.Step s : r.steps()) {
            for (final InterleavingApi.Lock l : s.locks()) {
                for (final String w : l.waiters()) {
                    if (!l.holders().isEmpty() && !l.holders().contains(w)) { // a holder, and not the waiter
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void faultVsMunmapShowsACpuWaitingOnALockTheOtherHolds() {
        for (final String mode : List.of("mmap-only", "per-vma")) {
            boolean seen = false;
            for (long seed = 0; seed < 20; seed++) {
                final InterleavingApi.Response r =
                        post(new InterleavingApi.Request("fault-vs-munmap", null, mode, seed));
                assertEquals("done", r.outcome());
                for (final InterleavingApi.Step s : r.steps()) {
                    for (final InterleavingApi.Lock l : s.locks()) {
                        assertTrue(
                                l.waiters().stream().noneMatch(l.holders()::contains),
                                mode + " seed " + seed + " step " + s.index() + ": a holder is not its own waiter: "
                                        + l);
                    }
                }
                seen = seen || aCpuWaitsOnTheOther(r);
            }
            assertTrue(seen, mode + ": within 20 seeds some step shows a CPU waiting on the other's lock");
        }
    }

    @Test
    void theStepsShowTheMappingGoAwayAndTheLanes() {
        final InterleavingApi.Response r = post(new InterleavingApi.Request("fault-vs-munmap", "arm64", null, 3L));
        final InterleavingApi.Step first = r.steps().get(0);
        assertEquals(
                List.of("cpu0", "cpu1"),
                first.lanes().stream().map(InterleavingApi.Lane::cpu).toList());
        final String mapping = "0x7f0000000000-0x7f0000004000 rw-p";
        assertTrue(first.maps().contains(mapping), first.maps().toString());
        assertFalse(r.steps().get(r.steps().size() - 1).maps().contains(mapping), "munmap has removed it by the end");
        assertTrue(r.results().get(1).contains("munmap ok"), r.results().toString());
    }

    @Test
    void badInputIs400NamingTheField() {
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "scenario",
                "unknown scenario 'nope'",
                HttpRequest.POST("/api/interleavings", new InterleavingApi.Request("nope", null, null, null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "scenario",
                "missing",
                HttpRequest.POST("/api/interleavings", new InterleavingApi.Request(null, null, null, null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "arch",
                "unknown arch 'vax'",
                HttpRequest.POST(
                        "/api/interleavings", new InterleavingApi.Request("fault-vs-munmap", "vax", null, null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "locking",
                "unknown locking mode",
                HttpRequest.POST(
                        "/api/interleavings", new InterleavingApi.Request("fault-vs-munmap", null, "rcu", null)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "seed",
                "out of range",
                HttpRequest.POST(
                        "/api/interleavings", new InterleavingApi.Request("fault-vs-munmap", null, null, -1L)));
        ApiErrors.assertError(
                http,
                HttpStatus.BAD_REQUEST,
                "seed",
                "out of range",
                HttpRequest.POST(
                        "/api/interleavings",
                        new InterleavingApi.Request("fault-vs-munmap", null, null, Interleavings.MAX_SEED + 1)));
    }
}
