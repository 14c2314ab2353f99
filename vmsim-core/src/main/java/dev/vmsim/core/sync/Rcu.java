package dev.vmsim.core.sync;

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
 * <p>The nesting depth is per thread, as the kernel's preemptible RCU keeps it per task
 * ({@code current->rcu_read_lock_nesting}). Its home is a {@link ThreadLocal}; a ThreadLocal
 * lookup (map, hash probe, weak-reference check) is a large share of a page fault's lock cost, so
 * the holder is also cached in a small table indexed by thread id, checked by owner id. Departure:
 * the kernel reaches its counter through {@code current}; Java has no cheaper per-thread field.
 */
public final class Rcu {
    /** current->rcu_read_lock_nesting for one thread. Touched only by its owner thread. */
    private static final class Nesting {
        /** Thread ids are never reused (JDK 17), so a stale slot can never match another thread. */
        final long owner;

        int depth;

        Nesting(final long owner) {
            this.owner = owner;
        }
    }

    private static final ThreadLocal<Nesting> DEPTH =
            ThreadLocal.withInitial(() -> new Nesting(Thread.currentThread().getId()));

    /**
     * Cache of each thread's {@link Nesting}, slot = thread id & mask (ids are sequential, so the
     * live threads of a run rarely collide). Plain reads and writes: a racy read may see another
     * thread's holder, which fails the owner check (a final field, so safely published) and falls
     * back to the ThreadLocal. Written only on a miss, so the slots stay read-mostly.
     */
    private static final Nesting[] CACHE = new Nesting[1024];

    private static final int CACHE_MASK = CACHE.length - 1;

    private Rcu() {}

    /** The current thread's nesting counter. */
    private static Nesting current() {
        final long id = Thread.currentThread().getId();
        final int slot = (int) id & CACHE_MASK;
        final Nesting n = CACHE[slot];
        if (n != null && n.owner == id) {
            return n;
        }
        return currentSlow(slot);
    }

    private static Nesting currentSlow(final int slot) {
        final Nesting n = DEPTH.get();
        CACHE[slot] = n;
        return n;
    }

    /** Whether read sections are tracked: the debug build (lockdep on). Read once. */
    private static final boolean TRACKED = Lockdep.ENABLED;

    /** rcu_read_lock. Nests. */
    public static void readLock() {
        if (TRACKED) {
            current().depth++;
        }
    }

    /** rcu_read_unlock. */
    public static void readUnlock() {
        if (!TRACKED) {
            return;
        }
        final Nesting n = current();
        if (n.depth <= 0) {
            throw new IllegalStateException("rcu_read_unlock without rcu_read_lock");
        }
        n.depth--;
    }

    /** RCU_LOCKDEP_WARN(!rcu_read_lock_held(), what): throws AssertionError outside a read section. */
    public static void assertReadLockHeld(final String what) {
        if (!readLockHeld()) {
            throw new AssertionError("RCU: " + what + ": no rcu lock held");
        }
    }

    /** The current thread's read-section nesting depth (0 when read sections are not tracked). */
    public static int depth() {
        return TRACKED ? current().depth : 0;
    }

    /** rcu_read_lock_held: true when untracked, as the kernel's non-debug build answers. */
    public static boolean readLockHeld() {
        return !TRACKED || current().depth > 0;
    }
}
