package dev.vmsim.app.serve;

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
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port, 0 for any free one (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for a classroom network).")
    private String bind;

    @Override
    public Integer call() throws InterruptedException {
        final CommandLine cl = spec.commandLine();
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be 0 to 65535, got " + port);
        }
        final long t0 = System.nanoTime();
        final VmsimServer server = VmsimServer.start(bind, port);
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        cl.getOut().println("vmsim serve: " + server.url() + " (started in " + ms + " ms; Ctrl-C stops it)");
        cl.getOut().flush();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "vmsim-serve-stop"));
        stopped.await();
        return 0;
    }
}
