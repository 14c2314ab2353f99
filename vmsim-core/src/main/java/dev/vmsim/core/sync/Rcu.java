package dev.vmsim.core.sync;

import dev.vmsim.core.task.Task;

/**
 * The RCU read side (rcu_read_lock / rcu_read_unlock). Java's garbage collector frees memory, so
 * grace periods need no modelling; the read-side critical sections are real so that code and
 * assertions can see them (RCU_LOCKDEP_WARN, rcu_read_lock_held).
 *
 * <p>Like the kernel, the read side is tracked only in a debug build: with lockdep on
 * ({@code -Dvmsim.lockdep=true}, as in the tests) the nesting depth is kept and the checks are real;
 * with it off the calls compile to nothing and {@link #readLockHeld()} answers true, as
 * rcu_read_lock() is a bare compiler barrier in a non-preemptible kernel without
 * CONFIG_DEBUG_LOCK_ALLOC and rcu_read_lock_held() then returns 1.
 *
 * <p>The nesting depth is the task's ({@code current->rcu_read_lock_nesting}, {@link Task}).
 */
public final class Rcu {
    private Rcu() {}

    /** Whether read sections are tracked: the debug build (lockdep on). Read once. */
    private static final boolean TRACKED = Lockdep.ENABLED;

    /** rcu_read_lock. Nests. */
    public static void readLock() {
        if (TRACKED) {
            Task.current().rcuReadLockNesting++;
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
        n.rcuReadLockNesting--;
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
}
