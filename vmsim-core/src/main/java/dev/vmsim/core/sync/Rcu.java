package dev.vmsim.core.sync;

import dev.vmsim.core.task.Task;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * RCU: the read side (rcu_read_lock / rcu_read_unlock), {@link #callRcu call_rcu} and grace periods
 * ({@link #synchronizeRcu synchronize_rcu}).
 *
 * <p>Like the kernel, the read side is tracked only in a debug build: with lockdep on
 * ({@code -Dvmsim.lockdep=true}, as in the tests) the nesting depth is kept and the checks are real;
 * with it off the calls compile to nothing and {@link #readLockHeld()} answers true, as
 * rcu_read_lock() is a bare compiler barrier in a non-preemptible kernel without
 * CONFIG_DEBUG_LOCK_ALLOC and rcu_read_lock_held() then returns 1.
 *
 * <p>The nesting depth is the task's ({@code current->rcu_read_lock_nesting}, {@link Task}).
 *
 * <h2>Grace periods (debug build only)</h2>
 * Without tracking, the garbage collector stands in for the grace period and {@link #callRcu} does
 * nothing. With it, every outermost read section is counted in one shared word, and a callback
 * runs only after that count was seen at zero <em>after</em> the callback was queued: every reader
 * that could have seen the old object has then left its section (the definition of a grace
 * period; stronger than the kernel's per-CPU quiescent states, never weaker). Callbacks run in
 * batches of {@link #BATCH} from {@link #callRcu} whenever no reader is inside, or all at once from
 * {@link #synchronizeRcu}. A reader outside any read section (holding only the mmap lock, say) does
 * not delay a grace period; that is exactly StackRot (BUG-01), and what the callbacks' poisoning
 * shows.
 *
 * <p>Memory ordering: the reader count is a volatile atomic; a reader increments it before it loads
 * any RCU-protected pointer and decrements it after its last use, and the grace-period check reads
 * it after the callback is queued, so (sequential consistency of the two) either the check sees the
 * reader or the reader's loads see the unlinking that preceded the queueing.
 */
public final class Rcu {
    private Rcu() {}

    /** Whether read sections are tracked: the debug build (lockdep on). Read once. */
    private static final boolean TRACKED = Lockdep.ENABLED;
    /** Callbacks queued before {@link #callRcu} tries to end a grace period on its own. */
    static final int BATCH = 64;

    /** Tasks inside an outermost read section (debug build only). */
    private static final AtomicInteger READERS = new AtomicInteger();
    /** Callbacks waiting for a grace period; guarded by its own monitor. */
    private static ArrayList<Runnable> pending = new ArrayList<>();

    private static final Object GP_LOCK = new Object();

    /** rcu_read_lock. Nests. */
    public static void readLock() {
        if (TRACKED && Task.current().rcuReadLockNesting++ == 0) {
            READERS.incrementAndGet();
        }
    }

    /** rcu_read_unlock. */
    public static void readUnlock() {
        if (!TRACKED) {
            return;
        }
        final Task n = Task.current();
        if (n.rcuReadLockNesting <= 0) {
            throw new IllegalStateException("rcu_read_unlock without rcu_read_lock");
        }
        if (--n.rcuReadLockNesting == 0) {
            READERS.decrementAndGet();
        }
    }

    /** RCU_LOCKDEP_WARN(!rcu_read_lock_held(), what): throws AssertionError outside a read section. */
    public static void assertReadLockHeld(final String what) {
        if (!readLockHeld()) {
            throw new AssertionError("RCU: " + what + ": no rcu lock held");
        }
    }

    /** The current thread's read-section nesting depth (0 when read sections are not tracked). */
    public static int depth() {
        return TRACKED ? Task.current().rcuReadLockNesting : 0;
    }

    /** rcu_read_lock_held: true when untracked, as the kernel's non-debug build answers. */
    public static boolean readLockHeld() {
        return !TRACKED || Task.current().rcuReadLockNesting > 0;
    }

    /** Are grace periods tracked (the debug build)? Without, {@link #callRcu} is a no-op. */
    public static boolean tracked() {
        return TRACKED;
    }

    /**
     * call_rcu: runs {@code callback} after a grace period, i.e. once every read section that began
     * before this call has ended. A no-op outside the debug build (the garbage collector frees).
     */
    public static void callRcu(final Runnable callback) {
        if (!TRACKED) {
            return;
        }
        ArrayList<Runnable> ready = null;
        synchronized (GP_LOCK) {
            pending.add(callback);
            if (pending.size() >= BATCH && READERS.get() == 0) {
                ready = pending;
                pending = new ArrayList<>();
            }
        }
        run(ready);
    }

    /**
     * synchronize_rcu: waits until every read section that began before the call has ended, then
     * runs every callback queued before the call. Must not be called inside a read section.
     *
     * @throws IllegalStateException if readers stay inside for 10 s (a reader that never leaves)
     */
    public static void synchronizeRcu() {
        if (!TRACKED) {
            return;
        }
        if (depth() > 0) {
            throw new IllegalStateException("synchronize_rcu inside an RCU read section: self-deadlock");
        }
        final ArrayList<Runnable> ready;
        synchronized (GP_LOCK) {
            ready = pending;
            pending = new ArrayList<>();
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (READERS.get() != 0) {
            if (System.nanoTime() - deadline > 0) {
                synchronized (GP_LOCK) {
                    ready.addAll(pending);
                    pending = ready;
                }
                throw new IllegalStateException("synchronize_rcu: a reader stayed inside its read section for 10 s");
            }
            Thread.onSpinWait();
        }
        run(ready);
    }

    /** Number of callbacks still waiting for a grace period. */
    public static int pendingCallbacks() {
        synchronized (GP_LOCK) {
            return pending.size();
        }
    }

    private static void run(final ArrayList<Runnable> ready) {
        if (ready != null) {
            for (final Runnable r : ready) {
                r.run();
            }
        }
    }
}
