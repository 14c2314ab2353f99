package dev.vmsim.core.mm;

import dev.vmsim.core.rmap.AnonVmaChain;
import dev.vmsim.core.sync.LockClass;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * struct anon_vma (include/linux/rmap.h): the object that ties anonymous folios to every VMA that
 * may map them. A folio's {@code mapping} points at the anon_vma of the VMA it was first faulted
 * into; that anon_vma's tree holds an {@link AnonVmaChain} for every VMA (in this mm or in a fork
 * descendant) that may still map the folio, which is what rmap_walk_anon visits.
 *
 * <p>A fork child's anon_vma has the parent's as {@link #parent} and shares its {@link #root}:
 * one rwsem, the root's, guards the trees of a whole fork family (anon_vma_lock_write /
 * anon_vma_lock_read take {@code root.rwsem}).
 *
 * <p><b>Departures.</b> The kernel's parent of a root anon_vma is itself; here it is null (the
 * merge code has always read "no parent" that way). The tree ({@link #chains}) is an ordered map
 * keyed by the chain's creation number, standing in for the interval tree keyed by the VMA's pgoff
 * range: rmap_walk_anon visits every chain and skips a VMA whose range misses the folio's index
 * (linear in the chains where the interval tree is logarithmic; same result), and a VMA whose pgoff
 * changes needs no anon_vma_interval_tree_pre/post_update.
 */
public final class AnonVma {
    private static final AtomicLong IDS = new AtomicLong();
    private static final LockClass ANON_VMA_LOCK = LockClass.of("anon_vma->rwsem");

    /** The parent anon_vma for a fork child, else null. */
    public final AnonVma parent;
    /** The root of the fork family: this for a root; its rwsem locks the whole family's trees. */
    public final AnonVma root;
    /** anon_vma->rwsem: used only on the root ({@link #root}). */
    private final RwSemaphore rwsem;
    /**
     * anon_vma->refcount: 1 from anon_vma_alloc, one per child anon_vma on the root, and the
     * temporary references of folio_get_anon_vma. Dropped to 0 by put_anon_vma: freed.
     */
    private final AtomicInteger refcount = new AtomicInteger(1);
    /**
     * rb_root: the anon_vma_chains of the VMAs that may map this anon_vma's folios.
     * <b>Guarded by</b> root.rwsem (write to change, read to walk).
     */
    private final TreeMap<Long, AnonVmaChain> chains = new TreeMap<>();
    /** num_children: child anon_vmas (and the self-link of a root). Guarded by root.rwsem. */
    public int numChildren;
    /** num_active_vmas: VMAs whose vma->anon_vma is this. Guarded by root.rwsem. */
    public int numActiveVmas;

    private final long id = IDS.incrementAndGet();
    /** The machine's count of live anon_vmas (OOM-10), or null for one made outside a machine. */
    private final LongAdder live;

    /**
     * anon_vma_alloc: a root anon_vma when {@code parent} is null, else a fork child of it, counted
     * where its parent is.
     */
    public AnonVma(final AnonVma parent) {
        this(parent, parent == null ? null : parent.live);
    }

    /** anon_vma_alloc, counted in {@code live} (the machine's {@code LeakAccounting}) until freed. */
    public AnonVma(final AnonVma parent, final LongAdder live) {
        this.live = live;
        if (live != null) {
            live.increment();
        }
        this.parent = parent;
        this.root = parent == null ? this : parent.root;
        this.rwsem = parent == null ? new RwSemaphore(ANON_VMA_LOCK, null) : null;
        if (parent != null) {
            root.get(); // get_anon_vma(anon_vma->root)
        }
    }

    /** anon_vma_lock_write: the root's rwsem for write. */
    public void lockWrite() {
        root.rwsem.downWrite();
    }

    public void unlockWrite() {
        root.rwsem.upWrite();
    }

    /** anon_vma_trylock_read: the rmap walk of folio_referenced, which must not sleep on it. */
    public boolean tryLockRead() {
        return root.rwsem.downReadTrylock();
    }

    /** anon_vma_lock_read (rmap_walk_anon_lock). */
    public void lockRead() {
        root.rwsem.downRead();
    }

    public void unlockRead() {
        root.rwsem.upRead();
    }

    /** get_anon_vma. <b>Context:</b> the caller already holds a reference or the lock. */
    public void get() {
        final int r = refcount.getAndIncrement();
        assert r > 0 : "get_anon_vma on a freed " + this;
    }

    /** put_anon_vma: drops a reference; the last one frees it and drops the root's (__put_anon_vma). */
    public void put() {
        final int r = refcount.decrementAndGet();
        if (r < 0) {
            throw new IllegalStateException("anon_vma refcount underflow on " + this);
        }
        if (r == 0) {
            if (live != null) {
                live.decrement();
            }
            if (root != this) {
                root.put();
            }
        }
    }

    /**
     * folio_get_anon_vma's atomic_inc_not_zero: a reference unless the anon_vma is already being
     * freed.
     */
    public boolean tryGet() {
        int r;
        do {
            r = refcount.get();
            if (r == 0) {
                return false;
            }
        } while (!refcount.compareAndSet(r, r + 1));
        return true;
    }

    public int refcount() {
        return refcount.get();
    }

    /** anon_vma_interval_tree_insert. <b>Context:</b> root write-locked. */
    public void treeInsert(final AnonVmaChain avc) {
        chains.put(avc.id(), avc);
    }

    /** anon_vma_interval_tree_remove. <b>Context:</b> root write-locked. */
    public void treeRemove(final AnonVmaChain avc) {
        chains.remove(avc.id());
    }

    /** RB_EMPTY_ROOT. <b>Context:</b> root locked. */
    public boolean treeEmpty() {
        return chains.isEmpty();
    }

    /** The chains in the tree, in order. <b>Context:</b> root locked (read or write). */
    public List<AnonVmaChain> treeChains() {
        return new ArrayList<>(chains.values());
    }

    /** Iterates the tree without a copy. <b>Context:</b> root locked. */
    public Iterable<AnonVmaChain> treeIterable() {
        return chains.values();
    }

    @Override
    public String toString() {
        return "anon_vma#" + id;
    }
}
