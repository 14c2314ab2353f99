package dev.vmsim.app.serve;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.Map;

/**
 * The Micronaut application of {@code vmsim serve}: Netty, the API controllers and the pages under
 * {@code public/} in the jar. Started without environment deduction (no cloud probing) and with
 * lazy singletons, both for startup time; the bean definitions are generated at compile time, so
 * nothing scans the class path.
 */
public final class VmsimServer implements AutoCloseable {
    private final ApplicationContext context;
    private final EmbeddedServer server;

    private VmsimServer(final ApplicationContext context, final EmbeddedServer server) {
        this.context = context;
        this.server = server;
    }

    /**
     * Starts the server on {@code bind}:{@code port} (0: any free port).
     *
     * @throws IllegalStateException with one line when the server cannot start (the port is taken)
     */
    public static VmsimServer start(final String bind, final int port) {
        return start(bind, port, Map.of());
    }

    /** As {@link #start(String, int)}, with more properties (e.g. {@code vmsim.limits.*}). */
    public static VmsimServer start(final String bind, final int port, final Map<String, Object> properties) {
        final Map<String, Object> props = new java.util.HashMap<>(properties);
        props.put("micronaut.server.host", bind);
        props.put("micronaut.server.port", port);
        final ApplicationContext ctx = ApplicationContext.builder()
                .deduceEnvironment(false)
                .deduceCloudEnvironment(false)
                .banner(false)
                .properties(props)
                .start();
        try {
            final EmbeddedServer server = ctx.getBean(EmbeddedServer.class).start();
            return new VmsimServer(ctx, server);
        } catch (RuntimeException e) {
            ctx.close();
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalStateException("cannot serve on " + bind + ":" + port + ": " + root.getMessage(), e);
        }
    }

    /** The root URL, e.g. http://127.0.0.1:8080/. */
    public String url() {
        return "http://" + server.getHost() + ":" + server.getPort() + "/";
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.stop();
        context.close();
    }
}
