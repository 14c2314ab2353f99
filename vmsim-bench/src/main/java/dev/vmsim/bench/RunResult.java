package dev.vmsim.bench;

import java.util.Map;

/**
 * The outcome of one run: what ran, how long, the counts, the merged latency percentiles and the
 * kernel counters of the interval. Immutable.
 */
public final class RunResult {
    private final RunConfig config;
    private final double seconds;
    private final long rounds;
    private final long touches;
    private final long syscalls;
    private final long signals;
    private final int firstSignal;
    private final long syscallErrors;
    private final Latency faultLatency;
    private final Latency syscallLatency;
    private final KernelCounters counters;
    private final long leakedFrames;

    public RunResult(
            final RunConfig config,
            final double seconds,
            final long rounds,
            final long touches,
            final long syscalls,
            final long signals,
            final int firstSignal,
            final long syscallErrors,
            final Latency faultLatency,
            final Latency syscallLatency,
            final KernelCounters counters,
            final long leakedFrames) {
        this.config = config;
        this.seconds = seconds;
        this.rounds = rounds;
        this.touches = touches;
        this.syscalls = syscalls;
        this.signals = signals;
        this.firstSignal = firstSignal;
        this.syscallErrors = syscallErrors;
        this.faultLatency = faultLatency;
        this.syscallLatency = syscallLatency;
        this.counters = counters;
        this.leakedFrames = leakedFrames;
    }

    public RunConfig config() {
        return config;
    }

    /** Wall-clock seconds from the first task leaving the start barrier until the last finished its rounds. */
    public double seconds() {
        return seconds;
    }

    /** Rounds completed, summed over the tasks. */
    public long rounds() {
        return rounds;
    }

    /** Page faults: the pgfault vmstat delta of the run. */
    public long faults() {
        return counters.vmstat("pgfault");
    }

    public double faultsPerSec() {
        return seconds > 0 ? faults() / seconds : 0;
    }

    /** Timed touching accesses (each expected to fault). */
    public long touches() {
        return touches;
    }

    public long syscalls() {
        return syscalls;
    }

    public double syscallsPerSec() {
        return seconds > 0 ? syscalls / seconds : 0;
    }

    /** Accesses that ended in a signal. */
    public long signals() {
        return signals;
    }

    public int firstSignal() {
        return firstSignal;
    }

    public long syscallErrors() {
        return syscallErrors;
    }

    public Latency faultLatency() {
        return faultLatency;
    }

    public Latency syscallLatency() {
        return syscallLatency;
    }

    /** Kernel counters of the run's interval. */
    public KernelCounters counters() {
        return counters;
    }

    /**
     * Frames still allocated after the workload unmapped everything, beyond those allocated before
     * it started, page-table frames not counted (the kernel may keep empty page tables): 0 when
     * every frame a fault allocated was freed.
     */
    public long leakedFrames() {
        return leakedFrames;
    }

    /** The run as the JSON object `vmsim run --json` writes. */
    public void writeJson(final JsonWriter w) {
        w.beginObject()
                .name("workload").value(config.workload().name())
                .name("arch").value(config.arch())
                .name("pageSize").value(config.pageSize())
                .name("locking").value(config.locking().cliName())
                .name("mmapUpgrade").value(config.mmapUpgrade())
                .name("threads").value(config.threads())
                .name("seed").value(config.seed())
                .name("seconds").value(seconds)
                .name("rounds").value(rounds)
                .name("faults").value(faults())
                .name("faultsPerSec").value(faultsPerSec())
                .name("syscalls").value(syscalls)
                .name("syscallsPerSec").value(syscallsPerSec())
                .name("signals").value(signals)
                .name("syscallErrors").value(syscallErrors);
        w.name("faultLatencyNs");
        faultLatency.writeJson(w);
        w.name("syscallLatencyNs");
        syscallLatency.writeJson(w);
        w.name("vmstat").beginObject();
        for (final Map.Entry<String, Long> e : counters.vmstat().entrySet()) {
            w.name(e.getKey()).value(e.getValue());
        }
        w.endObject();
        w.name("mmapLock").beginObject()
                .name("acquisitions").value(counters.mmapLockAcquisitions())
                .name("contended").value(counters.mmapLockContended())
                .name("waitNs").value(counters.mmapLockWaitNs())
                .endObject();
        w.name("tlb").beginObject()
                .name("hits").value(counters.tlbHits())
                .name("misses").value(counters.tlbMisses())
                .name("shootdowns").value(counters.tlbShootdowns())
                .endObject();
        w.name("pageTableFrames").value(counters.pageTableFrames())
                .name("leakedFrames").value(leakedFrames)
                .endObject();
    }

    public String toJson() {
        final JsonWriter w = new JsonWriter();
        writeJson(w);
        return w.toString();
    }
}
