package dev.vmsim.core.tree;

import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.sync.Rcu;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A range tree mapping closed ranges [first, last] of unsigned 64-bit indices to values; the maple
 * tree of lib/maple_tree.c ({@code struct maple_tree}).
 *
 * <p><b>Shape.</b> A B-tree of wide {@link MapleNode}s: leaves ({@code maple_leaf_64}, 16 slots) partition
 * the whole index space [0, 2^64-1] into entries and NULL gaps; internal nodes are
 * {@code maple_arange_64} (10 slots, with per-child gap tracking) when the tree was made with
 * {@code allocRange} (MT_FLAGS_ALLOC_RANGE, the VMA tree) and {@code maple_range_64} (16 slots)
 * otherwise. All leaves are at the same depth. Adjacent NULL ranges are always coalesced and an empty
 * tree has no node at all (TREE-03). Every non-root node holds at least the kernel's minimum slot count
 * (6 for range64/leaf, 4 for arange64); an internal root has at least two children.
 *
 * <p><b>Thread safety (RCU mode, MT_FLAGS_USE_RCU).</b> Writers ({@link #store}, {@link #insert},
 * {@link #erase}, {@link #destroy}) are serialised by the caller (the mmap write lock for the VMA tree:
 * the kernel's MT_FLAGS_LOCK_EXTERN); the tree keeps one writer whose scratch arrays every store reuses,
 * which relies on that serialisation. Readers take no lock: they read {@link #root} once (acquire) and
 * walk immutable nodes, so a lookup racing a store sees the tree wholly before or wholly after it.
 * Lookups ({@link #walk}, and {@link MaState#walk}, {@link MaState#find}, {@link MaState#findRev} on a
 * reused cursor) allocate nothing.
 *
 * <pre>{@code
 * final MapleTree<Vma> mt = new MapleTree<>(true);
 * mt.store(0x1000, 0x2fff, vma);              // under the mmap write lock
 * final Vma hit = mt.walk(0x1800);            // lockless reader
 * final MaState<Vma> mas = new MaState<>(mt, 0, 0);
 * if (mas.emptyAreaRev(0x10000, 0x7fff_ffff_ffffL, 0x4000) == 0) { long start = mas.index; }
 * }</pre>
 *
 * @param <T> entry type; {@code null} is the absence of an entry
 */
public final class MapleTree<T> {
    /** mas_empty_area returned no area (-EBUSY). */
    public static final int EBUSY = 16;
    /** mtree_insert found the range occupied (-EEXIST). */
    public static final int EEXIST = 17;

    /**
     * The root node, or null for an empty tree. Written only by the (serialised) writer with a volatile
     * store (release) after every new node is fully built; read once per lookup (acquire; pairs with
     * that release), as rcu_dereference(mt->ma_root).
     */
    private volatile MapleNode root;

    private final boolean allocRange;

    /**
     * MT_FLAGS_USE_RCU (mt_set_in_rcu): replaced nodes are freed through call_rcu and poisoned after
     * the grace period (debug build; otherwise the garbage collector frees them). Set before the
     * tree is shared; read only by the writer.
     */
    private boolean inRcu;

    /**
     * The tree's one writer and its scratch (path arrays, segment lists), reused by every store. Safe
     * only because writers are serialised by the caller (see the class comment); {@link #writerBusy}
     * checks that under {@code -ea}.
     */
    private final MapleWriter writer;

    /** Writer scratch cursor for {@link #insert} / {@link #erase} (writers are serialised). */
    private final MaState<T> wrMas = new MaState<>(this, 0, 0);

    /** -ea only: set while a store runs, to catch unserialised writers (plain field: a best-effort check). */
    private boolean writerBusy;

    /** A tree with gap tracking (MT_FLAGS_ALLOC_RANGE) if {@code allocRange}. */
    public MapleTree(final boolean allocRange) {
        this.allocRange = allocRange;
        this.writer = new MapleWriter(allocRange);
    }

    public MapleTree() {
        this(true);
    }

    public boolean allocRange() {
        return allocRange;
    }

    MapleNode root() {
        return root;
    }

    /**
     * mtree_load / mas_walk: the entry whose range holds {@code index}, or null.
     *
     * <p>Reads {@link #root} exactly once (acquire; pairs with the release in {@link #store}) and then walks
     * only immutable nodes, so it is safe without any lock (the RCU read side of mtree_load).
     */
    @SuppressWarnings("unchecked")
    public T walk(final long index) {
        final MapleNode root = this.root;
        return root == null ? null : (T) load(root, index);
    }

    /**
     * The entry covering {@code index} under {@code n} (which spans the whole space): the descent of
     * mas_walk without the range bookkeeping.
     */
    static Object load(final MapleNode root, final long index) {
        final long key = index ^ Long.MIN_VALUE;
        final Platform p = Platform.current();
        MapleNode n = root;
        while (true) {
            p.charge(Cost.MAPLE_NODE_VISIT);
            final Object slot = n.slots[n.slotOfFlipped(key)];
            if (n.leaf) {
                return slot;
            }
            n = (MapleNode) slot;
        }
    }

    /**
     * mas_walk on the snapshot {@code root}: returns the entry (possibly null) covering {@code index} and
     * sets mas.index/mas.last to its whole range, or to the whole gap.
     */
    static Object walkInto(final MapleNode root, final long index, final MaState<?> mas) {
        if (root == null) {
            mas.index = 0;
            mas.last = -1L;
            return null;
        }
        MapleNode n = root;
        long lo = 0;
        long hi = -1L;
        final Platform p = Platform.current();
        while (true) {
            final long nodeMin = lo;
            p.charge(Cost.MAPLE_NODE_VISIT);
            final int i = n.slotOf(index);
            if (i > 0) {
                lo = n.pivot(i - 1) + 1;
            }
            if (i < n.pivotCount()) {
                hi = n.pivot(i);
            }
            final Object slot = n.slots[i];
            if (n.leaf) {
                mas.node = n;
                mas.nodeMin = nodeMin;
                mas.offset = i;
                mas.index = lo;
                mas.last = hi;
                return slot;
            }
            n = (MapleNode) slot;
        }
    }

    /** mt_find: the first entry at or after {@code from} whose range starts at or before {@code max}. */
    public T find(final long from, final long max) {
        final MaState<T> mas = new MaState<>(this, from, from);
        return mas.find(max);
    }

    /** The last entry at or before {@code from} whose range ends at or after {@code min} (mt_find_rev). */
    public T findRev(final long from, final long min) {
        final MaState<T> mas = new MaState<>(this, from, from);
        return mas.findRev(min);
    }

    /**
     * mas_store_gfp: makes [first, last] map to {@code value}, overwriting and splitting whatever it
     * overlaps; storing null erases (and coalesces with neighbouring NULLs).
     *
     * <p><b>Context:</b> writers serialised by the caller; concurrent readers allowed.
     */
    public void store(final long first, final long last, final T value) {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("first > last");
        }
        assert enterWriter();
        try {
            final MapleNode oldRoot = root;
            final MapleNode newRoot = writer.store(oldRoot, first, last, value);
            root = newRoot; // release: publishes the fully built replacement path
            if (inRcu && oldRoot != null && Rcu.tracked()) {
                retire(oldRoot, 0, newRoot);
            }
        } finally {
            assert exitWriter();
        }
    }

    private boolean enterWriter() {
        if (writerBusy) {
            throw new IllegalStateException("concurrent MapleTree writers: callers must serialise stores");
        }
        writerBusy = true;
        return true;
    }

    private boolean exitWriter() {
        writerBusy = false;
        return true;
    }

    /** mtree_insert: stores only if [first, last] is entirely empty; returns 0 or -EEXIST (17). */
    public int insert(final long first, final long last, final T value) {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("first > last");
        }
        final MaState<T> mas = wrMas;
        mas.set(first, first);
        if (mas.find(last) != null) {
            return -EEXIST;
        }
        store(first, last, value);
        return 0;
    }

    /** mtree_erase: removes the whole entry containing {@code index}; returns it or null. */
    @SuppressWarnings("unchecked")
    public T erase(final long index) {
        final MaState<T> mas = wrMas;
        mas.set(index, index);
        final T old = (T) walkInto(root, index, mas);
        if (old != null) {
            store(mas.index, mas.last, null);
        }
        return old;
    }

    /** Number of stored (non-null) entries. */
    public int size() {
        final MapleNode root = this.root;
        return root == null ? 0 : root.count;
    }

    public boolean isEmpty() {
        return root == null;
    }

    /** Visits the entries in ascending order (mt_for_each over [0, ULONG_MAX]). */
    public void forEach(final Consumer<? super T> action) {
        forEachRange((f, l, v) -> action.accept(v));
    }

    /** Visits entries with their ranges, ascending. */
    public void forEachRange(final RangeVisitor<? super T> visitor) {
        final MapleNode root = this.root;
        if (root != null) {
            visit(root, 0, -1L, visitor);
        }
    }

    @SuppressWarnings("unchecked")
    private void visit(final MapleNode n, final long lo, final long hi, final RangeVisitor<? super T> visitor) {
        for (int i = 0; i < n.slots.length; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < n.pivotCount() ? n.pivot(i) : hi;
            if (!n.leaf) {
                visit((MapleNode) n.slots[i], slo, shi, visitor);
            } else if (n.slots[i] != null) {
                visitor.visit(slo, shi, (T) n.slots[i]);
            }
        }
    }

    /**
     * The nodes of the tree in pre-order from the root, each with its pivots, slots and gaps (the
     * information mt_dump() prints). Reads {@link #root} once (acquire), so the list is one consistent
     * version of the tree even while a writer runs.
     */
    public List<MapleNodeView> nodes() {
        final List<MapleNodeView> out = new ArrayList<>();
        final MapleNode root = this.root;
        if (root != null) {
            dump(root, -1, 0, -1L, out);
        }
        return out;
    }

    private static int dump(
            final MapleNode n, final int parent, final long lo, final long hi, final List<MapleNodeView> out) {
        final int id = out.size();
        out.add(null); // reserve the pre-order position; filled below once the children have theirs
        final List<MapleNodeView.Slot> slots = new ArrayList<>();
        for (int i = 0; i < n.slots.length; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < n.pivotCount() ? n.pivot(i) : hi;
            if (n.leaf) {
                slots.add(new MapleNodeView.Slot(slo, shi, -1, n.slots[i]));
            } else {
                slots.add(new MapleNodeView.Slot(slo, shi, dump((MapleNode) n.slots[i], id, slo, shi, out), null));
            }
        }
        final List<Long> gaps = new ArrayList<>();
        if (n.gaps != null) {
            for (final long g : n.gaps) {
                gaps.add(g);
            }
        }
        final String type = n.leaf ? "maple_leaf_64" : n.gaps != null ? "maple_arange_64" : "maple_range_64";
        out.set(id, new MapleNodeView(id, parent, type, lo, hi, List.copyOf(slots), List.copyOf(gaps)));
        return id;
    }

    /** Callback for {@link #forEachRange}. */
    @FunctionalInterface
    public interface RangeVisitor<T> {
        void visit(long first, long last, T value);
    }

    /** Removes every entry (mtree_destroy); in RCU mode the nodes are freed after a grace period. */
    public void destroy() {
        final MapleNode oldRoot = root;
        root = null;
        if (inRcu && Rcu.tracked() && oldRoot != null) {
            retire(oldRoot, 0, null);
        }
    }

    /** mt_set_in_rcu: the tree is read locklessly under RCU; see {@link #inRcu}. */
    public void setInRcu() {
        inRcu = true;
    }

    /**
     * Queues call_rcu(poison) for every node under {@code old} (whose range starts at {@code lo})
     * that is no longer in the tree rooted at {@code now}. Copy-on-write keeps an unchanged subtree by
     * identity, and a node still in the tree lies on the path to its own first index, so one descent
     * of {@code now} per node tells a kept node (skipped with its whole subtree) from a replaced one.
     */
    private static void retire(final MapleNode old, final long lo, final MapleNode now) {
        for (MapleNode n = now; n != null; n = n.leaf ? null : (MapleNode) n.slots[n.slotOf(lo)]) {
            if (n == old) {
                return;
            }
        }
        if (!old.leaf) {
            for (int i = 0; i < old.slots.length; i++) {
                retire((MapleNode) old.slots[i], i == 0 ? lo : old.pivot(i - 1) + 1, now);
            }
        }
        Rcu.callRcu(old::poison);
    }

    /** Height of the tree: 0 when empty, 1 for a lone leaf (as mt_height()). */
    public int height() {
        int h = 0;
        for (MapleNode n = root; n != null; n = n.leaf ? null : (MapleNode) n.slots[0]) {
            h++;
        }
        return h;
    }

    /**
     * Checks every structural invariant (mt_validate: mas_validate_limits, mas_validate_gaps,
     * mas_validate_child_slot, occupancy); throws {@link IllegalStateException} describing the first
     * violation. See {@link MapleValidator}.
     */
    public void validate() {
        new MapleValidator(allocRange).validate(root);
    }
}
