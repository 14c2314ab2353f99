package dev.vmsim.core.rmap;

import dev.vmsim.core.mm.AnonVma;
import dev.vmsim.core.mm.Vma;
import java.util.ArrayList;
import java.util.List;

/**
 * The anon_vma_chain bookkeeping of mm/rmap.c: anon_vma_chain_link, anon_vma_clone, anon_vma_fork
 * and unlink_anon_vmas, called where the kernel calls them (VMA split, merge and copy, fork, munmap
 * and exit). The VMA's own fields (anon_vma, the chain length the merge code reads) are kept by
 * the callers, as before; these methods keep the chains and the anon_vma trees that rmap walks.
 *
 * <p><b>Context.</b> The mmap lock held for write on the VMA's mm (the child's and the parent's for
 * fork), or, for {@link #prepareLink}, the fault path's mmap read lock or VMA read lock with the
 * VMA's page_table_lock.
 */
public final class AnonVmas {
    private AnonVmas() {}

    /** anon_vma_chain_link: a new chain on the VMA's list and in the anon_vma's tree. <b>Context:</b> root write-locked. */
    private static void chainLink(final Vma vma, final AnonVma anonVma) {
        final AnonVmaChain avc = new AnonVmaChain(vma, anonVma);
        vma.anonVmaChain.add(avc);
        anonVma.treeInsert(avc);
    }

    /**
     * The linking half of __anon_vma_prepare: {@code vma} gets {@code anonVma} (fresh when {@code
     * allocated}, else lent by a mergeable neighbour). <b>Context:</b> anonVma's root write-locked
     * ({@link AnonVma#lockWrite}), then the VMA's page_table_lock, vma.anonVma still null.
     */
    public static void prepareLink(final Vma vma, final AnonVma anonVma, final boolean allocated) {
        if (allocated) {
            anonVma.numChildren++; // self-parent link for a new root
        }
        chainLink(vma, anonVma);
        anonVma.numActiveVmas++;
    }

    /**
     * anon_vma_clone (mm/rmap.c): {@code dst} gets a chain to every anon_vma {@code src} has one to,
     * so an rmap walk from any of them finds {@code dst} too (VMA split, copy_vma, a merge whose
     * target had no anon_vma). {@code dst.anonVma} is already {@code src}'s (vm_area_dup, dup_anon_vma).
     *
     * <p>Departure: no reuse of an idle ancestor anon_vma for a fork child (the kernel's
     * num_children &lt; 2 and num_active_vmas == 0 test); {@link #anonVmaFork} always allocates,
     * as the merge decisions the oracle transcripts record were made with that rule.
     */
    public static void anonVmaClone(final Vma dst, final Vma src) {
        if (src.anonVmaChain.isEmpty()) {
            return;
        }
        final AnonVma root = src.anonVmaChain.get(0).anonVma.root;
        root.lockWrite();
        try {
            // list_for_each_entry_reverse: oldest (the root's) first in the tree order.
            final List<AnonVmaChain> srcChain = src.anonVmaChain;
            for (int i = srcChain.size() - 1; i >= 0; i--) {
                chainLink(dst, srcChain.get(i).anonVma);
            }
            if (dst.anonVma != null) {
                dst.anonVma.numActiveVmas++;
            }
        } finally {
            root.unlockWrite();
        }
    }

    /**
     * anon_vma_fork (mm/rmap.c): the child VMA {@code vma} of fork gets chains to all of the parent
     * VMA {@code pvma}'s anon_vmas, then an anon_vma of its own (a child of pvma's, sharing its root)
     * for the folios it will copy on write. Sets {@code vma.anonVma}; the caller sets the chain
     * length the merge code reads.
     */
    public static AnonVma anonVmaFork(final Vma vma, final Vma pvma) {
        vma.anonVma = null;
        vma.anonVmaChain.clear();
        anonVmaClone(vma, pvma);
        final AnonVma anonVma = new AnonVma(pvma.anonVma); // get_anon_vma(root) inside
        anonVma.numActiveVmas++;
        vma.anonVma = anonVma;
        anonVma.lockWrite();
        try {
            chainLink(vma, anonVma);
            anonVma.parent.numChildren++;
        } finally {
            anonVma.unlockWrite();
        }
        return anonVma;
    }

    /**
     * unlink_anon_vmas (mm/rmap.c): takes {@code vma} out of every anon_vma tree and drops the
     * references its chains held; an anon_vma left with an empty tree loses its last user and goes
     * with put_anon_vma. Called before the VMA's page tables go (free_pgtables), so an rmap walker
     * that found the VMA under the anon_vma lock can still walk them, and again harmlessly by
     * vm_area_free's callers (a chain already unlinked is empty). {@code vma.anonVma} is left
     * as it was (the kernel clears it; nothing reads a detached VMA's here).
     */
    public static void unlinkAnonVmas(final Vma vma) {
        final List<AnonVmaChain> chain = vma.anonVmaChain;
        if (chain.isEmpty()) {
            return;
        }
        final AnonVma root = chain.get(0).anonVma.root;
        final List<AnonVma> emptied = new ArrayList<>();
        root.lockWrite();
        try {
            for (final AnonVmaChain avc : chain) {
                final AnonVma anonVma = avc.anonVma;
                anonVma.treeRemove(avc);
                if (anonVma.treeEmpty()) {
                    if (anonVma.parent != null) {
                        anonVma.parent.numChildren--;
                    } else {
                        anonVma.numChildren--; // the self-link of a root
                    }
                    emptied.add(anonVma);
                }
            }
            if (vma.anonVma != null) {
                vma.anonVma.numActiveVmas--;
            }
            chain.clear();
        } finally {
            root.unlockWrite();
        }
        for (final AnonVma anonVma : emptied) {
            anonVma.put();
        }
    }

    /**
     * The anon_vma_chain invariants of one VMA: the chain is as long as the merge code believes
     * ({@link Vma#anonVmaChainLength}) and empty without an anon_vma; every link is this VMA's, is
     * in its anon_vma's tree, and shares the family's root; the VMA's own anon_vma is among them.
     * Throws {@link IllegalStateException}. <b>Context:</b> the VMA's mm quiescent.
     */
    public static void validateChain(final Vma vma) {
        final List<AnonVmaChain> chain = vma.anonVmaChain;
        if (vma.anonVma == null) {
            if (!chain.isEmpty()) {
                throw new IllegalStateException(vma + " has no anon_vma but a chain of " + chain.size());
            }
            return;
        }
        if (chain.size() != vma.anonVmaChainLength) {
            throw new IllegalStateException(
                    vma + " chain of " + chain.size() + " but anonVmaChainLength " + vma.anonVmaChainLength);
        }
        final AnonVma root = vma.anonVma.root;
        boolean own = false;
        root.lockRead();
        try {
            for (final AnonVmaChain avc : chain) {
                if (avc.vma != vma || avc.anonVma.root != root) {
                    throw new IllegalStateException(vma + " has a foreign link " + avc);
                }
                if (!avc.anonVma.treeChains().contains(avc)) {
                    throw new IllegalStateException(avc + " is not in its anon_vma's tree");
                }
                own |= avc.anonVma == vma.anonVma;
            }
        } finally {
            root.unlockRead();
        }
        if (!own) {
            throw new IllegalStateException(vma + " is not linked to its own " + vma.anonVma);
        }
    }
}
