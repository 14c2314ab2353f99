package dev.vmsim.app;

import dev.vmsim.bench.calibrate.Calibration;
import dev.vmsim.bench.calibrate.HostFit;
import dev.vmsim.bench.calibrate.MmapLockTrace;
import dev.vmsim.bench.calibrate.NativeProbe;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * `vmsim calibrate`: the real kernel's cost per fault and per mmap+munmap beside the simulator's;
 * with --fit, the host machine profile fitted from the same native probes.
 */
@Command(
        mixinStandardHelpOptions = true,
        name = "calibrate",
        description = "Run native probes (gcc-compiled on first use) alternately with the simulated"
                + " page-fault1 and mmap1, and compare ns per operation and event counts; then mmap1's gain from a"
                + " second thread, the kernel's beside the model's (virtual clock, --machine).")
final class CalibrateCommand implements Callable<Integer> {
    @ParentCommand
    private VmsimMain parent;

    @Spec
    private CommandLine.Model.CommandSpec spec;

    @Mixin
    private ArchOption arch;

    @Mixin
    private LockingOption locking;

    @Mixin
    private MachineOption machine;

    @Option(
            names = "--repeat",
            defaultValue = "5",
            description = "Alternating runs of each probe (default: ${DEFAULT-VALUE}).")
    private int repeat;

    @Option(names = "--seed", defaultValue = "1", description = "Seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(
            names = "--cache",
            paramLabel = "DIR",
            description = "Where compiled probes are kept (default: <tmp>/vmsim-probes).")
    private Path cache;

    @Option(
            names = "--fit",
            description = "Fit the host machine profile instead: the native probes alone, 1 thread, in alternating"
                    + " repeats; prints the spread and the profile JSON (or writes it to --output).")
    private boolean fit;

    @Option(
            names = "--output",
            paramLabel = "FILE",
            description = "With --fit: write the profile to FILE" + " (use it with --machine FILE).")
    private Path output;

    @Override
    public Integer call() throws IOException, InterruptedException {
        final CommandLine cl = spec.commandLine();
        CommonOptions.checkAtLeastOne(cl, "--repeat", repeat);
        final Path dir = cache != null ? cache : NativeProbe.defaultCache();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cl, "--cache " + dir + ": not a directory");
        }
        if (output != null && !fit) {
            throw new CommandLine.ParameterException(cl, "--output applies to --fit only");
        }
        CommonOptions.checkWritable(cl, "--output", output);
        final MachineProfile profile = machine.load(cl);
        Files.createDirectories(dir);
        if (fit) {
            return fit(cl, dir);
        }
        final Calibration c = new Calibration(
                parent.kernels(),
                new NativeProbe("page_fault1", dir),
                new NativeProbe("mmap1", dir),
                arch.arch,
                locking.locking,
                profile);
        final String report = c.run(repeat, seed, ProgressBar.forConsole(cl.getErr(), "calibrate"));
        cl.getOut().print(report);
        cl.getOut().flush();
        return 0;
    }

    /** --fit: the spread goes to stdout when the profile goes to a file, else to stderr beside the JSON. */
    private int fit(final CommandLine cl, final Path dir) throws IOException, InterruptedException {
        final NativeProbe mmap1 = new NativeProbe("mmap1", dir);
        final Optional<MmapLockTrace> tracer = MmapLockTrace.find(mmap1);
        if (tracer.isEmpty()) {
            cl.getErr()
                    .println("calibrate --fit: the mmap_lock's share is not traced: "
                            + MmapLockTrace.unavailableReason() + "; the mmap residuals go under the lock whole");
        }
        final HostFit.Result r = new HostFit(
                        new NativeProbe("page_fault1", dir)::run,
                        mmap1::run,
                        () -> tracer.isPresent()
                                ? Optional.of(tracer.get().run(Calibration.NATIVE_MMAP_ROUNDS))
                                : Optional.empty(),
                        new NativeProbe("c2c", dir)::run)
                .run(
                        MachineProfiles.shipped(MachineProfiles.DEFAULT),
                        repeat,
                        HostDescription.now(),
                        ProgressBar.forConsole(cl.getErr(), "calibrate --fit"));
        final String scaling = String.format(
                Locale.ROOT,
                "the fitted profile's mmap1, 2 threads / 1 thread (virtual clock): %.2fx%n",
                Calibration.modelMmap1Scaling(
                        parent.kernels(),
                        r.profile(),
                        arch.arch,
                        locking.locking,
                        Calibration.MMAP1_SCALING_ROUNDS,
                        seed));
        if (output != null) {
            CommonOptions.write("--output", output, r.profile().toJson());
            cl.getOut().print(r.report());
            cl.getOut().print(scaling);
            cl.getOut().println("profile written to " + output + " (use: --machine " + output + ")");
            cl.getOut().flush();
        } else {
            cl.getErr().print(r.report());
            cl.getErr().print(scaling);
            cl.getErr().flush();
            cl.getOut().print(r.profile().toJson());
            cl.getOut().flush();
        }
        return 0;
    }
}
