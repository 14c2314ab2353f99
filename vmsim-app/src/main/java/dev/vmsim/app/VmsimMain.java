package dev.vmsim.app;

import dev.vmsim.app.script.KernelOracle;
import dev.vmsim.app.serve.ServeCommand;
import dev.vmsim.bench.KernelFactory;
import dev.vmsim.bench.WorkloadRunner;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import java.util.function.IntSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vmsim} command line. */
@Command(
        name = "vmsim",
        mixinStandardHelpOptions = true,
        version = "vmsim 0.1.0",
        description = "A simulated Linux virtual-memory subsystem: page faults, mmap_lock and per-VMA locks.",
        subcommands = {
            CommandLine.HelpCommand.class,
            RunCommand.class,
            CompareCommand.class,
            CalibrateCommand.class,
            ScriptCommand.class,
            CheckKernelCommand.class,
            ServeCommand.class,
        })
public final class VmsimMain implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    private final KernelFactory kernels;
    private final IntSupplier hostCpus;
    private final Function<Path, KernelOracle.Built> oracle;
    /** Where run and compare report progress: a console bar unless {@link #withProgress} replaced it. */
    private java.util.function.BiFunction<PrintWriter, String, WorkloadRunner.Progress> progress =
            ProgressBar::forConsole;

    public VmsimMain() {
        this(KernelFactory.simulator());
    }

    /** A command line whose runs build their machines with {@code kernels} (tests pass their own). */
    public VmsimMain(final KernelFactory kernels) {
        this(kernels, Runtime.getRuntime()::availableProcessors);
    }

    /** As above, with the host's CPU count from {@code hostCpus} (tests pass their own). */
    public VmsimMain(final KernelFactory kernels, final IntSupplier hostCpus) {
        this(kernels, hostCpus, KernelOracle::build);
    }

    /** As above, with check-kernel's live kernel from {@code oracle} (given a work directory; tests pass their own). */
    VmsimMain(
            final KernelFactory kernels, final IntSupplier hostCpus, final Function<Path, KernelOracle.Built> oracle) {
        this.kernels = kernels;
        this.hostCpus = hostCpus;
        this.oracle = oracle;
    }

    /** Builds the kernel oracle in {@code dir}, for check-kernel. */
    KernelOracle.Built oracle(final Path dir) {
        return oracle.apply(dir);
    }

    /** This command line with run's and compare's progress sent to {@code sink} (the server's job events). */
    public VmsimMain withProgress(final WorkloadRunner.Progress sink) {
        this.progress = (err, label) -> sink;
        return this;
    }

    /** The progress sink for a run of {@code label} whose messages go to {@code err}. */
    WorkloadRunner.Progress progress(final PrintWriter err, final String label) {
        return progress.apply(err, label);
    }

    /** How the subcommands build a machine and mm. */
    KernelFactory kernels() {
        return kernels;
    }

    /** The host CPUs the simulated tasks' threads share (Runtime.availableProcessors unless injected). */
    int hostCpus() {
        return hostCpus.getAsInt();
    }

    public static void main(final String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit status: 0 ok, 1 failure, 2 bad usage. */
    public static int run(final String... args) {
        return run(
                KernelFactory.simulator(), new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /**
     * Runs the CLI with its output on {@code out} and {@code err} and its machines from {@code
     * kernels}: 0 ok, 1 a run failed, 2 bad usage. Every failure is one line on {@code err}.
     */
    public static int run(
            final KernelFactory kernels, final PrintWriter out, final PrintWriter err, final String... args) {
        return run(new VmsimMain(kernels), out, err, args);
    }

    /** Runs the CLI of {@code main} with its output on {@code out} and {@code err}; the exit status. */
    public static int run(final VmsimMain main, final PrintWriter out, final PrintWriter err, final String... args) {
        // serve starts without picocli when its line is plain (ServeCommand.plain says why), and
        // otherwise with a command line of its own: building the model of every subcommand (their
        // options, converters and the classes those load) is a third of a second of its startup.
        final boolean serve = args.length > 0 && "serve".equals(args[0]);
        final ServeCommand plain =
                serve ? ServeCommand.plain(Arrays.asList(args).subList(1, args.length)) : null;
        if (plain != null) {
            try {
                return plain.serve(out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            } catch (RuntimeException e) {
                err.println("vmsim: " + why(e));
                err.flush();
                return 1;
            }
        }
        final CommandLine cl =
                serve ? new CommandLine(new ServeCommand()).setCommandName("vmsim serve") : new CommandLine(main);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            final CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println("vmsim: " + oneLine(ex.getMessage()));
            cmd.getErr().flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            cmd.getErr().println("vmsim: " + why(ex));
            cmd.getErr().flush();
            return 1;
        });
        final int status = cl.execute(serve ? Arrays.copyOfRange(args, 1, args.length) : args);
        out.flush();
        err.flush();
        return status;
    }

    /** A failure in one line: its message's first line, or what it is. */
    private static String why(final Exception e) {
        return oneLine(e.getMessage() != null ? e.getMessage() : e.toString());
    }

    private static String oneLine(final String s) {
        final String t = s == null ? "error" : s.strip();
        final int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
