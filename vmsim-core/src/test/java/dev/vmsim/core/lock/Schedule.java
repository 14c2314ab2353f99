package dev.vmsim.core.lock;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A controlled scheduler over {@link LockHooks}: a test names (thread, hook point) pairs at which
 * that thread stops; the test waits for it to arrive, does its own steps, then lets it go. No
 * sleeps: latches only, and a bounded spin for conditions such as "thread T is parked".
 */
public final class Schedule implements AutoCloseable {
    /** One stop: the thread counts down {@code arrived} and waits on {@code go}. */
    public static final class Gate {
        final CountDownLatch arrived = new CountDownLatch(1);
        final CountDownLatch go = new CountDownLatch(1);

        public void awaitArrived() {
            await(arrived);
        }

        public void release() {
            go.countDown();
        }
    }

    private final Map<String, Gate> gates = new ConcurrentHashMap<>();

    public Schedule() {
        LockHooks.install(point -> {
            final Gate g = gates.remove(key(Thread.currentThread(), point));
            if (g != null) {
                g.arrived.countDown();
                await(g.go);
            }
        });
    }

    /** Thread {@code t} will stop the next time it passes {@code point}. */
    public Gate stopAt(final Thread t, final String point) {
        final Gate g = new Gate();
        gates.put(key(t, point), g);
        return g;
    }

    private static String key(final Thread t, final String point) {
        return t.getId() + "@" + point;
    }

    @Override
    public void close() {
        LockHooks.install(null);
        for (final Gate g : gates.values()) {
            g.release();
        }
    }

    public static void await(final CountDownLatch l) {
        try {
            if (!l.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("schedule: timed out waiting for a latch");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("schedule: interrupted", e);
        }
    }

    /** Spins (yielding) until {@code cond} holds; fails after 20 s. */
    @SuppressWarnings("ThreadPriorityCheck") // the yield is the point: see the loop
    public static void until(final String what, final BooleanSupplier cond) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("schedule: timed out waiting for " + what);
            }
            // Yield, never park: the waiting thread may own a lock whose spinners check that its owner
            // is running (owner_on_cpu); a parked owner would send them to the wait queue instead.
            Thread.yield();
        }
    }

    /** Until {@code t} is parked (WAITING), e.g. in an rwsem queue or on vma_writer_wait. */
    public static void untilParked(final Thread t) {
        until(t.getName() + " parked", () -> t.getState() == Thread.State.WAITING);
    }

    /** Starts a thread that records what it throws. */
    public static final class Actor extends Thread {
        public volatile Throwable failure;
        public volatile Object result;
        private final ThrowingSupplier body;

        public interface ThrowingSupplier {
            Object get() throws Exception;
        }

        public Actor(final String name, final ThrowingSupplier body) {
            super(name);
            this.body = body;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                result = body.get();
            } catch (Throwable t) {
                failure = t;
            } finally {
                dev.vmsim.core.sync.Lockdep.resetCurrentThread();
            }
        }

        /** Joins and rethrows what the body threw. */
        public Object joinResult() {
            try {
                join(TimeUnit.SECONDS.toMillis(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (isAlive()) {
                final StringBuilder sb = new StringBuilder(getName() + " did not finish:");
                for (final StackTraceElement e : getStackTrace()) {
                    sb.append("\n    at ").append(e);
                }
                throw new AssertionError(sb.toString());
            }
            if (failure != null) {
                throw new AssertionError(getName() + " failed: " + failure, failure);
            }
            return result;
        }
    }
}
