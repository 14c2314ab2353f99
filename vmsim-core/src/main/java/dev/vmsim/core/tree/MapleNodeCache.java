package dev.vmsim.core.tree;

import dev.vmsim.core.inject.FailInject;
import dev.vmsim.core.inject.FailSite;

/**
 * maple_node_cache: where the {@code mtree_*} API and {@code __mt_dup} take their nodes
 * ({@code mt_alloc_one} / {@code mt_free_one}), with the allocation-failure knobs of the kernel's
 * userland maple test harness (tools/testing/shared/linux.c: {@code kmem_cache_alloc} with
 * {@code mt_set_non_kernel} and {@code mt_set_callback}) and the machine-wide {@link FailInject}
 * ({@link FailSite#MAPLE_NODE}, failslab on the maple node cache).
 *
 * <ul>
 *   <li>{@link #setNonKernel}: how many allocations that may not sleep ({@link Gfp#ATOMIC}) succeed
 *       from now on; -1 (the default) for no limit. The harness's {@code non_kernel}; 0 makes every
 *       non-sleeping allocation fail, which forces {@code mas_nomem}'s sleeping retry.
 *   <li>{@link #setCallback}: run once inside the next sleeping allocation after a non-sleeping one
 *       failed: the harness's {@code exec_callback}, which a test uses to run a second writer while
 *       the first has dropped the tree lock in {@code mas_nomem}. Departure: the harness re-arms the
 *       callback after every failure; here it runs once, so that a callback whose own store fails
 *       does not run itself again.
 * </ul>
 *
 * <p>{@link #nrAllocated} is the harness's {@code nr_allocated}: nodes handed out and not yet given
 * back. Only the allocations counted here are tracked; nodes a store replaces go to the garbage
 * collector (after call_rcu in RCU mode), so the figure balances only around paths that give back
 * what they took, as a failed duplication must (OOM-05).
 *
 * <p><b>Context:</b> used by the tree's writer, which the caller serialises; not thread-safe.
 */
public final class MapleNodeCache {
    /** The allocation context of a request (the part of gfp_t the harness looks at). */
    public enum Gfp {
        /** GFP_KERNEL: may sleep (__GFP_DIRECT_RECLAIM). */
        KERNEL,
        /** GFP_ATOMIC / GFP_NOWAIT: may not sleep; limited by {@link #setNonKernel}. */
        ATOMIC
    }

    private FailInject failInject;
    private int nonKernel = -1;
    private Runnable callback;
    private boolean execCallback;
    private long nrAllocated;
    private long nrTallocated;

    /** The machine's fault-injection attributes; {@link FailSite#MAPLE_NODE} then fails node allocations. */
    public void setFailInject(final FailInject failInject) {
        this.failInject = failInject;
    }

    /** mt_set_non_kernel: {@code n} more non-sleeping allocations succeed; -1 for no limit. */
    public void setNonKernel(final int n) {
        this.nonKernel = n;
    }

    /** mt_set_callback: runs once in the next sleeping allocation after a non-sleeping one failed. */
    public void setCallback(final Runnable callback) {
        this.callback = callback;
        this.execCallback = false;
    }

    /**
     * kmem_cache_alloc for {@code n} nodes (mas_alloc_nodes): all or none. A non-sleeping request
     * fails when {@link #setNonKernel}'s budget is spent; any request fails when the fault-injection
     * attribute says so for one of its nodes.
     *
     * @return true if the nodes were allocated
     */
    boolean alloc(final int n, final Gfp gfp) {
        if (n == 0) {
            return true;
        }
        if (gfp == Gfp.KERNEL && execCallback) {
            execCallback = false;
            final Runnable c = callback;
            callback = null;
            if (c != null) {
                c.run(); // the harness runs it before the allocation itself
            }
        }
        if (gfp == Gfp.ATOMIC && nonKernel >= 0) {
            if (nonKernel < n) {
                execCallback = true;
                return false;
            }
            nonKernel -= n;
        }
        if (failInject != null) {
            for (int i = 0; i < n; i++) {
                if (failInject.shouldFail(FailSite.MAPLE_NODE)) {
                    return false;
                }
            }
        }
        nrAllocated += n;
        nrTallocated += n;
        return true;
    }

    /** mt_free_bulk / kmem_cache_free of {@code n} nodes this cache handed out. */
    void free(final long n) {
        nrAllocated -= n;
    }

    /** mt_nr_allocated: nodes handed out and not given back. */
    public long nrAllocated() {
        return nrAllocated;
    }

    /** mt_nr_tallocated: nodes handed out in total. */
    public long nrTallocated() {
        return nrTallocated;
    }
}
