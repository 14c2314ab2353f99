package dev.vmsim.core.tree;

/**
 * A maple-tree cursor (struct ma_state): a position {@link #index}..{@link #last} in a tree. Lookups
 * through a reused cursor allocate nothing. Not thread-safe: one cursor per thread. Each call reads the
 * tree's root once, so it sees one consistent version of the tree even while a writer runs (RCU mode).
 *
 * @param <T> entry type
 */
public final class MaState<T> {
    private final MapleTree<T> tree;
    /** Start of the current range (inclusive). */
    public long index;
    /** End of the current range (inclusive). */
    public long last;
    /**
     * The leaf the last walk ended in and the slot it found (mas->node, mas->offset). {@link #prev}
     * reads it again without going back to the root, as the kernel's maple state does; like the
     * kernel's, it is valid only while the caller keeps the tree from changing (the mmap lock) or
     * stays inside an RCU read section.
     */
    MapleNode node;

    /** The first index {@link #node} covers. */
    long nodeMin;

    int offset;

    /**
     * ma_overflow: {@link #pause} found the cursor at ULONG_MAX, so there is nothing after it and
     * {@link #find} returns null until the cursor is {@link #set}.
     */
    private boolean overflow;

    public MaState(final MapleTree<T> tree, final long first, final long last) {
        this.tree = tree;
        this.index = first;
        this.last = last;
    }

    public MapleTree<T> tree() {
        return tree;
    }

    /** mas_set_range: repositions the cursor. */
    public void set(final long first, final long last) {
        this.index = first;
        this.last = last;
        this.node = null;
        this.overflow = false;
    }

    /**
     * mas_pause: readies the cursor to be left while the caller drops its lock (or RCU read section)
     * and resumed with {@link #find} after taking it again. The cursor forgets the node it holds, which
     * may be freed meanwhile, and keeps only the index after the current entry, so the resumed
     * iteration starts at the next entry whatever the tree looks like by then: no entry before the
     * pause is returned again, none after it is skipped (TREE-19).
     */
    public void pause() {
        node = null;
        if (last == -1L) {
            overflow = true;
            return;
        }
        index = last + 1;
        last = index;
    }

    /**
     * mas_walk: returns the entry covering {@link #index} (null in a gap) and sets index/last to
     * that entry's whole range, or to the whole gap.
     */
    @SuppressWarnings("unchecked")
    public T walk() {
        return (T) MapleTree.walkInto(tree.root(), index, this);
    }

    /**
     * mas_find: the first entry at or after {@link #index} whose range starts at or before {@code max};
     * sets index/last to its range. Returns null (cursor unchanged) if there is none.
     */
    @SuppressWarnings("unchecked")
    public T find(final long max) {
        final MapleNode root = tree.root();
        if (root == null || overflow) {
            return null;
        }
        final long at = index;
        final long saveLast = last;
        Object entry = MapleTree.walkInto(root, at, this);
        if (entry == null && last != -1L) {
            // NULLs are coalesced, so the range after a gap always holds an entry.
            entry = MapleTree.walkInto(root, last + 1, this);
        }
        if (entry != null && Long.compareUnsigned(index, max) <= 0) {
            return (T) entry;
        }
        index = at;
        last = saveLast;
        return null;
    }

    /**
     * mas_find_rev: the last entry at or before {@link #index} whose range ends at or after {@code min};
     * sets index/last to its range. Returns null (cursor unchanged) if there is none.
     */
    @SuppressWarnings("unchecked")
    public T findRev(final long min) {
        final MapleNode root = tree.root();
        if (root == null) {
            return null;
        }
        final long at = index;
        final long saveLast = last;
        Object entry = MapleTree.walkInto(root, at, this);
        if (entry == null && index != 0) {
            entry = MapleTree.walkInto(root, index - 1, this);
        }
        if (entry != null && Long.compareUnsigned(last, min) >= 0) {
            return (T) entry;
        }
        index = at;
        last = saveLast;
        return null;
    }

    /**
     * mas_empty_area: the lowest free range of at least {@code size} indices within [min, max], found by
     * descending only into children whose tracked gap is large enough. On success returns 0 and sets
     * index to its start and last to index + size - 1; otherwise returns -{@link MapleTree#EBUSY}.
     */
    public int emptyArea(final long min, final long max, final long size) {
        return MapleGapSearch.emptyArea(tree.root(), min, max, size, this) ? 0 : -MapleTree.EBUSY;
    }

    /**
     * mas_empty_area_rev: the highest free range of at least {@code size} indices within [min, max].
     * On success returns 0, sets last to the top of the usable gap and index to last - size + 1;
     * otherwise returns -{@link MapleTree#EBUSY}.
     */
    public int emptyAreaRev(final long min, final long max, final long size) {
        return MapleGapSearch.emptyAreaRev(tree.root(), min, max, size, this) ? 0 : -MapleTree.EBUSY;
    }

    /**
     * mas_prev: the entry before the current one whose range ends at or after {@code min}, read from
     * the leaf of the last walk when it holds one (the kernel's mas_prev_slot), else from a new walk.
     * Returns null (cursor unchanged) if there is none.
     *
     * @throws AssertionError if the cached leaf was freed after an RCU grace period: the caller held
     *     neither the lock that keeps the tree still nor an RCU read section (use-after-free, BUG-01)
     */
    @SuppressWarnings("unchecked")
    public T prev(final long min) {
        final MapleNode n = node;
        if (n != null) {
            for (int i = offset - 1; i >= 0; i--) {
                final Object slot = n.slots[i];
                if (slot == MapleNode.POISON) {
                    throw new AssertionError("use-after-free: mas_prev read a maple node freed after an RCU grace "
                            + "period (held without the mmap lock's exclusion or rcu_read_lock: StackRot, BUG-01)");
                }
                if (slot != null) {
                    if (Long.compareUnsigned(n.pivot(i), min) < 0) {
                        return null;
                    }
                    index = i == 0 ? nodeMin : n.pivot(i - 1) + 1;
                    last = n.pivot(i);
                    offset = i;
                    return (T) slot;
                }
            }
        }
        if (index == 0) {
            return null;
        }
        final long at = index;
        final long saveLast = last;
        index = at - 1;
        final T t = findRev(min);
        if (t == null) {
            index = at;
            last = saveLast;
        }
        return t;
    }
}
