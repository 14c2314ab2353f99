package dev.vmsim.core.vmscan;

import dev.vmsim.core.phys.FrameAllocator;
import dev.vmsim.core.stat.VmEvent;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * kswapd (mm/vmscan.c): the node's reclaim thread, woken by an allocation that finds the zone at
 * its low watermark (wakeup_kswapd) and reclaiming until it is above the high one (balance_pgdat).
 * After MAX_RECLAIM_RETRIES passes that reclaimed nothing the node is hopeless and wakeups are
 * ignored until some reclaim makes progress again (kswapd_failures, kswapd_clear_hopeless).
 *
 * <p><b>Host clock.</b> A daemon thread. Departure: it is started by the first wakeup, not at boot,
 * and ends after a second without one (restarted by the next), so that the many machines of a test
 * run do not each keep a parked thread; the kernel's kswapd lives as long as the node.
 *
 * <p><b>Virtual clock.</b> Departure: no thread of its own. The scheduler's tasks are the
 * simulated CPUs' workloads, and a kthread would need a CPU of its own there; kswapd's pass runs
 * synchronously at the wake point, in the waking task, counted as kswapd's (pgscan_kswapd). The
 * allocation that woke it therefore sees the zone already rebalanced, where the kernel's would
 * race kswapd.
 *
 * <p><b>Inline machines</b> ({@link dev.vmsim.core.Machine#runsInline}, a vmscript's machine on the
 * host clock) run the pass at the wake point too, for the same reason and with the same departure:
 * a script steps one task at a time and its transcript must not depend on when a host thread ran.
 */
public final class Kswapd {
    private static final long IDLE_EXIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Vmscan vmscan;
    private final boolean synchronous;
    /** kswapd_failures. */
    private final AtomicInteger failures = new AtomicInteger();

    private final ReentrantLock lock = new ReentrantLock();
    /** pgdat->kswapd_wait. */
    private final Condition wait = lock.newCondition();
    /** Guarded by lock: a wakeup not yet consumed. */
    private boolean woken;
    /** Guarded by lock: the thread now running, or null. */
    private Thread thread;
    /** Guarded by lock: balance_pgdat in progress (for {@link #quiesce}). */
    private boolean running;

    private boolean stopped;
    /** A synchronous pass in progress on this thread (no recursion from its own allocations). */
    private final ThreadLocal<boolean[]> inPass = ThreadLocal.withInitial(() -> new boolean[1]);

    Kswapd(final Vmscan vmscan, final boolean synchronous) {
        this.vmscan = vmscan;
        this.synchronous = synchronous;
    }

    /** kswapd_test_hopeless. */
    public boolean hopeless() {
        return failures.get() >= FrameAllocator.MAX_RECLAIM_RETRIES;
    }

    /** kswapd_clear_hopeless: reclaim made progress somewhere. */
    void clearHopeless() {
        if (failures.get() != 0) {
            failures.set(0);
        }
    }

    /**
     * wakeup_kswapd: nothing if the node is hopeless or already balanced; else kswapd_wakeup
     * counted and the thread woken (host clock) or its pass run here (virtual clock).
     */
    public void wakeup() {
        if (hopeless() || vmscan.pgdatBalanced()) {
            return;
        }
        vmscan.machine().vmstat().count(VmEvent.KSWAPD_WAKEUP);
        if (synchronous) {
            final boolean[] in = inPass.get();
            if (in[0]) {
                return;
            }
            in[0] = true;
            try {
                pass(0);
            } finally {
                in[0] = false;
            }
            return;
        }
        lock.lock();
        try {
            if (stopped) {
                return;
            }
            woken = true;
            if (thread == null) {
                thread = new Thread(this::run, "kswapd0");
                thread.setDaemon(true);
                thread.start();
            } else {
                wait.signalAll(); // quiesce waiters share the condition
            }
        } finally {
            lock.unlock();
        }
    }

    /** One balance_pgdat, counting a pass that reclaimed nothing as a failure. */
    private void pass(final int cpu) {
        if (vmscan.balancePgdat(cpu) == 0 && !vmscan.pgdatBalanced()) {
            failures.incrementAndGet();
        }
    }

    /** The kthread: sleep until woken (kswapd_try_to_sleep), balance, repeat; exit when idle. */
    private void run() {
        while (true) {
            lock.lock();
            try {
                long left = IDLE_EXIT_NANOS;
                while (!woken && !stopped) {
                    if (left <= 0) {
                        thread = null; // the next wakeup starts a new one
                        wait.signalAll();
                        return;
                    }
                    try {
                        left = wait.awaitNanos(left);
                    } catch (final InterruptedException e) {
                        thread = null;
                        wait.signalAll();
                        return;
                    }
                }
                if (stopped) {
                    thread = null;
                    wait.signalAll();
                    return;
                }
                woken = false;
                running = true;
            } finally {
                lock.unlock();
            }
            try {
                pass(0);
            } finally {
                lock.lock();
                try {
                    running = false;
                    wait.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    /**
     * Waits until kswapd has no pass in progress and no wakeup pending (for validation and tests,
     * which need a quiescent machine). Returns false on timeout.
     */
    public boolean quiesce(final long timeoutMillis) throws InterruptedException {
        long left = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while ((running || woken) && thread != null) {
                if (left <= 0) {
                    return false;
                }
                left = wait.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * kswapd_stop: ends the thread, waiting (up to a few seconds) for a pass in progress to finish,
     * so that nothing reclaims on a machine being closed; later wakeups are ignored.
     */
    public void stop() {
        lock.lock();
        try {
            stopped = true;
            wait.signalAll();
            long left = STOP_WAIT_NANOS;
            while (running && left > 0) {
                left = wait.awaitNanos(left);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private static final long STOP_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** The thread now running, or null (for tests). */
    public Thread thread() {
        lock.lock();
        try {
            return thread;
        } finally {
            lock.unlock();
        }
    }
}
