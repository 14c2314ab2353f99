package dev.vmsim.core.rmap;

import dev.vmsim.core.mm.AnonVma;
import dev.vmsim.core.mm.Vma;
import java.util.concurrent.atomic.AtomicLong;

/**
 * struct anon_vma_chain (include/linux/rmap.h): one link between a VMA and an anon_vma whose folios
 * it may map. It sits on the VMA's list ({@link Vma#anonVmaChain}, the kernel's same_vma list) and
 * in the anon_vma's tree ({@link AnonVma#treeInsert}).
 */
public final class AnonVmaChain {
    private static final AtomicLong IDS = new AtomicLong();

    public final Vma vma;
    public final AnonVma anonVma;
    /** The tree's key: creation order (see {@link AnonVma} for why not the pgoff range). */
    private final long id = IDS.incrementAndGet();

    AnonVmaChain(final Vma vma, final AnonVma anonVma) {
        this.vma = vma;
        this.anonVma = anonVma;
    }

    /** The key of this chain in its anon_vma's tree. */
    public long id() {
        return id;
    }

    @Override
    public String toString() {
        return "avc[" + vma + " -> " + anonVma + "]";
    }
}
