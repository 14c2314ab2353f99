package dev.vmsim.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.app.VmsimMain;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.core.arch.ArchRegistry;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.script.VmScript;
import io.micronaut.http.HttpMethod;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.web.router.Router;
import io.micronaut.web.router.UriRouteInfo;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What surrounds the API: the OpenAPI document against the routes, the shipped examples, the serve command. */
@MicronautTest
class ServeSurfaceTest {
    @Inject
    Router router;

    private static String resource(final String path) throws IOException {
        try (InputStream in = ServeSurfaceTest.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("no resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Every /api route is in openapi.yml under its path and method, and the document has no route that is not. */
    @Test
    void theOpenApiDocumentListsEveryRoute() throws IOException {
        final Set<String> routes = new TreeSet<>();
        router.uriRoutes().map(UriRouteInfo.class::cast).forEach(r -> {
            final String path = r.getUriMatchTemplate().toPathString();
            if (path.startsWith("/api/") && r.getHttpMethod() != HttpMethod.HEAD) {
                routes.add(r.getHttpMethod().name().toLowerCase() + " " + path);
            }
        });
        final Set<String> documented = new TreeSet<>();
        String path = null;
        for (final String line : resource("public/openapi.yml").split("\n")) {
            final Matcher p = Pattern.compile("^  (/api/\\S*):$").matcher(line);
            final Matcher m = Pattern.compile("^    (get|post|put|delete):").matcher(line);
            if (p.find()) {
                path = p.group(1);
            } else if (m.find() && path != null) {
                documented.add(m.group(1) + " " + path);
            } else if (!line.startsWith(" ")) {
                path = null;
            }
        }
        assertEquals(routes, documented);
        assertTrue(routes.size() >= 8, routes::toString);
    }

    /**
     * The playground's examples are the recorded scenarios, byte for byte (so "what Linux printed"
     * stays true); those marked {@code "source": "simulator"} (memory pressure: no kernel recording
     * can hold a per-script memory limit) are the simulator's own x86_64 transcript instead, and are
     * in no kernel-recorded folder.
     */
    @Test
    void theShippedExamplesAreTheRecordedScenarios() throws IOException {
        final String index = resource("public/examples/index.json");
        final Matcher entry = Pattern.compile("\\{[^}]*\\}").matcher(index);
        int n = 0;
        int simulated = 0;
        while (entry.find()) {
            final boolean simulator = entry.group().contains("\"source\": \"simulator\"");
            final Matcher m = Pattern.compile("\"(vms|out)\": \"([^\"]+)\"").matcher(entry.group());
            String script = null;
            while (m.find()) {
                final String file = m.group(2);
                final String shipped = resource("public/examples/" + file);
                String recorded = null;
                for (final String dir : List.of("examples", "corpus", "fork", "proc")) {
                    try {
                        recorded = resource("vmscript/" + dir + "/" + file);
                        break;
                    } catch (IOException e) {
                        // not in this folder
                    }
                }
                if (simulator) {
                    assertNull(recorded, file + " is the simulator's, not a kernel recording");
                    if (m.group(1).equals("vms")) {
                        script = shipped;
                    } else {
                        assertEquals(
                                VmScript.run(script, ArchRegistry.find("x86_64"), LockingMode.PER_VMA), shipped, file);
                        simulated++;
                    }
                } else {
                    assertEquals(recorded, shipped, file);
                }
                n++;
            }
        }
        assertTrue(n >= 16, "examples: " + n / 2);
        assertTrue(simulated >= 1, "simulator-only examples: " + simulated);
    }

    @Test
    void serveRejectsABadPortWithOneLine() {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int rc = VmsimMain.run(
                new VmsimMain(KernelFactory.simulator()),
                new PrintWriter(out),
                new PrintWriter(err),
                "serve",
                "--port",
                "70000");
        assertEquals(2, rc);
        assertEquals("vmsim: --port must be 0 to 65535, got 70000\n", err.toString());
    }

    @Test
    void aTakenPortIsOneLineNotAStackTrace() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            final IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> VmsimServer.start("127.0.0.1", taken.getLocalPort()));
            assertTrue(e.getMessage().startsWith("cannot serve on 127.0.0.1:" + taken.getLocalPort()), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void aTakenPortOnAPlainServeLineIsExitStatusOneAndOneLine() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            final StringWriter err = new StringWriter();
            final int rc = VmsimMain.run(
                    new VmsimMain(KernelFactory.simulator()),
                    new PrintWriter(new StringWriter()),
                    new PrintWriter(err),
                    "serve",
                    "--port",
                    Integer.toString(taken.getLocalPort()));
            assertEquals(1, rc);
            assertTrue(
                    err.toString().startsWith("vmsim: cannot serve on 127.0.0.1:" + taken.getLocalPort() + ": "),
                    err.toString());
            assertEquals(1, err.toString().lines().count(), err.toString());
        }
    }

    @Test
    void aPlainServeLineIsReadWithoutPicocliAndAnyOtherLineIsLeftToIt() {
        final ServeCommand given = ServeCommand.plain(List.of("--port", "0", "--bind=0.0.0.0"));
        assertEquals(0, given.port);
        assertEquals("0.0.0.0", given.bind);
        final ServeCommand defaults = ServeCommand.plain(List.of());
        assertEquals(8080, defaults.port);
        assertEquals("127.0.0.1", defaults.bind);
        assertEquals(9000, ServeCommand.plain(List.of("--port=9000")).port);
        for (final List<String> other : List.of(
                List.of("--help"),
                List.of("-V"),
                List.of("--port", "70000"),
                List.of("--port", "-1"),
                List.of("--port", "x"),
                List.of("--port"),
                List.of("--port", "1", "--port", "2"),
                List.of("--bind", "--port"),
                List.of("--bind="),
                List.of("8080"))) {
            assertNull(ServeCommand.plain(other), other::toString);
        }
    }

    /** The launcher's training run for the class-data-sharing archive: serve, load the first page, stop. */
    @Test
    @Timeout(120)
    void theTrainingRunServesItsFirstPageAndStops() throws Exception {
        System.setProperty(ServeCommand.TRAINING, "true");
        try {
            final StringWriter out = new StringWriter();
            assertEquals(0, ServeCommand.plain(List.of("--port", "0")).serve(new PrintWriter(out)));
            assertTrue(out.toString().startsWith("vmsim serve: http://127.0.0.1:"), out.toString());
        } finally {
            System.clearProperty(ServeCommand.TRAINING);
        }
    }

    @Test
    void theServerPrintsAUrlThatServesThePlayground() throws Exception {
        try (VmsimServer s = VmsimServer.start("127.0.0.1", 0)) {
            assertTrue(s.url().matches("http://127\\.0\\.0\\.1:\\d+/"), s.url());
            final java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient()
                    .send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.url()))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("vmsim playground"));
        }
    }
}
