package dev.vmsim.core.clock;

/**
 * One simulated CPU of a {@link VirtualScheduler}: the task it runs (a platform thread), its clock
 * and its state. Fields are written only by the thread holding the scheduler's baton (see {@link
 * VirtualScheduler}), except {@link #go}, the baton itself.
 */
public final class VirtualCpu {
    /** Where a CPU is. */
    public enum State {
        /** Waiting for the baton, or holding it. */
        RUNNABLE,
        /** Blocked in {@link Platform#park}. */
        PARKED,
        /** Its task has returned. */
        DONE
    }

    final int id;
    final String name;
    final Runnable body;
    Thread thread;
    State state = State.RUNNABLE;
    long clockPs;
    /** The clock when the task ended. */
    long endPs;
    /** LockSupport's permit: an unpark that came before the park. */
    boolean permit;
    /** What the CPU is parked on, for attribution and inspection; null while not parked. */
    String blocker;
    /** The baton: set by the CPU handing over, read by this CPU's thread. */
    volatile boolean go;
    /** Position in the run queue's heap; -1 when not queued. */
    int heapIndex = -1;
    /** PCT priority (higher runs first). */
    int priority;
    /** ps charged per {@link Cost}. */
    final long[] costPs = new long[Cost.values().length];
    /** The last preemption point passed (a lock hook's name, or the kind of access), for inspection. */
    String lastPoint = "start";

    VirtualCpu(final int id, final String name, final Runnable body) {
        this.id = id;
        this.name = name;
        this.body = body;
    }

    public int id() {
        return id;
    }

    public String name() {
        return name;
    }

    public State state() {
        return state;
    }

    /** The CPU's clock in ns. */
    public long clockNs() {
        return clockPs / 1000;
    }

    /** The parked CPU's wait ("wait: MMAP_LOCK"), or null. */
    public String blocker() {
        return blocker;
    }

    /** The last preemption point this CPU passed. */
    public String lastPoint() {
        return lastPoint;
    }

    public Thread thread() {
        return thread;
    }

    @Override
    public String toString() {
        return name + "@" + clockNs() + "ns " + state + (blocker != null ? " on " + blocker : "");
    }
}
