package dev.vmsim.bench;

import dev.vmsim.bench.profile.CostModels;
import dev.vmsim.core.clock.SchedulePolicy;
import dev.vmsim.core.clock.VirtualScheduler;
import dev.vmsim.core.swap.SwapParams;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * Runs one {@link RunConfig}: a fresh machine and mm from the {@link KernelFactory}, one platform
 * thread per simulated task (each task on a CPU of its own), all released together by a barrier,
 * bound by a duration or a number of rounds; then the per-task statistics are merged, the mm is
 * validated and the frames are balanced.
 *
 * <p>Implementation notes: the runner takes no lock on the simulated paths. Each task records into
 * its own {@link TaskRecorder}; the only shared writes are the per-task round counters (release
 * stores read opaquely by the progress display) and the stop flag (volatile: the tasks see it at
 * their next round). The recorders are read after {@link Thread#join}, which orders every plain
 * write of the task before the read.
 */
public final class WorkloadRunner {
    /** Receives the completed fraction of a run (0..1) now and then, on the runner's thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = fraction -> {};

        void update(double fraction);
    }

    /** How often the runner's thread wakes to update the progress display and check the clock. */
    private static final long TICK_MS = 100;

    private final KernelFactory factory;

    public WorkloadRunner(final KernelFactory factory) {
        this.factory = factory;
    }

    /** Runs {@code cfg}; throws {@link RunFailure} when a task or a post-run check failed. */
    public RunResult run(final RunConfig cfg, final Progress progress) {
        if (cfg.clock() == ClockKind.VIRTUAL) {
            return runVirtual(cfg, progress);
        }
        final int n = cfg.threads();
        final SimKernel kernel = swapon(
                cfg, factory.create(cfg.arch(), cfg.pageSize(), cfg.locking(), frames(cfg), n + 1, cfg.kernel()));
        if (cfg.mmapUpgrade()) {
            kernel.enableMmapUpgrade();
        }
        kernel.setComm(cfg.workload().name());
        final long framesBefore = kernel.allocatedFrames();
        final KernelCounters before = kernel.counters();
        final Workload.Instance instance = cfg.workload().start(kernel, n, cfg.seed());

        final TaskRecorder[] recs = new TaskRecorder[n];
        final long[] beginNs = new long[n];
        final long[] endNs = new long[n];
        final AtomicLongArray rounds = new AtomicLongArray(n);
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CyclicBarrier go = new CyclicBarrier(n + 1);
        final Stop stop = new Stop();
        final Thread[] threads = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int index = i;
            threads[i] = new Thread(
                    () -> task(cfg, kernel, instance, index, recs, beginNs, endNs, rounds, go, stop, failure),
                    "vmsim-task-" + i);
            threads[i].start();
        }
        final long startNs;
        try {
            go.await();
            startNs = System.nanoTime();
            supervise(cfg, progress, rounds, threads, startNs, stop, failure);
            for (final Thread t : threads) {
                t.join();
            }
        } catch (InterruptedException e) {
            stop.requested = true;
            Thread.currentThread().interrupt();
            throw new RunFailure("interrupted", e);
        } catch (BrokenBarrierException e) {
            joinQuietly(threads);
            throw new RunFailure("a task failed to start: " + describe(failure.get()), failure.get());
        }
        if (failure.get() != null) {
            throw new RunFailure(cfg.workload().name() + ": " + describe(failure.get()), failure.get());
        }
        // Every task has been joined: nothing runs on the machine any more, so its memory may go.
        try {
            final double own = instance.faultsPerSec().orElse(Double.NaN);
            exitKilledProcess(kernel, recs);
            instance.finish();
            progress.update(1.0);
            final double hostSeconds = (System.nanoTime() - startNs) / 1e9;
            return merge(cfg, kernel, recs, beginNs, endNs, rounds, before, framesBefore, own, Map.of(), hostSeconds);
        } finally {
            kernel.close();
        }
    }

    /**
     * The run's memory and swap: --mem and --swap, else the workload's own (a memory-pressure
     * workload asks for less memory than its working set, and for swap), else none.
     */
    static MemoryLimits limits(final RunConfig cfg) {
        final MemoryLimits asked = cfg.memory();
        final Workload w = cfg.workload();
        return new MemoryLimits(
                asked.memBytes() > 0 ? asked.memBytes() : w.memBytes(cfg.threads(), cfg.pageSize()),
                asked.swapBytes() > 0 ? asked.swapBytes() : w.swapBytes(cfg.threads(), cfg.pageSize()));
    }

    /** The run's machine size: its memory in frames, or what the workload touches. */
    private static long frames(final RunConfig cfg) {
        return limits(cfg).frames(cfg.workload().frames(cfg.threads(), cfg.pageSize()), cfg.pageSize());
    }

    /**
     * Memory pressure before any task runs: the OOM killer when memory is limited (a machine sized to
     * the workload never needs it), swapon of the swap device. Closes the kernel if either fails.
     */
    private static SimKernel swapon(final RunConfig cfg, final SimKernel kernel) {
        final MemoryLimits limits = limits(cfg);
        try {
            if (limits.memBytes() > 0) {
                kernel.enableOomKiller();
            }
            final SwapParams p = limits.swapParams(cfg.pageSize());
            if (p != null) {
                kernel.swapon(p);
            }
        } catch (RuntimeException e) {
            kernel.close();
            throw e;
        }
        return kernel;
    }

    /**
     * After every task has ended: if SIGKILL stopped any of them (the OOM killer chose the run's
     * process, and its SIGKILL went to all its tasks), the process has exited, and exit_mmap unmaps
     * its memory, including what a task mapped in the round the kill cut short.
     */
    private static void exitKilledProcess(final SimKernel kernel, final TaskRecorder[] recs) {
        for (final TaskRecorder r : recs) {
            if (r != null && r.killed()) {
                kernel.unmapAll();
                return;
            }
        }
    }

    private static void task(
            final RunConfig cfg,
            final SimKernel kernel,
            final Workload.Instance instance,
            final int index,
            final TaskRecorder[] recs,
            final long[] beginNs,
            final long[] endNs,
            final AtomicLongArray rounds,
            final CyclicBarrier go,
            final Stop stop,
            final AtomicReference<Throwable> failure) {
        try {
            final TaskRecorder rec = new TaskRecorder(kernel, kernel.newTask());
            recs[index] = rec;
            final Workload.TaskLoop loop = instance.task(index, rec);
            go.await();
            rounds(cfg, loop, index, beginNs, endNs, rounds, null, stop, System::nanoTime, Long.MAX_VALUE);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt(); // keep the interrupt for whoever owns this thread
            fail(e, failure, stop, go);
        } catch (Throwable t) {
            fail(t, failure, stop, go);
        }
    }

    /** The first failure ends the run: every other task stops at its next round or barrier. */
    private static void fail(
            final Throwable t, final AtomicReference<Throwable> failure, final Stop stop, final CyclicBarrier go) {
        failure.compareAndSet(null, t);
        stop.requested = true;
        go.reset();
    }

    /**
     * A task's rounds: until its iteration bound, or until {@code now} passes {@code limitNs} or a
     * stop is requested; the begin and end times on {@code now}'s clock; then the loop's finish.
     */
    private static void rounds(
            final RunConfig cfg,
            final Workload.TaskLoop loop,
            final int index,
            final long[] beginNs,
            final long[] endNs,
            final AtomicLongArray rounds,
            final AtomicLongArray clocks,
            final Stop stop,
            final LongSupplier now,
            final long limitNs) {
        beginNs[index] = now.getAsLong();
        final long bound = cfg.iterations();
        long done = 0;
        try {
            while (bound > 0 ? done < bound : !stop.requested && now.getAsLong() < limitNs) {
                loop.round();
                rounds.lazySet(index, ++done);
                if (clocks != null) {
                    clocks.lazySet(index, now.getAsLong());
                }
                if (stop.requested) {
                    break;
                }
            }
        } catch (final TaskKilled killed) {
            // do_exit on SIGKILL: the task runs no more user code (no loop.finish); the signal is
            // consumed (the interrupt cleared), and the process's memory goes with its exit
            // (exitKilledProcess). The other tasks and the run go on.
            Thread.interrupted();
            endNs[index] = now.getAsLong();
            return;
        }
        endNs[index] = now.getAsLong();
        loop.finish();
    }

    private static void supervise(
            final RunConfig cfg,
            final Progress progress,
            final AtomicLongArray rounds,
            final Thread[] threads,
            final long startNs,
            final Stop stop,
            final AtomicReference<Throwable> failure)
            throws InterruptedException {
        final long limitNs =
                cfg.duration() == null ? Long.MAX_VALUE : cfg.duration().toNanos();
        for (; ; ) {
            final long elapsed = System.nanoTime() - startNs;
            if (elapsed >= limitNs || failure.get() != null) {
                stop.requested = true;
                return;
            }
            if (cfg.duration() != null) {
                progress.update((double) elapsed / limitNs);
            } else {
                progress.update(roundsFraction(cfg, rounds));
            }
            final long waitMs = Math.max(1, Math.min(TICK_MS, (limitNs - elapsed) / 1_000_000));
            threads[threads.length - 1].join(waitMs);
            if (allDone(threads)) {
                return;
            }
        }
    }

    private static boolean allDone(final Thread[] threads) {
        for (final Thread t : threads) {
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    private static RunResult merge(
            final RunConfig cfg,
            final SimKernel kernel,
            final TaskRecorder[] recs,
            final long[] beginNs,
            final long[] endNs,
            final AtomicLongArray rounds,
            final KernelCounters before,
            final long framesBefore,
            final double workloadFaultsPerSec,
            final Map<String, Long> attribution,
            final double hostSeconds) {
        final Histogram faults = new Histogram(3);
        final Histogram syscalls = new Histogram(3);
        long touches = 0;
        long calls = 0;
        long signals = 0;
        long errors = 0;
        long totalRounds = 0;
        long firstBegin = Long.MAX_VALUE;
        long lastEnd = Long.MIN_VALUE;
        int firstSignal = 0;
        final java.util.List<Integer> killed = new java.util.ArrayList<>();
        for (int i = 0; i < recs.length; i++) {
            final TaskRecorder r = recs[i];
            if (r.killed()) {
                killed.add(i);
            }
            faults.add(r.faultNs());
            syscalls.add(r.syscallNs());
            touches += r.touches();
            calls += r.syscalls();
            if (r.signals() > 0 && signals == 0) {
                firstSignal = r.firstSignal();
            }
            signals += r.signals();
            errors += r.syscallErrors();
            totalRounds += rounds.get(i);
            firstBegin = Math.min(firstBegin, beginNs[i]);
            lastEnd = Math.max(lastEnd, endNs[i]);
        }
        final KernelCounters after = kernel.counters();
        final Map<String, Long> meminfo = kernel.meminfo();
        kernel.validate();
        final long ptBefore = Math.max(0, before.pageTableFrames());
        final long ptAfter = Math.max(0, after.pageTableFrames());
        final long leaked = (kernel.allocatedFrames() - ptAfter) - (framesBefore - ptBefore);
        return new RunResult(
                cfg,
                Math.max(1, lastEnd - firstBegin) / 1e9,
                totalRounds,
                touches,
                calls,
                signals,
                firstSignal,
                errors,
                Latency.of(faults),
                Latency.of(syscalls),
                after.minus(before),
                leaked,
                workloadFaultsPerSec,
                meminfo,
                attribution,
                hostSeconds,
                killed);
    }

    /**
     * Runs {@code cfg} under the virtual clock: a {@link VirtualScheduler} charging the profile's
     * cost model, earliest-clock first; every task starts at virtual time 0 (no start barrier is
     * needed), and a duration bound is virtual time. The calling thread only waits; the result is a
     * function of the configuration alone (the host's speed changes only {@code hostSeconds}).
     */
    private RunResult runVirtual(final RunConfig cfg, final Progress progress) {
        final int n = cfg.threads();
        final VirtualScheduler clock =
                new VirtualScheduler(CostModels.of(cfg.machine()), SchedulePolicy.earliestClock());
        final SimKernel kernel = swapon(
                cfg,
                factory.create(cfg.arch(), cfg.pageSize(), cfg.locking(), frames(cfg), n + 1, cfg.kernel(), clock));
        final long hostStart = System.nanoTime();
        try {
            if (cfg.mmapUpgrade()) {
                kernel.enableMmapUpgrade();
            }
            kernel.setComm(cfg.workload().name());
            final long framesBefore = kernel.allocatedFrames();
            final KernelCounters before = kernel.counters();
            final Workload.Instance instance = cfg.workload().start(kernel, n, cfg.seed());
            final TaskRecorder[] recs = new TaskRecorder[n];
            final long[] beginNs = new long[n];
            final long[] endNs = new long[n];
            final AtomicLongArray rounds = new AtomicLongArray(n);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Stop stop = new Stop();
            final long limitNs =
                    cfg.duration() == null ? Long.MAX_VALUE : cfg.duration().toNanos();
            final AtomicLongArray clocks = new AtomicLongArray(n);
            for (int i = 0; i < n; i++) {
                final int index = i;
                clock.spawn(
                        "cpu" + i,
                        () -> virtualTask(
                                cfg, kernel, instance, index, recs, beginNs, endNs, rounds, clocks, stop, failure,
                                clock, limitNs));
            }
            try {
                clock.run(() -> progress.update(virtualFraction(cfg, rounds, clocks, limitNs)), TICK_MS);
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
            }
            if (failure.get() != null) {
                throw new RunFailure(cfg.workload().name() + ": " + describe(failure.get()), failure.get());
            }
            final double own = instance.faultsPerSec().orElse(Double.NaN);
            exitKilledProcess(kernel, recs);
            instance.finish();
            progress.update(1.0);
            final double hostSeconds = (System.nanoTime() - hostStart) / 1e9;
            return merge(
                    cfg,
                    kernel,
                    recs,
                    beginNs,
                    endNs,
                    rounds,
                    before,
                    framesBefore,
                    own,
                    clock.attribution(),
                    hostSeconds);
        } finally {
            kernel.close();
        }
    }

    private static void virtualTask(
            final RunConfig cfg,
            final SimKernel kernel,
            final Workload.Instance instance,
            final int index,
            final TaskRecorder[] recs,
            final long[] beginNs,
            final long[] endNs,
            final AtomicLongArray rounds,
            final AtomicLongArray clocks,
            final Stop stop,
            final AtomicReference<Throwable> failure,
            final VirtualScheduler clock,
            final long limitNs) {
        try {
            final TaskRecorder rec = new TaskRecorder(kernel, kernel.newTask());
            recs[index] = rec;
            final Workload.TaskLoop loop = instance.task(index, rec);
            rounds(cfg, loop, index, beginNs, endNs, rounds, clocks, stop, clock::now, limitNs);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            stop.requested = true;
        }
    }

    /**
     * How far a virtual run is, as the host runs' {@link #supervise} measures it: rounds done of the
     * rounds asked for, or the virtual time the slowest task had reached at its last round's end of
     * the duration asked for. Read on the runner's thread from what the tasks publish ({@code
     * lazySet}: a display may lag a round, never sees a torn value).
     */
    static double virtualFraction(
            final RunConfig cfg, final AtomicLongArray rounds, final AtomicLongArray clocks, final long limitNs) {
        if (cfg.duration() == null) {
            return roundsFraction(cfg, rounds);
        }
        long slowest = Long.MAX_VALUE;
        for (int i = 0; i < clocks.length(); i++) {
            slowest = Math.min(slowest, clocks.get(i));
        }
        // A task's last round may end past the bound (a round is not cut short), so the slowest
        // clock can pass limitNs: progress stops at 1 rather than going past it and back.
        return Math.min(1.0, (double) slowest / limitNs);
    }

    /** Rounds done of the rounds asked for ({@code --iterations}), over every task. */
    private static double roundsFraction(final RunConfig cfg, final AtomicLongArray rounds) {
        long sum = 0;
        for (int i = 0; i < rounds.length(); i++) {
            sum += rounds.get(i);
        }
        return (double) sum / (cfg.iterations() * rounds.length());
    }

    private static void joinQuietly(final Thread[] threads) {
        for (final Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static String describe(final Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** The stop request: volatile so a task sees it at its next check; written by any thread. */
    private static final class Stop {
        volatile boolean requested;
    }

    /** A run that could not complete: a task threw, or a post-run check failed. */
    public static final class RunFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public RunFailure(final String message, final Throwable cause) {
            super(message, cause);
        }
    }
}
