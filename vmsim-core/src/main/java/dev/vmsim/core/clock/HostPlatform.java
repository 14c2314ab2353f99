package dev.vmsim.core.clock;

import java.util.concurrent.locks.LockSupport;

/**
 * The host clock: each simulated CPU is a platform thread, time is {@link System#nanoTime}, waits
 * park the thread, and a modelled step or cache line costs nothing extra (the host's own caches and
 * scheduler give whatever contention they give). Every method is the plain JDK call or empty, so
 * the JIT inlines it away and the host engine pays nothing for the abstraction.
 */
public final class HostPlatform implements Platform {
    /** The one host platform: stateless. */
    public static final HostPlatform INSTANCE = new HostPlatform();

    private HostPlatform() {}

    @Override
    public boolean isVirtual() {
        return false;
    }

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public void park(final Object blocker) {
        LockSupport.park(blocker);
    }

    @Override
    public void sleepUntil(final long ns, final Object blocker) {
        for (long left = ns - System.nanoTime(); left > 0; left = ns - System.nanoTime()) {
            LockSupport.parkNanos(blocker, left);
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
        }
    }

    @Override
    public void unpark(final Thread t) {
        LockSupport.unpark(t);
    }

    @Override
    public void spinWait() {
        Thread.onSpinWait();
    }

    /**
     * Approximated: the thread has not blocked (parked, waiting, or blocked on a monitor). A JVM
     * thread cannot see whether the OS preempted it; callers bound their spin by time instead.
     */
    @Override
    public boolean onCpu(final Thread t) {
        return t.getState() == Thread.State.RUNNABLE;
    }

    @Override
    public void preemptionPoint() {}

    @Override
    public void charge(final Cost cost) {}

    @Override
    public void charge(final Cost cost, final long times) {}

    @Override
    public void rmw(final CacheLine line) {}

    @Override
    public void rmwLocked(final CacheLine line) {}

    @Override
    public void store(final CacheLine line) {}

    @Override
    public void storeLocked(final CacheLine line) {}

    @Override
    public void load(final CacheLine line) {}

    @Override
    public void tlbShootdown(final long localPages, final int remotes) {}
}
