package dev.vmsim.core.clock;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.function.Predicate;

/**
 * The stepping API: runs a {@link VirtualScheduler}'s machine until the next event of a kind, then
 * holds it still so that the caller can look at it: each CPU's position ({@link #cpus()}), and any
 * kernel object the caller holds (a lock's count, owner and waiters through {@link
 * dev.vmsim.core.sync.RwSemaphore}'s queries, an mm's VMAs, a CPU's TLB through its MMU). While the
 * machine is held no simulated task runs, so those reads see one consistent state.
 *
 * <pre>
 * VirtualScheduler s = new VirtualScheduler(model, SchedulePolicy.earliestClock());
 * s.spawn("cpu0", () -> ...);  s.spawn("cpu1", () -> ...);
 * Stepper st = new Stepper(s);
 * Stepper.Position p = st.runUntil(Stepper.Kind.PARK);   // the first task to block
 * for (Stepper.CpuState c : st.cpus()) System.out.println(c);
 * st.runToEnd();
 * </pre>
 *
 * <p>One controlling thread; the machine runs on the tasks' threads. The hand-over between the
 * controller and the held task is a {@link SynchronousQueue}, so everything the tasks wrote
 * happens-before the controller's reads, and the controller's writes happen-before the tasks resume.
 */
public final class Stepper {
    /** The kinds of event the machine can be stopped at. */
    public enum Kind {
        /** An instruction boundary (a user access, a system-call entry). */
        POINT,
        /** A named lock-protocol point ({@link dev.vmsim.core.lock.LockHooks}), e.g. "vma_start_read:after_inc". */
        HOOK,
        /** An access to a modelled cache line (an rwsem's count, vm_refcnt, a page-table lock). */
        LINE,
        /** One step of a spin-wait loop. */
        SPIN,
        /** A task about to block; {@code what} names the wait. */
        PARK,
        /** A task has ended. */
        DONE
    }

    /** Where the machine stopped: which CPU, at what event, at which virtual time. */
    public record Position(int cpu, String cpuName, Kind kind, String what, long clockNs) {}

    /** One CPU as seen while the machine is held. */
    public record CpuState(
            int id, String name, VirtualCpu.State state, long clockNs, String blocker, String lastPoint) {}

    private static final Position END = new Position(-1, "", Kind.DONE, "end", -1);

    private final VirtualScheduler scheduler;
    private final SynchronousQueue<Position> held = new SynchronousQueue<>();
    private final SynchronousQueue<Boolean> resume = new SynchronousQueue<>();
    /** Written by the controller before resuming; read by the tasks after the hand-over. */
    private Predicate<Position> stopAt = p -> true;

    private boolean started;
    private boolean holding;
    private boolean ended;
    private volatile Throwable failure;

    /** Steps {@code scheduler}, which must have its tasks spawned and not have run. */
    public Stepper(final VirtualScheduler scheduler) {
        this.scheduler = scheduler;
        scheduler.setListener(this::event);
    }

    /** Runs until the next event of {@code kind}; null when every task has ended first. */
    public Position runUntil(final Kind kind) {
        return runUntil(p -> p.kind() == kind);
    }

    /**
     * Runs until the next event {@code stop} accepts; returns it with the machine held, or null when
     * every task ended first. Rethrows a task's failure (or the deadlock) at the end.
     */
    public Position runUntil(final Predicate<Position> stop) {
        if (ended) {
            return null;
        }
        stopAt = stop;
        try {
            if (!started) {
                started = true;
                final Thread watcher = new Thread(this::watch, "vmsim-stepper");
                watcher.setDaemon(true);
                scheduler.start();
                watcher.start();
            } else if (holding) {
                resume.put(Boolean.TRUE);
            }
            final Position p = held.take();
            holding = p != END;
            if (p == END) {
                ended = true;
                final Throwable t = failure;
                if (t instanceof RuntimeException r) {
                    throw r;
                }
                if (t instanceof Error e) {
                    throw e;
                }
                return null;
            }
            return p;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stepping", e);
        }
    }

    /** Runs every task to its end without stopping again. */
    public void runToEnd() {
        runUntil(p -> false);
    }

    /** Each CPU's position; call while the machine is held (after {@link #runUntil} returned an event). */
    public List<CpuState> cpus() {
        final List<CpuState> out = new ArrayList<>();
        for (final VirtualCpu c : scheduler.cpus()) {
            out.add(new CpuState(c.id, c.name, c.state, c.clockNs(), c.blocker, c.lastPoint));
        }
        return out;
    }

    /** Runs on the held task's thread: hands the position over and waits to be resumed. */
    private void event(final VirtualCpu cpu, final Kind kind, final String what) {
        final Position p = new Position(cpu.id, cpu.name, kind, what, cpu.clockNs());
        if (!stopAt.test(p)) {
            return;
        }
        try {
            held.put(p);
            resume.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watch() {
        try {
            scheduler.join();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        try {
            held.put(END);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
