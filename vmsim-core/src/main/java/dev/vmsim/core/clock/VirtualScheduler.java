package dev.vmsim.core.clock;

import dev.vmsim.core.task.Task;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The virtual clock: every simulated CPU has a clock in ns, and one simulated task runs at a time.
 * Tasks are still host threads (the kernel code blocks, spins and hands off as on the host; platform
 * threads, or virtual threads on Java 21+, see {@link Carriers}), but a task runs only while it holds
 * the baton; at each preemption point ({@link Platform}) the
 * {@link SchedulePolicy} picks who runs next, and the baton passes with a volatile store and an
 * unpark. A task that parks gives the baton to the next runnable CPU, so a blocked task never stops
 * the machine; when no CPU is runnable and some are parked, every parked task gets a {@link
 * SimulationDeadlock}.
 *
 * <p><b>Costs.</b> {@link #charge} adds a {@link CostModel} parameter to the running CPU's clock.
 * A cache-line access ({@link #rmw}, {@link #store}, {@link #load}) waits until the line's current
 * write is over (a line serves one writer at a time), then pays the transfer from the CPU that
 * holds it (SMT / LLC / socket / remote, from the topology), or memory's latency for a line nobody
 * holds. A read that fetches the line is a transaction too: the next access waits for it. A CPU
 * that was already waiting when the line became busy is handed it on after {@code handoff_queued}
 * instead of a full transfer when that is shorter (machine-profiles.md §4: back-to-back transfers
 * to queued requesters are faster than a ping-pong round trip). Blocking charges a
 * context switch; a wake-up makes the wakee runnable at the waker's clock plus {@code
 * wakeup_latency}, and the gap is the wait's.
 *
 * <p><b>Memory ordering.</b> All state here is plain and touched only by the baton holder; the
 * holder's last write happens-before the next holder's reads through the volatile {@link
 * VirtualCpu#go} store and load. The one exception is {@link #active}, a count of running
 * schedulers read by {@link Platform#current}.
 *
 * <p><b>Departures.</b> Another CPU can run only at a preemption point, never in between, so a
 * sequence of plain memory accesses between points is atomic here (the host clock keeps finding
 * those races). A TLB shootdown charges the initiator, not the interrupted CPUs' clocks.
 */
public final class VirtualScheduler implements Platform {
    /** Virtual schedulers running in this JVM; 0 lets {@link Platform#current} skip the task lookup. */
    static volatile int active;

    private final CostModel model;
    private final SchedulePolicy policy;
    private final List<VirtualCpu> cpus = new ArrayList<>();
    private final Map<Thread, VirtualCpu> byThread = new HashMap<>();
    private final RunQueue queue = new RunQueue();
    private final Map<String, LineStats> lines = new TreeMap<>();
    private final Map<String, Long> waits = new TreeMap<>();
    /** The CPU holding the baton. */
    private VirtualCpu running;

    private long steps;
    /** Hand-overs of the baton from one host thread to another (each a park and an unpark). */
    private long switches;

    private boolean started;
    private boolean deadlocked;
    private String deadlockReport;
    private Throwable failure;
    /** Called at every preemption point with the CPU about to run on (the stepping API). */
    private volatile PointListener listener;

    /** Per line name: what the line's accesses cost. */
    public static final class LineStats {
        long accesses;
        long transfers;
        long transferPs;
        long waitPs;

        public long accesses() {
            return accesses;
        }

        public long transfers() {
            return transfers;
        }

        public long transferNs() {
            return transferPs / 1000;
        }

        public long waitNs() {
            return waitPs / 1000;
        }
    }

    /** Observes events (see {@link Stepper}). Runs on the baton holder's thread, before the event. */
    interface PointListener {
        void at(VirtualCpu cpu, Stepper.Kind kind, String what);
    }

    public VirtualScheduler(final CostModel model, final SchedulePolicy policy) {
        this.model = model;
        this.policy = policy;
    }

    public CostModel model() {
        return model;
    }

    public SchedulePolicy policy() {
        return policy;
    }

    /** Adds a CPU running {@code body}; CPUs get ids 0, 1, ... in the order added. Before {@link #run}. */
    public VirtualCpu spawn(final String name, final Runnable body) {
        if (started) {
            throw new IllegalStateException("spawn after run");
        }
        final VirtualCpu c = new VirtualCpu(cpus.size(), name, body);
        c.thread = Carriers.unstarted(name, () -> taskMain(c));
        cpus.add(c);
        byThread.put(c.thread, c);
        return c;
    }

    /** The CPUs, in id order. */
    public List<VirtualCpu> cpus() {
        return Collections.unmodifiableList(cpus);
    }

    /**
     * Runs every spawned task to its end; returns on the calling (non-simulated) thread. Rethrows
     * the first failure of a task (an unchecked exception or error), or the deadlock.
     */
    public void run() {
        start();
        join();
    }

    /**
     * As {@link #run()}, and calls {@code tick} on the calling thread about every {@code tickMs} while
     * the machine runs (a progress display). {@code tick} must not touch the machine: it runs
     * concurrently with the baton holder.
     */
    public void run(final Runnable tick, final long tickMs) {
        start();
        try {
            for (final VirtualCpu c : cpus) {
                while (c.thread.isAlive()) {
                    tick.run();
                    c.thread.join(tickMs);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // join() below reports it
        }
        join();
    }

    void start() {
        if (started) {
            throw new IllegalStateException("already run");
        }
        started = true;
        policy.register(cpus);
        for (final VirtualCpu c : cpus) {
            queue.add(c);
        }
        synchronized (VirtualScheduler.class) {
            active++;
        }
        for (final VirtualCpu c : cpus) {
            c.thread.start();
        }
        final VirtualCpu first = policy.choose(null, queue, steps);
        if (first != null) {
            queue.remove(first);
            handTo(first);
        }
    }

    void join() {
        try {
            for (final VirtualCpu c : cpus) {
                c.thread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the virtual machine ran", e);
        } finally {
            synchronized (VirtualScheduler.class) {
                active--;
            }
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private void taskMain(final VirtualCpu me) {
        awaitBaton(me);
        final Task task = Task.current();
        task.platform = this;
        try {
            me.body.run();
        } catch (Throwable t) {
            if (failure == null || (failure instanceof SimulationDeadlock && !(t instanceof SimulationDeadlock))) {
                failure = t;
            }
        } finally {
            task.platform = null;
            finish(me);
        }
    }

    private void finish(final VirtualCpu me) {
        notify(me, Stepper.Kind.DONE, "done");
        me.state = VirtualCpu.State.DONE;
        me.endPs = me.clockPs;
        VirtualCpu next = pick(null);
        if (next == null && anyParked()) {
            declareDeadlock(null);
            next = pick(null);
        }
        if (next != null) {
            handTo(next);
        }
    }

    private boolean anyParked() {
        for (final VirtualCpu c : cpus) {
            if (c.state == VirtualCpu.State.PARKED) {
                return true;
            }
        }
        return false;
    }

    /**
     * No CPU can run: records who waits on what, and makes every parked CPU but {@code me} runnable
     * again; each then throws {@link SimulationDeadlock} from its park, one at a time as before.
     */
    private void declareDeadlock(final VirtualCpu me) {
        final StringBuilder s = new StringBuilder();
        for (final VirtualCpu c : cpus) {
            if (c.state == VirtualCpu.State.PARKED) {
                s.append(s.length() == 0 ? "" : "; ")
                        .append(c.name)
                        .append(" on ")
                        .append(c.blocker)
                        .append(" after ")
                        .append(c.lastPoint);
            }
        }
        if (!deadlocked) {
            deadlocked = true;
            deadlockReport = "no CPU can run: " + s;
        }
        for (final VirtualCpu c : cpus) {
            if (c.state == VirtualCpu.State.PARKED) {
                c.state = VirtualCpu.State.RUNNABLE;
                if (c != me) {
                    queue.add(c);
                }
            }
        }
    }

    /** The deadlock's report, or null if none happened. */
    public String deadlock() {
        return deadlockReport;
    }

    // ---------------------------------------------------------------- the baton

    private void handTo(final VirtualCpu next) {
        switches++;
        running = next;
        next.go = true; // volatile: publishes everything the previous holder wrote
        LockSupport.unpark(next.thread);
    }

    private void awaitBaton(final VirtualCpu me) {
        while (!me.go) {
            LockSupport.park(this);
        }
    }

    /** Passes the baton to {@code next} (not me) and waits until it comes back. */
    private void switchTo(final VirtualCpu me, final VirtualCpu next) {
        me.go = false;
        handTo(next);
        awaitBaton(me);
    }

    /** The next CPU by the policy, taken off the queue; {@code current} stays off it. */
    private VirtualCpu pick(final VirtualCpu current) {
        steps++;
        final VirtualCpu next = policy.choose(current, queue, steps);
        if (next != null && next != current) {
            queue.remove(next);
        }
        return next;
    }

    private void reschedule(final Stepper.Kind kind, final String point) {
        final VirtualCpu me = running;
        me.lastPoint = point;
        notify(me, kind, point);
        final VirtualCpu next = pick(me);
        if (next != me) {
            queue.add(me);
            switchTo(me, next);
        }
    }

    private void notify(final VirtualCpu me, final Stepper.Kind kind, final String what) {
        final PointListener l = listener;
        if (l != null) {
            l.at(me, kind, what);
        }
    }

    void setListener(final PointListener l) {
        this.listener = l;
    }

    /** The CPU holding the baton (for the stepping API and tests). */
    public VirtualCpu running() {
        return running;
    }

    /** Preemption points passed so far. */
    public long steps() {
        return steps;
    }

    /** Hand-overs of the baton so far: the points where another CPU ran next, each a host thread switch. */
    public long switches() {
        return switches;
    }

    // ---------------------------------------------------------------- Platform

    @Override
    public boolean isVirtual() {
        return true;
    }

    @Override
    public long now() {
        return running.clockPs / 1000;
    }

    @Override
    public void park(final Object blocker) {
        final VirtualCpu me = running;
        if (deadlocked) {
            throw new SimulationDeadlock(deadlockReport);
        }
        if (me.permit) {
            me.permit = false;
            return;
        }
        if (me.thread.isInterrupted()) {
            // LockSupport.park returns at once for an interrupted thread. A caller that parks again
            // in a loop must not keep the baton at a standing clock: a spin step, and others run.
            charge(Cost.SPIN_STEP);
            reschedule(Stepper.Kind.SPIN, "interrupted");
            return;
        }
        notify(me, Stepper.Kind.PARK, waitName(blocker));
        me.state = VirtualCpu.State.PARKED;
        me.blocker = waitName(blocker);
        add(me, Cost.CONTEXT_SWITCH, model.ps(Cost.CONTEXT_SWITCH));
        final VirtualCpu next = pick(null);
        if (next == null) {
            declareDeadlock(me); // nobody else can run: we keep the baton and throw
        } else {
            switchTo(me, next);
        }
        me.blocker = null;
        if (deadlocked) {
            throw new SimulationDeadlock(deadlockReport);
        }
    }

    /**
     * The running task's clock jumps to {@code ns} (if it is behind), the gap counted as a wait on
     * {@code blocker}; then a preemption point. A sleeper is not parked: it stays runnable at its
     * later clock, so the earliest-clock policy runs every CPU behind it first and no deadlock is
     * declared while it sleeps.
     */
    @Override
    public void sleepUntil(final long ns, final Object blocker) {
        final VirtualCpu me = running;
        final long ps = ns * 1000;
        if (me.clockPs < ps) {
            waits.merge("wait: " + waitName(blocker), ps - me.clockPs, Long::sum);
            me.clockPs = ps;
        }
        reschedule(Stepper.Kind.POINT, "sleep");
    }

    private static String waitName(final Object blocker) {
        if (blocker instanceof Named n) {
            return n.waitName();
        }
        return blocker == null
                ? "?"
                : blocker instanceof CharSequence
                        ? blocker.toString()
                        : blocker.getClass().getSimpleName();
    }

    /** A blocker that names its wait in the attribution ("MMAP_LOCK"). */
    public interface Named {
        String waitName();
    }

    @Override
    public void unpark(final Thread t) {
        final VirtualCpu v = byThread.get(t);
        if (v == null) {
            LockSupport.unpark(t); // not one of ours
            return;
        }
        if (v.state != VirtualCpu.State.PARKED) {
            if (v.state == VirtualCpu.State.RUNNABLE) {
                v.permit = true;
            }
            return;
        }
        final VirtualCpu waker = running;
        final long wakeAt = waker.clockPs + model.ps(Cost.WAKEUP_LATENCY);
        if (v.clockPs < wakeAt) {
            final long waited = Math.max(0, waker.clockPs - v.clockPs);
            waits.merge("wait: " + v.blocker, waited, Long::sum);
            v.costPs[Cost.WAKEUP_LATENCY.ordinal()] += wakeAt - v.clockPs - waited;
            v.clockPs = wakeAt;
        }
        v.state = VirtualCpu.State.RUNNABLE;
        queue.add(v);
    }

    /** Interrupts {@code t} (a fatal signal) and wakes it if it is parked, as the kernel's signal_wake_up does. */
    public void kill(final Thread t) {
        t.interrupt();
        unpark(t);
    }

    @Override
    public void spinWait() {
        charge(Cost.SPIN_STEP);
        reschedule(Stepper.Kind.SPIN, "spin");
    }

    @Override
    public boolean onCpu(final Thread t) {
        final VirtualCpu v = byThread.get(t);
        return v != null ? v.state == VirtualCpu.State.RUNNABLE : t.getState() == Thread.State.RUNNABLE;
    }

    @Override
    public void preemptionPoint() {
        reschedule(Stepper.Kind.POINT, "point");
    }

    /** A named preemption point (a lock hook), which the stepping API can stop at. */
    public void preemptionPoint(final String name) {
        reschedule(Stepper.Kind.HOOK, name);
    }

    @Override
    public void charge(final Cost cost) {
        add(running, cost, model.ps(cost));
    }

    @Override
    public void charge(final Cost cost, final long times) {
        add(running, cost, model.ps(cost) * times);
    }

    private static void add(final VirtualCpu me, final Cost cost, final long ps) {
        me.clockPs += ps;
        me.costPs[cost.ordinal()] += ps;
    }

    @Override
    public void rmw(final CacheLine line) {
        reschedule(Stepper.Kind.LINE, line.name);
        access(line, true, true);
    }

    @Override
    public void rmwLocked(final CacheLine line) {
        access(line, true, true);
    }

    @Override
    public void store(final CacheLine line) {
        reschedule(Stepper.Kind.LINE, line.name);
        access(line, true, false);
    }

    @Override
    public void storeLocked(final CacheLine line) {
        access(line, true, false);
    }

    @Override
    public void load(final CacheLine line) {
        reschedule(Stepper.Kind.LINE, line.name);
        access(line, false, false);
    }

    private void access(final CacheLine line, final boolean write, final boolean atomic) {
        final VirtualCpu me = running;
        final int id = me.id;
        final long t = me.clockPs;
        final long start = Math.max(t, line.busyUntilPs);
        long transfer;
        if (line.owner == id || (!write && line.isSharer(id))) {
            transfer = 0;
        } else if (line.owner < 0) {
            transfer = model.memoryPs(id, line.home);
        } else {
            transfer = model.transferPs(line.owner, id);
            if (t < line.busyUntilPs) {
                transfer = Math.min(transfer, model.ps(Cost.HANDOFF_QUEUED)); // handed on to a waiter
            }
        }
        if (write && line.sharers != null) {
            transfer = Math.max(transfer, invalidation(line, id));
        }
        final long atomicPs = atomic ? model.ps(Cost.ATOMIC_LOCAL) : 0;
        me.clockPs = start + transfer + atomicPs;
        me.costPs[Cost.ATOMIC_LOCAL.ordinal()] += atomicPs;
        LineStats s = line.stats;
        if (s == null || line.statsOf != this) {
            s = lines.computeIfAbsent(line.name, k -> new LineStats());
            line.stats = s;
            line.statsOf = this;
        }
        s.accesses++;
        s.waitPs += start - t;
        if (transfer > 0) {
            s.transfers++;
            s.transferPs += transfer;
        }
        if (write) {
            line.owner = id;
            line.sharers = null;
            line.busyUntilPs = me.clockPs;
            if (line.home < 0) {
                line.home = model.node(id);
            }
        } else {
            line.addSharer(id);
            if (transfer > 0) {
                // A read that fetched the line is a coherence transaction like a write's: the line's
                // home serves one at a time, so the next access waits for this one.
                line.busyUntilPs = me.clockPs;
            }
        }
    }

    /** The slowest invalidation of the line's shared copies on other CPUs. */
    private long invalidation(final CacheLine line, final int id) {
        long worst = 0;
        final long[] s = line.sharers;
        for (int w = 0; w < s.length; w++) {
            long bits = s[w];
            while (bits != 0) {
                final int cpu = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                if (cpu != id) {
                    worst = Math.max(worst, model.transferPs(cpu, id));
                }
            }
        }
        return worst;
    }

    @Override
    public void tlbShootdown(final long localPages, final int remotes) {
        if (localPages != 0) {
            charge(Cost.TLB_INVALIDATE, localPages < 0 ? 1 : localPages);
        }
        if (remotes > 0) {
            charge(Cost.IPI_SEND);
            charge(Cost.IPI_RECEIVE, remotes);
            charge(Cost.TLB_INVALIDATE); // the last target's invalidation before its acknowledgement
        }
    }

    // ---------------------------------------------------------------- attribution

    /** Where the virtual time went, in ns, summed over CPUs, by mechanism; deterministic order. */
    public Map<String, Long> attribution() {
        final Map<String, Long> out = new TreeMap<>();
        final long end = endPs();
        for (final Cost cost : Cost.values()) {
            long ps = 0;
            for (final VirtualCpu c : cpus) {
                ps += c.costPs[cost.ordinal()];
            }
            if (ps > 0) {
                out.put(cost.parameter(), ps / 1000);
            }
        }
        for (final Map.Entry<String, LineStats> e : lines.entrySet()) {
            if (e.getValue().transferPs > 0) {
                out.put("line transfer: " + e.getKey(), e.getValue().transferPs / 1000);
            }
            if (e.getValue().waitPs > 0) {
                out.put("line wait: " + e.getKey(), e.getValue().waitPs / 1000);
            }
        }
        waits.forEach((k, v) -> out.put(k, v / 1000));
        long idle = 0;
        for (final VirtualCpu c : cpus) {
            idle += end - endOf(c);
        }
        out.put("idle", idle / 1000);
        return out;
    }

    /** The cache-line statistics by line name. */
    public Map<String, LineStats> lineStats() {
        return Collections.unmodifiableMap(lines);
    }

    /** The latest clock of any CPU, in ns: how long the machine ran. */
    public long elapsedNs() {
        return endPs() / 1000;
    }

    private long endPs() {
        long end = 0;
        for (final VirtualCpu c : cpus) {
            end = Math.max(end, endOf(c));
        }
        return end;
    }

    /** A CPU's clock when its task ended, or now if it has not. */
    private static long endOf(final VirtualCpu c) {
        return c.state == VirtualCpu.State.DONE ? c.endPs : c.clockPs;
    }
}
