package dev.vmsim.core.clock;

import dev.vmsim.core.task.Task;

/**
 * What the simulated kernel sees of time and of the CPU it runs on: the clock, blocking and waking,
 * a spin-wait step, the cost of a modelled step, and the accesses to cache lines many CPUs write.
 * Locks, RCU waits, the TLB shootdown and the fault path call it and never {@code System.nanoTime},
 * {@code Thread.onSpinWait} or {@code LockSupport} themselves.
 *
 * <p>Two implementations, chosen once per {@link dev.vmsim.core.Machine}: {@link HostPlatform}
 * (each simulated CPU a platform thread, host time; charges and lines cost nothing) and {@link
 * VirtualScheduler} (one simulated task at a time, each CPU with its own clock, every step charged
 * from a {@link CostModel}).
 *
 * <p><b>Preemption points.</b> Under the virtual clock another CPU may run only at a call of {@link
 * #preemptionPoint}, {@link #rmw}, {@link #store}, {@link #load}, {@link #spinWait} or {@link
 * #park}; {@link #charge}, {@link #rmwLocked} and {@link #storeLocked} never switch. A caller inside a Java monitor
 * (the model of a raw spinlock with preemption off, e.g. an rwsem's wait_lock) therefore uses only
 * charge and rmwLocked: the next CPU would block on the monitor on the host, where the virtual
 * scheduler cannot see it.
 */
public interface Platform {
    /** The calling task's platform: its machine's while it runs a virtual task, else the host's. */
    static Platform current() {
        if (VirtualScheduler.active == 0) {
            return HostPlatform.INSTANCE; // no virtual machine in this JVM: one plain load
        }
        final Platform p = Task.current().platform;
        return p != null ? p : HostPlatform.INSTANCE;
    }

    /** Is this the virtual clock? */
    boolean isVirtual();

    /** The clock in ns: System.nanoTime on the host; the running CPU's clock under the virtual one. */
    long now();

    /**
     * Blocks the calling task until {@link #unpark}ed, interrupted, or spuriously (LockSupport.park
     * semantics: callers re-check their condition in a loop). {@code blocker} names the wait in the
     * attribution (a lock, or the object waited on).
     */
    void park(Object blocker);

    /**
     * Sleeps the calling task until the clock reads {@code ns} (a timer, a device completion):
     * parkNanos on the host; under the virtual clock the task's clock jumps to {@code ns} and it
     * yields, so CPUs behind it in time run first. Returns early only on interrupt (host).
     * {@code blocker} names the wait.
     */
    void sleepUntil(long ns, Object blocker);

    /** Makes {@code t} runnable, or gives it a permit if it is not parked. */
    void unpark(Thread t);

    /** One iteration of a spin-wait loop (cpu_relax): a preemption point under the virtual clock. */
    void spinWait();

    /** owner_on_cpu: is {@code t} on a CPU (not blocked)? */
    boolean onCpu(Thread t);

    /** A point where the virtual scheduler may run another CPU (between instructions). */
    void preemptionPoint();

    /** Charges {@code cost} once to the running CPU. */
    void charge(Cost cost);

    /** Charges {@code cost} {@code times} times. */
    void charge(Cost cost, long times);

    /** An atomic read-modify-write of a word on {@code line}: a preemption point, then the transfer. */
    void rmw(CacheLine line);

    /** The same inside a spinlock section with preemption off: no preemption point. */
    void rmwLocked(CacheLine line);

    /**
     * A plain store to a word on {@code line} (it still needs the line exclusively): a preemption
     * point, so that a CPU already waiting for the line may take it first, as it does when an rwsem's
     * owner store follows the count RMW on the same line.
     */
    void store(CacheLine line);

    /** The same inside a spinlock section with preemption off: no preemption point. */
    void storeLocked(CacheLine line);

    /** A load of a word on {@code line} that other CPUs write: a shared copy. */
    void load(CacheLine line);

    /**
     * A TLB shootdown's cost to its initiator: {@code localPages} invalidations on the local CPU (0
     * for none, -1 for a whole-mm flush) and IPIs to {@code remotes} other CPUs.
     */
    void tlbShootdown(long localPages, int remotes);
}
