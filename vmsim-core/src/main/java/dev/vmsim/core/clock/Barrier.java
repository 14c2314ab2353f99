package dev.vmsim.core.clock;

import java.util.ArrayList;

/**
 * A reusable barrier for simulated tasks that waits through the {@link Platform}: on the host clock
 * it parks threads, under the virtual clock it parks simulated CPUs, so workloads that synchronise
 * their threads (pft's {@code comm->go}) work under both clocks. The last party to arrive runs the
 * barrier action before any party is released, with every other party parked.
 *
 * <p>Guarded by its own monitor, which is never held across a park or the action (so under the
 * virtual clock no preemption point falls inside it). {@code generation} is volatile: a released
 * party reads it without the monitor; the action's writes happen-before the release through the
 * monitor and that volatile.
 */
public final class Barrier {
    private final Runnable action;
    private int parties;
    private int arrived;
    private volatile int generation;
    private final ArrayList<Thread> waiting = new ArrayList<>();

    /** A barrier of {@code parties} with {@code action} (may be null) run by the last arriver. */
    public Barrier(final int parties, final Runnable action) {
        this.parties = parties;
        this.action = action;
    }

    /** Arrives and waits until every registered party has arrived. */
    public void arriveAndAwait() {
        final Platform p = Platform.current();
        final int gen;
        final boolean last;
        synchronized (this) {
            gen = generation;
            last = ++arrived >= parties;
            if (!last) {
                waiting.add(Thread.currentThread());
            }
        }
        if (last) {
            advance(p);
            return;
        }
        while (generation == gen) {
            p.park(this);
        }
    }

    /** Leaves the barrier for good; if everyone else has arrived, releases them. */
    public void arriveAndDeregister() {
        final boolean last;
        synchronized (this) {
            parties--;
            last = parties > 0 && arrived >= parties;
        }
        if (last) {
            advance(Platform.current());
        }
    }

    private void advance(final Platform p) {
        if (action != null) {
            action.run();
        }
        final Thread[] release;
        synchronized (this) {
            arrived = 0;
            release = waiting.toArray(new Thread[0]);
            waiting.clear();
            generation++;
        }
        for (final Thread t : release) {
            p.unpark(t);
        }
    }

    /** Parties still registered. */
    public synchronized int parties() {
        return parties;
    }
}
