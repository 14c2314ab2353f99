package dev.vmsim.app;

import dev.vmsim.app.script.KernelCheck;
import dev.vmsim.app.script.KernelOracle;
import dev.vmsim.app.script.KernelProbe;
import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.arch.Arch;
import dev.vmsim.core.arch.ArchRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code vmsim check-kernel [--seeds N] [--arch A]}: compiles the kernel oracle, probes this
 * machine's kernel for each behaviour the simulator can be configured to match ({@link KernelProbe}),
 * then runs the recorded scenarios and N seeded random ones through the kernel and through the
 * simulator configured the same way ({@link KernelCheck}). Prints how many are identical and the
 * first difference as a diff. Exit status 0 when all are identical, 1 when any differs, 2 with one
 * line when the oracle cannot be built (no gcc, no static libc, not Linux).
 */
@Command(
        name = "check-kernel",
        mixinStandardHelpOptions = true,
        description = "Compare the simulator with this machine's Linux kernel: probe the kernel, then run the recorded"
                + " and random vmscript scenarios on both. Exit 0 all identical, 1 a difference, 2 no oracle.")
public final class CheckKernelCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @ParentCommand
    private VmsimMain parent;

    @Mixin
    private ArchOption arch;

    @Option(
            names = "--seeds",
            defaultValue = "100",
            paramLabel = "N",
            description = "Random scenarios to run after the recorded ones (seeds 1..N, " + KernelCheck.LINES
                    + " lines each; default: ${DEFAULT-VALUE}; 0 for the recorded ones only).")
    private int seeds;

    @Override
    public Integer call() throws IOException {
        final CommandLine cl = spec.commandLine();
        if (seeds < 0) {
            throw new CommandLine.ParameterException(cl, "--seeds must be at least 0, got " + seeds);
        }
        final Arch a = ArchRegistry.find(arch.arch);
        if (a == null) {
            throw new CommandLine.ParameterException(cl, "architecture " + arch.arch + " is not on the class path");
        }
        final Path dir = Files.createTempDirectory("vmsim-oracle");
        try {
            final KernelOracle.Built built = parent.oracle(dir);
            if (built.kernel() == null) {
                throw new CommandLine.ParameterException(cl, "cannot build the kernel oracle: " + built.unavailable());
            }
            return check(cl.getOut(), built.kernel(), a);
        } finally {
            deleteTree(dir);
        }
    }

    private int check(final PrintWriter out, final UnaryOperator<String> kernel, final Arch a) {
        final String release = KernelOracle.kernelRelease();
        out.println("kernel: Linux " + (release.isEmpty() ? "(release unknown)" : release)
                + (KernelOracle.isRecordedKernelSeries() || release.isEmpty()
                        ? ""
                        : "  (the simulator models Linux 6.18: expect differences)"));
        out.println("oracle: vmoracle.c, built with gcc -O1 -static");
        out.println("probes:");
        final KernelProbe.Result probed = new KernelProbe(kernel, a).run();
        for (final KernelProbe.Finding f : probed.findings()) {
            out.printf(
                    Locale.ROOT,
                    "  %-36s kernel: %s%n  %-36s simulator: %s%n",
                    f.behaviour(),
                    f.kernel(),
                    "",
                    f.simulator());
        }
        final KernelVariant v = probed.variant();
        out.println("simulator: " + a.name() + ", per-vma" + (v.describe().isEmpty() ? "" : ", " + v.describe()));
        out.flush();
        final KernelCheck check = new KernelCheck(kernel, a, v);
        final KernelCheck.Tally corpus = check.corpus();
        out.printf(Locale.ROOT, "recorded scenarios: %d of %d identical%n", corpus.identical(), corpus.total());
        out.flush();
        final KernelCheck.Tally random = check.random(seeds);
        out.printf(
                Locale.ROOT,
                "random scenarios (seeds 1-%d, %d lines): %d of %d identical%n",
                seeds,
                KernelCheck.LINES,
                random.identical(),
                random.total());
        final KernelCheck.Difference first = corpus.first() != null ? corpus.first() : random.first();
        if (first == null) {
            out.println("all identical");
            out.flush();
            return 0;
        }
        out.println("first difference: " + first.name());
        out.print("--- scenario\n" + first.script());
        if (!first.script().endsWith("\n")) {
            out.println();
        }
        out.print("--- " + first.diff());
        out.flush();
        return 1;
    }

    private static void deleteTree(final Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (final Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
