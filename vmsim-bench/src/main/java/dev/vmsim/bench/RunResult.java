package dev.vmsim.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
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
    /** The workload's own faults/s (pft's Hmean), or NaN to use pgfault / seconds. */
    private final double workloadFaultsPerSec;
    /** /proc/meminfo at the end of the run ({@link SimKernel#meminfo}); empty if the kernel has none. */
    private final Map<String, Long> meminfo;
    /** Under the virtual clock: ns of virtual time per mechanism; empty on the host clock. */
    private final Map<String, Long> attribution;
    /** Host wall-clock seconds the run took (under the virtual clock, what simulating it cost). */
    private final double hostSeconds;
    /** The tasks (by index) that a SIGKILL stopped before their rounds were done: the OOM killer's victims. */
    private final List<Integer> killedTasks;

    /** A host-clock run with the kernel's /proc/meminfo when it ended (or empty). */
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
            final long leakedFrames,
            final double workloadFaultsPerSec,
            final Map<String, Long> meminfo) {
        this(
                config,
                seconds,
                rounds,
                touches,
                syscalls,
                signals,
                firstSignal,
                syscallErrors,
                faultLatency,
                syscallLatency,
                counters,
                leakedFrames,
                workloadFaultsPerSec,
                meminfo,
                Map.of(),
                seconds,
                List.of());
    }

    /**
     * @param workloadFaultsPerSec the workload's own faults/s (see {@link Workload.Instance#faultsPerSec}), or NaN
     * @param meminfo the kernel's /proc/meminfo when the run ended ({@link SimKernel#meminfo}), or empty
     * @param attribution ns of virtual time per mechanism (virtual clock), empty otherwise
     * @param hostSeconds the host's wall-clock seconds for the run
     * @param killedTasks the tasks a SIGKILL stopped (the OOM killer's victims), by index
     */
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
            final long leakedFrames,
            final double workloadFaultsPerSec,
            final Map<String, Long> meminfo,
            final Map<String, Long> attribution,
            final double hostSeconds,
            final List<Integer> killedTasks) {
        this.killedTasks = List.copyOf(killedTasks);
        this.attribution = Map.copyOf(attribution);
        this.hostSeconds = hostSeconds;
        this.workloadFaultsPerSec = workloadFaultsPerSec;
        this.meminfo = Collections.unmodifiableMap(new LinkedHashMap<>(meminfo));
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

    /**
     * Seconds from the first task leaving the start barrier until the last finished its rounds: wall
     * clock on the host clock, virtual seconds under the virtual clock.
     */
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

    /**
     * Faults per second: the workload's own measure where it times itself (pft: the Hmean over its
     * repeats, mapping and teardown excluded), else pgfault over the run's wall-clock seconds.
     */
    public double faultsPerSec() {
        if (!Double.isNaN(workloadFaultsPerSec)) {
            return workloadFaultsPerSec;
        }
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

    /**
     * The tasks, by index, that were stopped by SIGKILL (the OOM killer chose the run's process)
     * before their rounds were done; empty when nothing was killed.
     */
    public List<Integer> killedTasks() {
        return killedTasks;
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

    /** The machine's /proc/meminfo when the run ended, in the file's order; empty if the kernel has none. */
    public Map<String, Long> meminfo() {
        return meminfo;
    }

    /** Where the virtual time went, ns per mechanism, sorted by name; empty on the host clock. */
    public Map<String, Long> attribution() {
        return new java.util.TreeMap<>(attribution);
    }

    /** Host wall-clock seconds of the run (the cost of simulating it, under the virtual clock). */
    public double hostSeconds() {
        return hostSeconds;
    }

    /**
     * The run as the JSON object `vmsim run --json` writes; members in a fixed order. "meminfo" (the
     * machine's /proc/meminfo when the tasks finished, kB) is there when the kernel has one;
     * "virtualTimeNs" (where the virtual time went) under the virtual clock.
     */
    public ObjectNode toJsonNode() {
        final ObjectNode o = Json.object()
                .put("workload", config.workload().name())
                .put("arch", config.arch())
                .put("pageSize", config.pageSize())
                .put("locking", config.locking().cliName())
                .put("mmapUpgrade", config.mmapUpgrade())
                .put("machine", config.machine().name())
                .put("clock", config.clock().cliName())
                .put("threads", config.threads())
                .put("seed", config.seed())
                .put("seconds", seconds)
                .put("rounds", rounds)
                .put("faults", faults());
        Json.putFinite(o, "faultsPerSec", faultsPerSec());
        o.put("syscalls", syscalls);
        Json.putFinite(o, "syscallsPerSec", syscallsPerSec());
        o.put("signals", signals).put("syscallErrors", syscallErrors);
        if (!killedTasks.isEmpty()) { // only after an OOM kill: the golden files keep their shape
            final com.fasterxml.jackson.databind.node.ArrayNode killed = o.putArray("oomKilledTasks");
            killedTasks.forEach(killed::add);
        }
        o.set("faultLatencyNs", faultLatency.toJsonNode());
        o.set("syscallLatencyNs", syscallLatency.toJsonNode());
        final ObjectNode vmstat = o.putObject("vmstat");
        for (final Map.Entry<String, Long> e : counters.vmstat().entrySet()) {
            vmstat.put(e.getKey(), e.getValue());
        }
        o.putObject("mmapLock")
                .put("acquisitions", counters.mmapLockAcquisitions())
                .put("contended", counters.mmapLockContended())
                .put("waitNs", counters.mmapLockWaitNs());
        o.putObject("tlb")
                .put("hits", counters.tlbHits())
                .put("misses", counters.tlbMisses())
                .put("shootdowns", counters.tlbShootdowns());
        o.put("pageTableFrames", counters.pageTableFrames()).put("leakedFrames", leakedFrames);
        if (!meminfo.isEmpty()) {
            final ObjectNode m = o.putObject("meminfo");
            meminfo.forEach(m::put);
        }
        if (!attribution.isEmpty()) {
            final ObjectNode a = o.putObject("virtualTimeNs");
            attribution().forEach(a::put);
        }
        return o.put("hostSeconds", hostSeconds);
    }

    public String toJson() {
        return Json.write(toJsonNode());
    }
}
