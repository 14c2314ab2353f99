package dev.vmsim.core.lock;

import java.util.function.Consumer;

/**
 * Named hook points between the steps of the lock protocols, for deterministic interleaving tests
 * (a controlled scheduler parks a thread at a named point until the test lets it go). With no hook
 * installed a point costs one volatile null check.
 *
 * <p>Points: {@code vma_start_read:after_early_check}, {@code vma_start_read:after_inc},
 * {@code vma_start_read:before_recheck}, {@code vma_refcount_put:after_dec},
 * {@code __vma_start_exclude_readers:before_wait}, {@code vma_mark_detached:after_dec}.
 */
public final class LockHooks {
    private static volatile Consumer<String> hook;

    private LockHooks() {}

    /** Installs a hook (tests only); null removes it. */
    public static void install(final Consumer<String> h) {
        hook = h;
    }

    /** Passes the named point. */
    static void at(final String point) {
        final Consumer<String> h = hook;
        if (h != null) {
            h.accept(point);
        }
    }
}
