package dev.vmsim.core.lock;

import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.clock.VirtualScheduler;
import java.util.function.Consumer;

/**
 * Named hook points between the steps of the lock protocols, for deterministic interleaving tests
 * (a controlled scheduler parks a thread at a named point until the test lets it go). The points
 * exist only when the JVM runs with {@code -Dvmsim.lockdep=true} (surefire sets it) or
 * {@code -Dvmsim.lockhooks=true}: {@link #ENABLED} is a static final, so otherwise every point folds
 * to nothing after JIT and the read path of the VMA lock pays no volatile load per point.
 *
 * <p>Points: {@code vma_start_read:after_early_check}, {@code vma_start_read:after_inc},
 * {@code vma_start_read:before_recheck}, {@code vma_refcount_put:after_dec},
 * {@code __vma_start_exclude_readers:before_wait}, {@code vma_mark_detached:after_dec},
 * {@code rwsem_down_write_slowpath:after_wait_lock} (the rw_semaphore in sync uses them too);
 * {@code vma_merge_existing_range:locked} (every VMA a merge changes is write-locked, before
 * dup_anon_vma reads and copies anon_vma); outside the lock protocols: {@code
 * madvise_guard_install:after_zap}, {@code
 * dup_mmap:after_anon_vma_fork}, {@code dup_mmap:before_mmput} (a failed fork, both mmap locks
 * dropped, the child not yet put), {@code unuse_pte_range:folio_locked} and {@code
 * try_to_unuse:retry} (swapoff).
 */
public final class LockHooks {
    /** Read once; a constant to the JIT. */
    public static final boolean ENABLED = Boolean.getBoolean("vmsim.lockdep") || Boolean.getBoolean("vmsim.lockhooks");

    private static volatile Consumer<String> hook;

    private LockHooks() {}

    /** Installs a hook (tests only); null removes it. */
    public static void install(final Consumer<String> h) {
        if (h != null && !ENABLED) {
            throw new IllegalStateException(
                    "lock hooks are off: run with -Dvmsim.lockdep=true or -Dvmsim.lockhooks=true");
        }
        hook = h;
    }

    /**
     * Passes the named point. Under the virtual clock every point is also a preemption point, named
     * so that schedule exploration and the stepping API can stop there.
     */
    public static void at(final String point) {
        final Platform p = Platform.current();
        if (p instanceof VirtualScheduler v) {
            v.preemptionPoint(point);
        }
        if (!ENABLED) {
            return;
        }
        final Consumer<String> h = hook;
        if (h != null) {
            h.accept(point);
        }
    }
}
