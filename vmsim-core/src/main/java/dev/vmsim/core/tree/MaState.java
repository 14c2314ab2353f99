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
        if (root == null) {
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
}
