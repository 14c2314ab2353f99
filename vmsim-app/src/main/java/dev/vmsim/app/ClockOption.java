package dev.vmsim.app;

import dev.vmsim.bench.ClockKind;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --clock host|virtual}: which clock the run's machine uses (a picocli mixin). Host: each
 * simulated CPU is a platform thread and time is the host's (finds real races; figures mean
 * something only while tasks do not outnumber host cores). Virtual: one task at a time, every CPU
 * with its own clock, each step charged from the {@code --machine} profile; any CPU count on any
 * host, byte-identical results for the same command and seed.
 */
final class ClockOption {
    @Option(
            names = "--clock",
            paramLabel = "host|virtual",
            defaultValue = "host",
            description = "host: simulated CPUs are host threads, wall-clock time; virtual: deterministic virtual time,"
                    + " costs from --machine, any CPU count (default: ${DEFAULT-VALUE}).")
    String clock;

    /**
     * The clock.
     *
     * @throws CommandLine.ParameterException for an unknown name (exit status 2)
     */
    ClockKind kind(final CommandLine cl) {
        final ClockKind k = ClockKind.fromCliName(clock);
        if (k == null) {
            throw new CommandLine.ParameterException(cl, "--clock must be host or virtual, got '" + clock + "'");
        }
        return k;
    }
}
