package dev.vmsim.bench;

/**
 * Which clock a run's machine uses ({@code --clock}): the host's (each simulated CPU a platform
 * thread, wall-clock time) or the virtual one (one task at a time, each CPU with its own clock,
 * every step charged from the machine profile's cost model; deterministic).
 */
public enum ClockKind {
    HOST("host"),
    VIRTUAL("virtual");

    private final String cliName;

    ClockKind(final String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The kind called {@code s} on the command line; null if none. */
    public static ClockKind fromCliName(final String s) {
        for (final ClockKind k : values()) {
            if (k.cliName.equals(s)) {
                return k;
            }
        }
        return null;
    }
}
