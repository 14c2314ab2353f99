package dev.vmsim.app;

import dev.vmsim.bench.ClockKind;
import dev.vmsim.bench.RunConfig;
import dev.vmsim.bench.Workload;
import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.core.lock.LockingMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options `run` and `compare` share: architecture, machine, kernel variant, clock, memory and swap, threads, run bound, seed. */
final class CommonOptions {
    @Mixin
    ArchOption arch;

    @Mixin
    GranuleOption granule;

    @Mixin
    MachineOption machine;

    @Mixin
    ZeroPageOption zeroPage;

    @Mixin
    ClockOption clock;

    @Mixin
    MemoryOption memory;

    @Option(
            names = "--threads",
            split = ",",
            paramLabel = "N[,N...]",
            description = "Simulated tasks of the one mm, each on its own CPU and platform thread: 1 to 1024"
                    + " (default: 2 for run, 3 for compare). compare takes a list, e.g. 1,4,48,128: one row per count.")
    List<Integer> threads;

    @Option(
            names = "--duration",
            converter = Converters.DurationConverter.class,
            description = "How long each run lasts: 500ms, 5s, 2m (default: 5s for run; for compare, 15s in all"
                    + " shared among its runs).")
    Duration duration;

    @Option(names = "--iterations", description = "Rounds of the workload loop per thread, instead of a duration.")
    Long iterations;

    @Option(
            names = "--seed",
            defaultValue = "1",
            description = "Seed of the workloads' random choices (default: ${DEFAULT-VALUE}).")
    long seed;

    /**
     * The run these options describe, with the first --threads count; {@code defaultDuration} when
     * neither bound is given.
     *
     * @throws CommandLine.ParameterException on a bad combination (exit status 2)
     */
    RunConfig config(
            final CommandLine cl,
            final Workload w,
            final LockingMode mode,
            final int defaultThreads,
            final Duration defaultDuration) {
        final int n = threadCounts(cl, defaultThreads).get(0);
        // compare runs each count on a machine of the same --mem: it must boot the largest
        final int mostThreads = java.util.Collections.max(threadCounts(cl, defaultThreads));
        final MachineProfile m = machine.load(cl);
        final ClockKind c = clock.kind(cl);
        if (duration != null && iterations != null) {
            throw new CommandLine.ParameterException(cl, "give --duration or --iterations, not both");
        }
        final long pageSize = granule.pageSize(cl, arch.arch);
        if (iterations != null) {
            checkAtLeastOne(cl, "--iterations", iterations);
            return RunConfig.rounds(w, arch.arch, mode, n, iterations, seed)
                    .withPageSize(pageSize)
                    .withMachine(m)
                    .withKernel(zeroPage.variant())
                    .withClock(c)
                    .withMemory(memory.limits(cl, mostThreads, pageSize));
        }
        return RunConfig.timed(w, arch.arch, mode, n, duration != null ? duration : defaultDuration, seed)
                .withPageSize(pageSize)
                .withMachine(m)
                .withKernel(zeroPage.variant())
                .withClock(c)
                .withMemory(memory.limits(cl, mostThreads, pageSize));
    }

    /** Refuses a list of thread counts where the command runs one (a list is for compare). */
    void checkOneThreadCount(final CommandLine cl) {
        if (threads != null && threads.size() > 1) {
            throw new CommandLine.ParameterException(
                    cl, "--threads takes one count here, got " + threads.size() + " (a list is for compare)");
        }
    }

    /**
     * The --threads counts in the order given ({@code defaultThreads} alone when absent), each 1 to
     * 1024, no count twice.
     */
    List<Integer> threadCounts(final CommandLine cl, final int defaultThreads) {
        final List<Integer> counts = threads == null ? List.of(defaultThreads) : threads;
        for (final int n : counts) {
            checkAtLeastOne(cl, "--threads", n);
            if (n > 1024) {
                throw new CommandLine.ParameterException(cl, "--threads must be at most 1024, got " + n);
            }
        }
        if (new HashSet<>(counts).size() != counts.size()) {
            throw new CommandLine.ParameterException(cl, "--threads lists a count twice: " + counts);
        }
        return List.copyOf(counts);
    }

    /** Rejects a count option below 1 with the usage error (exit status 2) every command gives for it. */
    static void checkAtLeastOne(final CommandLine cl, final String option, final long value) {
        if (value < 1) {
            throw new CommandLine.ParameterException(cl, option + " must be at least 1, got " + value);
        }
    }

    /**
     * Checks before a run that {@code file} can be written, so that a long run does not end in an
     * error; null passes. Permission bits alone do not say (root passes every check of them, and a
     * directory such as /proc refuses new files whatever its mode), so this creates the file and
     * removes it again, or opens an existing one for append without changing it.
     */
    static void checkWritable(final CommandLine cl, final String option, final Path file) {
        if (file == null) {
            return;
        }
        final Path abs = file.toAbsolutePath();
        final Path dir = abs.getParent();
        if (Files.isDirectory(abs)) {
            throw new CommandLine.ParameterException(cl, option + " " + file + ": is a directory");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cl, option + " " + file + ": directory does not exist");
        }
        try {
            if (Files.exists(abs)) {
                Files.newOutputStream(abs, StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                        .close();
            } else {
                Files.createFile(abs);
                Files.delete(abs);
            }
        } catch (IOException e) {
            throw new CommandLine.ParameterException(
                    cl, option + " " + file + ": not writable (" + IoErrors.reason(e) + ")");
        }
    }

    /** Writes {@code text} to {@code file} (the value of {@code option}); a failure says which file and why. */
    static void write(final String option, final Path file, final String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + option + " " + file + ": " + IoErrors.reason(e), e);
        }
    }
}
