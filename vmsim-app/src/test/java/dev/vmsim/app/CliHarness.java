package dev.vmsim.app;

import dev.vmsim.app.script.KernelOracle;
import dev.vmsim.bench.KernelFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.function.Function;

/** Runs the CLI in-process with captured stdout and stderr. */
final class CliHarness {
    final int status;
    final String out;
    final String err;

    private CliHarness(final int status, final String out, final String err) {
        this.status = status;
        this.out = out;
        this.err = err;
    }

    /** Host CPUs the harness reports unless a test says otherwise: enough that no test run is oversubscribed. */
    static final int HOST_CPUS = 1024;

    static CliHarness run(final KernelFactory kernels, final String... args) {
        return runOn(HOST_CPUS, kernels, args);
    }

    /** As {@link #run}, on a host of {@code hostCpus} CPUs. */
    static CliHarness runOn(final int hostCpus, final KernelFactory kernels, final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int status =
                VmsimMain.run(new VmsimMain(kernels, () -> hostCpus), new PrintWriter(out), new PrintWriter(err), args);
        return new CliHarness(status, out.toString(), err.toString());
    }

    /** As {@link #run}, with check-kernel's live kernel from {@code oracle} instead of the compiled oracle. */
    static CliHarness withOracle(final Function<Path, KernelOracle.Built> oracle, final String... args) {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final VmsimMain main = new VmsimMain(KernelFactory.simulator(), () -> HOST_CPUS, oracle);
        final int status = VmsimMain.run(main, new PrintWriter(out), new PrintWriter(err), args);
        return new CliHarness(status, out.toString(), err.toString());
    }
}
