package dev.vmsim.core.sync;

/**
 * The RCU read side (rcu_read_lock / rcu_read_unlock). Java's garbage collector frees memory, so
 * grace periods need no modelling; the read-side critical sections are real so that code and
 * assertions can see them (RCU_LOCKDEP_WARN, rcu_read_lock_held).
 *
 * <p>The nesting depth is per thread; a read section costs one ThreadLocal lookup each way.
 */
public final class Rcu {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Rcu() {}

    /** rcu_read_lock. Nests. */
    public static void readLock() {
        DEPTH.get()[0]++;
    }

    /** rcu_read_unlock. */
    public static void readUnlock() {
        final int[] d = DEPTH.get();
        if (d[0] <= 0) {
            throw new IllegalStateException("rcu_read_unlock without rcu_read_lock");
        }
        d[0]--;
    }

    /** RCU_LOCKDEP_WARN(!rcu_read_lock_held(), what): throws AssertionError outside a read section. */
    public static void assertReadLockHeld(final String what) {
        if (!readLockHeld()) {
            throw new AssertionError("RCU: " + what + ": no rcu lock held");
        }
    }

    /** The current thread's read-section nesting depth. */
    public static int depth() {
        return DEPTH.get()[0];
    }

    /** rcu_read_lock_held. */
    public static boolean readLockHeld() {
        return DEPTH.get()[0] > 0;
    }
}
