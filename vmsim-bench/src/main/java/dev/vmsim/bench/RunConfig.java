package dev.vmsim.bench;

import dev.vmsim.bench.profile.MachineProfile;
import dev.vmsim.bench.profile.MachineProfiles;
import dev.vmsim.core.KernelVariant;
import dev.vmsim.core.lock.LockingMode;
import java.time.Duration;
import java.util.Objects;

/**
 * What to run: a workload on an architecture (with its page size) in a locking variant (a mode,
 * and whether the simulator's mmap_lock upgrade is on) with a number of threads, bound by a
 * duration or by a number of rounds per thread (exactly one of the two), with a seed, on a machine
 * profile (the cost model of the virtual clock; default {@code host}), running a kernel variant
 * (default the vanilla kernel), on a clock (default: the host's). Under the virtual clock a
 * duration is virtual time.
 */
public final class RunConfig {
    private final Workload workload;
    private final String arch;
    private final LockingVariant locking;
    private final int threads;
    private final Duration duration;
    private final long iterations;
    private final long seed;
    /** PAGE_SIZE of the machine: 4096 unless an arm64 granule says otherwise. */
    private final long pageSize;

    private final MachineProfile machine;
    private final KernelVariant kernel;
    private final ClockKind clock;
    /** --mem and --swap: the machine's memory and swap device (each 0 = the default). */
    private final MemoryLimits memory;

    private RunConfig(
            final Workload workload,
            final String arch,
            final LockingVariant locking,
            final int threads,
            final Duration duration,
            final long iterations,
            final long seed,
            final long pageSize,
            final MachineProfile machine,
            final KernelVariant kernel,
            final ClockKind clock,
            final MemoryLimits memory) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        if ((duration == null) == (iterations <= 0)) {
            throw new IllegalArgumentException("give exactly one of a duration and a positive iteration count");
        }
        this.workload = Objects.requireNonNull(workload);
        this.arch = Objects.requireNonNull(arch);
        this.locking = Objects.requireNonNull(locking);
        this.threads = threads;
        this.duration = duration;
        this.iterations = iterations;
        this.seed = seed;
        this.pageSize = pageSize;
        this.machine = Objects.requireNonNull(machine);
        this.kernel = Objects.requireNonNull(kernel);
        this.clock = Objects.requireNonNull(clock);
        this.memory = Objects.requireNonNull(memory);
    }

    /** A run bound by wall-clock time. */
    public static RunConfig timed(
            final Workload w,
            final String arch,
            final LockingMode mode,
            final int threads,
            final Duration d,
            final long seed) {
        return new RunConfig(
                w,
                arch,
                LockingVariant.of(mode),
                threads,
                d,
                0,
                seed,
                4096,
                MachineProfiles.defaultProfile(),
                KernelVariant.VANILLA,
                ClockKind.HOST,
                MemoryLimits.DEFAULT);
    }

    /** A run of {@code iterations} rounds per thread. */
    public static RunConfig rounds(
            final Workload w,
            final String arch,
            final LockingMode mode,
            final int threads,
            final long iterations,
            final long seed) {
        return new RunConfig(
                w,
                arch,
                LockingVariant.of(mode),
                threads,
                null,
                iterations,
                seed,
                4096,
                MachineProfiles.defaultProfile(),
                KernelVariant.VANILLA,
                ClockKind.HOST,
                MemoryLimits.DEFAULT);
    }

    /** The same run in another locking mode (the mmap_lock upgrade as it was). */
    public RunConfig withLocking(final LockingMode mode) {
        return withVariant(new LockingVariant(mode, locking.mmapUpgrade()));
    }

    /** The same run in another locking variant. */
    public RunConfig withVariant(final LockingVariant v) {
        return new RunConfig(
                workload, arch, v, threads, duration, iterations, seed, pageSize, machine, kernel, clock, memory);
    }

    /** The same run with a duration instead of the current bound. */
    public RunConfig withDuration(final Duration d) {
        return new RunConfig(workload, arch, locking, threads, d, 0, seed, pageSize, machine, kernel, clock, memory);
    }

    /** The same run on a machine with PAGE_SIZE {@code bytes} (an arm64 granule: 4K, 16K, 64K). */
    public RunConfig withPageSize(final long bytes) {
        return new RunConfig(
                workload, arch, locking, threads, duration, iterations, seed, bytes, machine, kernel, clock, memory);
    }

    /** The same run with {@code n} threads. */
    public RunConfig withThreads(final int n) {
        return new RunConfig(
                workload, arch, locking, n, duration, iterations, seed, pageSize, machine, kernel, clock, memory);
    }

    /** The same run on another machine profile. */
    public RunConfig withMachine(final MachineProfile m) {
        return new RunConfig(
                workload, arch, locking, threads, duration, iterations, seed, pageSize, m, kernel, clock, memory);
    }

    /** The same run on a machine running kernel {@code k} (the zero page, the stack guard gap). */
    public RunConfig withKernel(final KernelVariant k) {
        return new RunConfig(
                workload, arch, locking, threads, duration, iterations, seed, pageSize, machine, k, clock, memory);
    }

    /** The same run on another clock. */
    public RunConfig withClock(final ClockKind c) {
        return new RunConfig(
                workload, arch, locking, threads, duration, iterations, seed, pageSize, machine, kernel, c, memory);
    }

    /** The same run with the machine's memory and swap set by {@code limits} (--mem, --swap). */
    public RunConfig withMemory(final MemoryLimits limits) {
        return new RunConfig(
                workload, arch, locking, threads, duration, iterations, seed, pageSize, machine, kernel, clock, limits);
    }

    /** The machine's memory and swap (--mem, --swap). */
    public MemoryLimits memory() {
        return memory;
    }

    /** The machine's clock. */
    public ClockKind clock() {
        return clock;
    }

    public Workload workload() {
        return workload;
    }

    public String arch() {
        return arch;
    }

    public LockingMode locking() {
        return locking.mode();
    }

    /** The locking mode with the simulator's mmap_lock options. */
    public LockingVariant variant() {
        return locking;
    }

    /** Is the simulator's atomic mmap_lock upgrade on? */
    public boolean mmapUpgrade() {
        return locking.mmapUpgrade();
    }

    public int threads() {
        return threads;
    }

    /** The wall-clock bound, or null when bound by iterations. */
    public Duration duration() {
        return duration;
    }

    /** Rounds per thread, or 0 when bound by duration. */
    public long iterations() {
        return iterations;
    }

    public long seed() {
        return seed;
    }

    /** PAGE_SIZE of the machine the run builds. */
    public long pageSize() {
        return pageSize;
    }

    /** The kernel variant the run's machine runs. */
    public KernelVariant kernel() {
        return kernel;
    }

    /** The machine profile: the cost model a virtual-clock run charges. */
    public MachineProfile machine() {
        return machine;
    }
}
