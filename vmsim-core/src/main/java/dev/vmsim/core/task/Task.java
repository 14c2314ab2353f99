package dev.vmsim.core.task;

import dev.vmsim.core.cpu.Cpu;

/**
 * The per-task state the simulated kernel reaches through {@code current} (struct task_struct):
 * the CPU the task runs on (smp_processor_id()), its RCU read-side nesting
 * ({@code current->rcu_read_lock_nesting}) and its fault counts ({@code min_flt}, {@code maj_flt},
 * what getrusage reports). A simulated task is a platform thread.
 *
 * <p>Every field is written only by the task's own thread (plain accesses); other threads may read
 * the fault counts after the task has been joined.
 *
 * <p>Departure: the kernel reaches {@code current} through a register. Java's cheapest per-thread
 * slot, a {@link ThreadLocal}, costs a map probe and a weak-reference check, which is a visible
 * share of a TLB-hit access; so {@link #current()} first looks in a small table indexed by thread id
 * and checked by owner id, and falls back to the ThreadLocal (the object's home) on a miss.
 */
public final class Task {
    private static final ThreadLocal<Task> HOME =
            ThreadLocal.withInitial(() -> new Task(Thread.currentThread().getId()));

    /**
     * Cache of each thread's Task, slot = thread id &amp; mask (ids are sequential, so the live threads
     * of a run rarely collide). Plain reads and writes: a racy read may see another thread's Task,
     * which fails the owner check ({@link #tid} is final, so safely published) and falls back to the
     * ThreadLocal. Thread ids are never reused (JDK 17), so a stale slot never matches.
     */
    private static final Task[] CACHE = new Task[1024];

    private static final int CACHE_MASK = CACHE.length - 1;

    /** The owning thread's id. */
    private final long tid;

    /** The CPU this task last ran on (switch_mm or an access), or null. */
    public Cpu cpu;

    /**
     * The platform of the virtual machine this task runs on, set by its {@link
     * dev.vmsim.core.clock.VirtualScheduler} while the task runs; null on the host clock.
     */
    public dev.vmsim.core.clock.Platform platform;

    /** rcu_read_lock_nesting. */
    public int rcuReadLockNesting;

    /** Minor faults of this task. */
    public long minFlt;

    /** Major faults of this task (including faults that needed a retry, as the kernel counts them). */
    public long majFlt;

    /**
     * task->pending.signal for the non-fatal signals 1-31 (bit {@code signo}), raised by any thread
     * ({@link #sendSignal}) and taken by the task itself on its way back to user mode ({@link
     * #deliverSignals}); atomic, since sender and task race. SIGKILL is not kept here: a fatal signal
     * is the thread's interrupt, which every killable wait already tests.
     */
    private final java.util.concurrent.atomic.AtomicInteger sigpending =
            new java.util.concurrent.atomic.AtomicInteger();

    /**
     * The task's handler for its non-fatal signals (sigaction), run by {@link #deliverSignals} with
     * the signal number; null ignores them. Volatile: set by the test or workload thread that owns
     * the task before the signal is sent.
     */
    public volatile java.util.function.IntConsumer sigaction;

    private Task(final long tid) {
        this.tid = tid;
    }

    /**
     * send_signal for a non-fatal signal: marks it pending; {@link #signalPending} is then true for
     * the task until it delivers it. SIGKILL goes through {@link Thread#interrupt()} instead.
     *
     * @throws IllegalArgumentException for a number outside 1-31 or SIGKILL
     */
    public void sendSignal(final int signo) {
        if (signo < 1 || signo > 31 || signo == 9) {
            throw new IllegalArgumentException("not a non-fatal signal: " + signo);
        }
        sigpending.getAndUpdate(p -> p | 1 << signo);
    }

    /** signal_pending(current) for the non-fatal signals (a fatal one is the thread's interrupt). */
    public boolean signalPending() {
        return sigpending.get() != 0;
    }

    /**
     * arch_do_signal_or_restart on the way back to user mode: takes every pending non-fatal signal,
     * lowest number first (dequeue_signal), and runs the task's handler for each. Returns how many.
     */
    public int deliverSignals() {
        int n = 0;
        for (int pending = sigpending.getAndSet(0); pending != 0; pending &= pending - 1) {
            final java.util.function.IntConsumer handler = sigaction;
            if (handler != null) {
                handler.accept(Integer.numberOfTrailingZeros(pending));
            }
            n++;
        }
        return n;
    }

    /** {@code current}: the calling thread's task. */
    public static Task current() {
        final long id = Thread.currentThread().getId();
        final int slot = (int) id & CACHE_MASK;
        final Task t = CACHE[slot];
        if (t != null && t.tid == id) {
            return t;
        }
        final Task home = HOME.get();
        CACHE[slot] = home;
        return home;
    }
}
