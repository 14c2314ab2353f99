package dev.vmsim.core.mm;

import java.util.concurrent.atomic.AtomicLong;

/**
 * An anon_vma (mm/rmap.c): the identity that ties anonymous pages to the VMAs that may map them.
 *
 * <p>Only its identity matters here: two VMAs merge only if their anon_vmas are compatible (one
 * side null or the same object), and a fork child's anon_vma has the parent's as {@link #parent}.
 * Departure from the kernel: no interval tree of anon_vma_chains, because the simulator has no
 * reverse mapping; the chain length that decides "fork child" lives in {@link Vma#anonVmaChainLength}.
 */
public final class AnonVma {
    private static final AtomicLong IDS = new AtomicLong();

    /** The parent anon_vma for a fork child, else null. */
    public final AnonVma parent;
    private final long id = IDS.incrementAndGet();

    public AnonVma(final AnonVma parent) {
        this.parent = parent;
    }

    @Override
    public String toString() {
        return "anon_vma#" + id;
    }
}
