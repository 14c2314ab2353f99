package dev.vmsim.app.serve;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vmsim serve [--port 8080] [--bind 127.0.0.1]}: the teaching server. Prints its URL and runs
 * until interrupted (Ctrl-C). Exit status 2 for a bad port, 1 when the port cannot be bound.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = "Start the teaching server (playground, compare, lessons, interleavings) and print its URL.")
public final class ServeCommand implements Callable<Integer> {
    /**
     * With this system property true, serve starts, fetches its first page and stops: the ./vmsim
     * launcher's run that writes the class-data-sharing archive of serve's classes, once per build.
     */
    static final String TRAINING = "vmsim.serve.training";

    private static final String DEFAULT_PORT = "8080";
    private static final String DEFAULT_BIND = "127.0.0.1";

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--port",
            defaultValue = DEFAULT_PORT,
            description = "TCP port, 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--bind",
            defaultValue = DEFAULT_BIND,
            description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for a classroom network).")
    String bind;

    @Override
    public Integer call() throws InterruptedException {
        final CommandLine cl = spec.commandLine();
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be 0 to 65535, got " + port);
        }
        return serve(cl.getOut());
    }

    /**
     * The command of a plain serve line, {@code --port N} and {@code --bind ADDRESS} (or
     * {@code --port=N}, {@code --bind=ADDRESS}), each at most once and the port in range, read
     * without picocli; null for any other line (help, an unknown or repeated option, a bad port),
     * which picocli then parses and reports. Why: picocli's classes are Java 5 class files, which a
     * class-data-sharing archive cannot hold, and its model is built by reflection over annotation
     * proxies that are generated anew on each start; together a sixth of serve's startup.
     */
    public static ServeCommand plain(final List<String> args) {
        final ServeCommand c = new ServeCommand();
        c.port = Integer.parseInt(DEFAULT_PORT);
        c.bind = DEFAULT_BIND;
        boolean portSeen = false;
        boolean bindSeen = false;
        for (int i = 0; i < args.size(); i++) {
            final String a = args.get(i);
            final int eq = a.indexOf('=');
            final String name = eq < 0 ? a : a.substring(0, eq);
            final String value;
            if (eq >= 0) {
                value = a.substring(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                return null;
            }
            if (name.equals("--port") && !portSeen) {
                portSeen = true;
                try {
                    c.port = Integer.parseInt(value);
                } catch (NumberFormatException e) {
                    return null;
                }
                if (c.port < 0 || c.port > 65535) {
                    return null;
                }
            } else if (name.equals("--bind") && !bindSeen && !value.isEmpty() && !value.startsWith("-")) {
                bindSeen = true;
                c.bind = value;
            } else {
                return null;
            }
        }
        return c;
    }

    /**
     * Starts the server, prints its URL on {@code out} and waits until the JVM is stopped.
     *
     * @throws IllegalStateException with one line when the server cannot start
     */
    public int serve(final PrintWriter out) throws InterruptedException {
        final long t0 = System.nanoTime();
        final VmsimServer server = VmsimServer.start(bind, port);
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        out.println("vmsim serve: " + server.url() + " (started in " + ms + " ms; Ctrl-C stops it)");
        out.flush();
        if (Boolean.getBoolean(TRAINING)) {
            firstPage(server);
            server.close();
            return 0;
        }
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "vmsim-serve-stop"));
        stopped.await();
        return 0;
    }

    /** Fetches the playground page, as a browser's first request would: its classes join the archive. */
    private static void firstPage(final VmsimServer server) {
        try {
            final java.net.HttpURLConnection c = (java.net.HttpURLConnection)
                    java.net.URI.create(server.url()).toURL().openConnection();
            try (java.io.InputStream in = c.getInputStream()) {
                in.readAllBytes();
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("the first page did not load: " + e.getMessage(), e);
        }
    }
}
