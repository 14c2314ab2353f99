package dev.vmsim.core.tree;

import dev.vmsim.core.clock.CacheLine;
import dev.vmsim.core.clock.Cost;
import dev.vmsim.core.clock.Platform;
import dev.vmsim.core.sync.Rcu;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
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
    /** A node allocation failed (-ENOMEM). */
    public static final int ENOMEM = 12;
    /** __mt_dup into a tree that is not empty or has other flags (-EINVAL). */
    public static final int EINVAL = 22;

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

    /**
     * Where the {@code mtree_*} API ({@link #storeGfp} and its callers) and {@link #dup} take nodes.
     * The VMA tree's stores ({@link #store}) take none here: mm/vma.c preallocates before it changes
     * anything (vma_iter_prealloc), so the store itself cannot fail.
     */
    private MapleNodeCache nodeCache = new MapleNodeCache();

    /**
     * ma_lock, the tree's own lock for the {@code mtree_*} API (a spinlock in the kernel; here a
     * non-reentrant use of a ReentrantLock, as {@code Ptl}). Trees with an external lock (the VMA
     * tree: MT_FLAGS_LOCK_EXTERN, the mmap lock) never take it.
     */
    private final ReentrantLock maLock = new ReentrantLock();

    /**
     * trace_ma_write: sees every {@link #store} (range and entry; null is an erase) before it is
     * made, to record a tree's op stream as a replayable fixture (TREE-17). Null when off, which
     * costs {@link #store} one plain load. Set while the tree has no writer.
     */
    private RangeVisitor<? super T> storeTrace;

    /**
     * The cache lines a store rewrites (the leaf and the parent slot that points to it, fetched
     * together: one transfer), for the virtual clock's contention model; null for a tree no other
     * CPU writes (a detached tree, a test's). Set once, before the tree has a writer.
     */
    private CacheLine writtenNodes;

    /**
     * Where this tree counts the nodes it links in and retires (maple_node_cache's nr_allocated, for
     * a tree whose stores take no node from {@link #nodeCache}); null when not counted. Set before
     * the first store.
     */
    private LongAdder liveNodes;

    /** A tree with gap tracking (MT_FLAGS_ALLOC_RANGE) if {@code allocRange}. */
    public MapleTree(final boolean allocRange) {
        this.allocRange = allocRange;
        this.writer = new MapleWriter(allocRange);
    }

    public MapleTree() {
        this(true);
    }

    /**
     * Models the nodes each store rewrites as {@code line}: a store then writes it on the virtual
     * clock, so that a CPU storing after another pays the transfer of what the other rewrote.
     * <b>Context:</b> before the tree's first store.
     */
    public void setWrittenNodes(final CacheLine line) {
        this.writtenNodes = line;
    }

    /** A store's writes to the nodes it rewrites, where they are modelled ({@link #setWrittenNodes}). */
    private void writeNodes() {
        final CacheLine line = writtenNodes;
        if (line != null) {
            // storeLocked: the writers are serialised by the caller's lock (the mmap_lock), whose
            // other users wait on the lock, not on this line; no preemption point of its own.
            Platform.current().storeLocked(line);
        }
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
        final RangeVisitor<? super T> trace = storeTrace;
        if (trace != null) {
            trace.visit(first, last, value);
        }
        writeNodes();
        assert enterWriter();
        try {
            final MapleNode oldRoot = root;
            publish(oldRoot, writer.store(oldRoot, first, last, value));
        } finally {
            assert exitWriter();
        }
    }

    /**
     * mas_store_gfp: {@link #store} with its nodes taken from {@link #nodeCache}, as the kernel's
     * {@code mtree_*} API does. The first allocation may not sleep (GFP_NOWAIT under the tree lock);
     * if it fails and {@code gfp} may sleep, mas_nomem drops {@link #maLock} (when the caller holds
     * it), allocates with GFP_KERNEL, takes the lock again and retries the whole store from a fresh
     * walk (mas_reset): another writer may have changed the tree meanwhile, and the retry must keep
     * that change (OOM-03). Nothing is published until the nodes are allocated, so a failed store
     * leaves the tree exactly as it was.
     *
     * <p>Departure: the writer builds its nodes first and then asks the cache for as many as it
     * built (the kernel asks first, for the worst case of the store type); the count differs from the
     * kernel's but the outcome of a failure, -ENOMEM with the tree unchanged, is the same. A store of
     * index 0 alone into an empty tree needs no node, as the kernel keeps such an entry in the root
     * pointer.
     *
     * @return 0, or -{@link #ENOMEM}
     */
    public int storeGfp(final long first, final long last, final T value, final MapleNodeCache.Gfp gfp) {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("first > last");
        }
        long held = 0; // nodes mas_nomem allocated for a retry (mas->alloc)
        while (true) {
            final MapleNode oldRoot = root;
            final MapleNode newRoot;
            assert enterWriter();
            try {
                newRoot = writer.store(oldRoot, first, last, value);
            } finally {
                assert exitWriter();
            }
            final int need = oldRoot == null && first == 0 && last == 0 ? 0 : newNodes(newRoot, 0, oldRoot);
            if (need <= held || nodeCache.alloc((int) (need - held), MapleNodeCache.Gfp.ATOMIC)) {
                nodeCache.free(Math.max(0, held - need)); // mas_destroy: the unused preallocation
                writeNodes();
                publish(oldRoot, newRoot);
                return 0;
            }
            if (gfp != MapleNodeCache.Gfp.KERNEL) {
                nodeCache.free(held);
                return -ENOMEM;
            }
            // mas_nomem: allocate where sleeping is allowed, then retry from the root.
            final boolean dropLock = maLock.isHeldByCurrentThread();
            if (dropLock) {
                maLock.unlock();
            }
            final boolean ok;
            try {
                ok = nodeCache.alloc((int) (need - held), MapleNodeCache.Gfp.KERNEL);
            } finally {
                if (dropLock) {
                    maLock.lock();
                }
            }
            if (!ok) {
                nodeCache.free(held);
                return -ENOMEM;
            }
            held = need;
        }
    }

    /** The nodes under {@code n} (whose range starts at {@code lo}) that are not in the tree rooted at {@code old}. */
    private static int newNodes(final MapleNode n, final long lo, final MapleNode old) {
        if (n == null) {
            return 0;
        }
        for (MapleNode m = old; m != null; m = m.leaf ? null : (MapleNode) m.slots[m.slotOf(lo)]) {
            if (m == n) {
                return 0; // copy-on-write kept this subtree
            }
        }
        int c = 1;
        if (!n.leaf) {
            for (int i = 0; i < n.slots.length; i++) {
                c += newNodes((MapleNode) n.slots[i], i == 0 ? lo : n.pivot(i - 1) + 1, old);
            }
        }
        return c;
    }

    private void publish(final MapleNode oldRoot, final MapleNode newRoot) {
        root = newRoot; // release: publishes the fully built replacement path
        final LongAdder live = liveNodes;
        if (live != null && oldRoot != newRoot) {
            // Copy-on-write: the nodes only the new version has were allocated, the ones only the old
            // version has are freed (through call_rcu in RCU mode); both are the replaced path.
            live.add(newNodes(newRoot, 0, oldRoot) - newNodes(oldRoot, 0, newRoot));
        }
        if (inRcu && oldRoot != null && Rcu.tracked()) {
            retire(oldRoot, 0, newRoot);
        }
    }

    /** Sets (or with null clears) the {@link #storeTrace} that sees every {@link #store}. */
    public void setStoreTrace(final RangeVisitor<? super T> trace) {
        this.storeTrace = trace;
    }

    /**
     * mas_expected_entries: puts the tree's writer in bulk mode (MA_STATE_BULK). Until
     * {@link #bulkDestroy}, a store that leaves a node under its minimum keeps that node rather than
     * rebalancing it, so {@link #validate} may fail in between, as mt_validate would in the kernel.
     * The entry count is the kernel's preallocation hint; nodes are not preallocated here.
     */
    public void expectedEntries(final long nrEntries) {
        if (nrEntries <= 0) {
            throw new IllegalArgumentException("mas_expected_entries(" + nrEntries + ")");
        }
        writer.bulk = true;
    }

    /** mas_destroy after bulk mode: ends it and rebalances whatever it left short (MA_STATE_REBALANCE). */
    public void bulkDestroy() {
        final boolean rebuild = writer.shortNodeKept;
        final MapleNode oldRoot = root;
        final MapleNode rebuilt = writer.rebalanceAfterBulk(oldRoot);
        if (rebuild) {
            publish(oldRoot, rebuilt);
        }
    }

    /** Whether the last {@link #store} chose a rebalance (mas->store_type == wr_rebalance). */
    public boolean lastStoreRebalanced() {
        return writer.rebalanced;
    }

    /** mtree_lock: takes ma_lock. Not reentrant (a spinlock): taking it twice is a self-deadlock. */
    public void mtreeLock() {
        if (maLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("mtree_lock taken recursively (self-deadlock)");
        }
        maLock.lock();
    }

    /** mtree_unlock. */
    public void mtreeUnlock() {
        maLock.unlock();
    }

    /** Whether this thread holds ma_lock (lockdep_is_held(&mt->ma_lock)). */
    public boolean mtreeLockHeld() {
        return maLock.isHeldByCurrentThread();
    }

    /** mtree_store_range: takes the tree lock and stores with {@code gfp}; returns 0 or -ENOMEM. */
    public int mtreeStoreRange(final long first, final long last, final T value, final MapleNodeCache.Gfp gfp) {
        mtreeLock();
        try {
            return storeGfp(first, last, value, gfp);
        } finally {
            mtreeUnlock();
        }
    }

    /** mtree_insert_range: stores only into an empty range; returns 0, -EEXIST or -ENOMEM. */
    public int mtreeInsertRange(final long first, final long last, final T value, final MapleNodeCache.Gfp gfp) {
        if (value == null) {
            throw new IllegalArgumentException("mtree_insert of NULL (-EINVAL)");
        }
        mtreeLock();
        try {
            final MaState<T> mas = new MaState<>(this, first, first);
            if (mas.find(last) != null) {
                return -EEXIST;
            }
            return storeGfp(first, last, value, gfp);
        } finally {
            mtreeUnlock();
        }
    }

    /**
     * mas_erase under the tree lock held by the caller: erases the whole entry at {@code index}. The
     * range is that of the first walk; if the store's allocation fails, mas_nomem retries it from the
     * root with GFP_KERNEL (OOM-03). Returns the erased entry, or null.
     */
    @SuppressWarnings("unchecked")
    public T masErase(final long index) {
        final MaState<T> mas = new MaState<>(this, index, index);
        final T old = (T) walkInto(root, index, mas);
        if (old != null && storeGfp(mas.index, mas.last, null, MapleNodeCache.Gfp.KERNEL) != 0) {
            return null;
        }
        return old;
    }

    /**
     * mtree_alloc_rrange: the highest free range of {@code size} indices in [min, max]
     * (mas_empty_area_rev), then stores {@code entry} there. On success {@code startp[0]} is its start.
     *
     * @return 0, -{@link #EBUSY} when no gap fits, or -{@link #ENOMEM}
     */
    public int allocRrange(
            final long[] startp,
            final T entry,
            final long size,
            final long min,
            final long max,
            final MapleNodeCache.Gfp gfp) {
        mtreeLock();
        try {
            final MaState<T> mas = new MaState<>(this, 0, 0);
            final int rc = mas.emptyAreaRev(min, max, size);
            if (rc != 0) {
                return rc;
            }
            final int st = storeGfp(mas.index, mas.last, entry, gfp);
            if (st == 0) {
                startp[0] = mas.index;
            }
            return st;
        } finally {
            mtreeUnlock();
        }
    }

    /** The cache this tree's {@code mtree_*} stores and {@link #dup} take nodes from. */
    public MapleNodeCache nodeCache() {
        return nodeCache;
    }

    /** Makes this tree take nodes from {@code cache} (the kernel's maple_node_cache is one, shared). */
    public void useNodeCache(final MapleNodeCache cache) {
        this.nodeCache = cache;
    }

    /**
     * __mt_dup: copies this tree into the empty tree {@code dst}, node for node (same types, pivots,
     * gaps and entries; new node objects), with the nodes taken from {@code dst}'s cache. Used by
     * dup_mmap in the kernel; the simulator's fork still rebuilds the child tree VMA by VMA (see
     * {@code Fork}), so this is the tree-level operation only.
     *
     * <p>On a failed allocation every node already copied is given back and {@code dst} stays empty
     * (mas_dup_free), so nothing leaks (OOM-05).
     *
     * <p><b>Context:</b> the caller serialises writers of both trees.
     *
     * @return 0, -{@link #EINVAL} if {@code dst} is not empty or its flags differ, -{@link #ENOMEM}
     */
    public int dup(final MapleTree<T> dst, final MapleNodeCache.Gfp gfp) {
        if (dst.root != null || dst.allocRange != allocRange) {
            return -EINVAL;
        }
        final MapleNode src = root;
        if (src == null) {
            return 0;
        }
        final long[] taken = new long[1];
        final MapleNode copy = dupNode(src, dst.nodeCache, gfp, taken);
        if (copy == null) {
            dst.nodeCache.free(taken[0]);
            return -ENOMEM;
        }
        dst.root = copy; // release: the copy is complete before it is reachable
        if (dst.liveNodes != null) {
            dst.liveNodes.add(taken[0]);
        }
        return 0;
    }

    /** A copy of {@code n}'s subtree, children first; null (with {@code taken[0]} nodes taken) on -ENOMEM. */
    private static MapleNode dupNode(
            final MapleNode n, final MapleNodeCache cache, final MapleNodeCache.Gfp gfp, final long[] taken) {
        if (!cache.alloc(1, gfp)) {
            return null;
        }
        taken[0]++;
        final Object[] slots = n.slots.clone();
        if (!n.leaf) {
            for (int i = 0; i < slots.length; i++) {
                final MapleNode child = dupNode((MapleNode) slots[i], cache, gfp, taken);
                if (child == null) {
                    return null;
                }
                slots[i] = child;
            }
        }
        return MapleNode.copyOf(n, slots);
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
        if (liveNodes != null && oldRoot != null) {
            liveNodes.add(-newNodes(oldRoot, 0, null));
        }
        if (inRcu && Rcu.tracked() && oldRoot != null) {
            retire(oldRoot, 0, null);
        }
    }

    /**
     * Makes this tree count the nodes it links in (+) and retires (-) into {@code live}, so that the
     * sum over a machine's trees is its maple nodes in use (the harness's nr_allocated; OOM-10).
     * <b>Context:</b> before the first store.
     */
    public void countLiveNodesIn(final LongAdder live) {
        this.liveNodes = live;
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
