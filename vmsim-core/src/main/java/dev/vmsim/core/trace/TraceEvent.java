package dev.vmsim.core.trace;

import java.util.Arrays;

/**
 * One recorded event: a monotonic timestamp (ns since the recorder started), the emitting Java
 * thread and simulated CPU (-1 outside a CPU), the phase, the name and key=value arguments.
 */
public final class TraceEvent {
    public final long tsNs;
    public final long threadId;
    public final int cpu;
    public final char phase;
    public final String name;
    private final String[] args;

    public TraceEvent(
            final long tsNs,
            final long threadId,
            final int cpu,
            final char phase,
            final String name,
            final String[] args) {
        this.tsNs = tsNs;
        this.threadId = threadId;
        this.cpu = cpu;
        this.phase = phase;
        this.name = name;
        this.args = args == null ? new String[0] : args;
    }

    /** The value of argument {@code key}, or null. */
    public String arg(final String key) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals(key)) {
                return args[i + 1];
            }
        }
        return null;
    }

    /** The arguments, alternating keys and values (a copy). */
    public String[] args() {
        return Arrays.copyOf(args, args.length);
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder();
        sb.append(tsNs)
                .append(" cpu")
                .append(cpu)
                .append(' ')
                .append(phase)
                .append(' ')
                .append(name);
        for (int i = 0; i + 1 < args.length; i += 2) {
            sb.append(' ').append(args[i]).append('=').append(args[i + 1]);
        }
        return sb.toString();
    }
}
