package dev.vmsim.core.tree;

/**
 * A maple-tree cursor (struct ma_state): a position {@link #index}..{@link #last} in a tree. Lookups
 * through a reused cursor allocate nothing. Not thread-safe: one cursor per thread.
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
        final MapleTree.Snapshot s = tree.snapshot();
        final long at = index;
        final int i = MapleTree.ceiling(s, at);
        if (i < s.first.length && Long.compareUnsigned(s.first[i], at) <= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        index = i == 0 ? 0 : s.last[i - 1] + 1;
        last = i < s.first.length ? s.first[i] - 1 : -1L;
        return null;
    }

    /**
     * mas_find: the first entry at or after {@link #index} whose range starts at or before {@code max};
     * sets index/last to its range. Returns null (cursor unchanged) if there is none.
     */
    @SuppressWarnings("unchecked")
    public T find(final long max) {
        final MapleTree.Snapshot s = tree.snapshot();
        final int i = MapleTree.ceiling(s, index);
        if (i < s.first.length && Long.compareUnsigned(s.first[i], max) <= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        return null;
    }

    /**
     * mas_find_rev: the last entry at or before {@link #index} whose range ends at or after {@code min};
     * sets index/last to its range. Returns null if there is none.
     */
    @SuppressWarnings("unchecked")
    public T findRev(final long min) {
        final MapleTree.Snapshot s = tree.snapshot();
        int i = MapleTree.ceiling(s, index);
        if (i >= s.first.length || Long.compareUnsigned(s.first[i], index) > 0) {
            i--;
        }
        if (i >= 0 && Long.compareUnsigned(s.last[i], min) >= 0) {
            index = s.first[i];
            last = s.last[i];
            return (T) s.values[i];
        }
        return null;
    }

    /**
     * mas_empty_area: the lowest free range of at least {@code size} indices within [min, max].
     * On success returns 0 and sets index to its start and last to index + size - 1; otherwise
     * returns -{@link MapleTree#EBUSY}.
     */
    public int emptyArea(final long min, final long max, final long size) {
        final MapleTree.Snapshot s = tree.snapshot();
        long cursor = min;
        for (int i = 0; i <= s.first.length; i++) {
            final long gapEnd = i < s.first.length ? s.first[i] - 1 : -1L;
            if (i < s.first.length && Long.compareUnsigned(s.last[i], cursor) < 0) {
                continue;
            }
            if (i < s.first.length && Long.compareUnsigned(s.first[i], cursor) <= 0) {
                if (s.last[i] == -1L) {
                    return -MapleTree.EBUSY;
                }
                cursor = s.last[i] + 1;
                continue;
            }
            final long end = Long.compareUnsigned(gapEnd, max) < 0 ? gapEnd : max;
            if (Long.compareUnsigned(cursor, end) <= 0 && Long.compareUnsigned(end - cursor, size - 1) >= 0) {
                index = cursor;
                last = cursor + size - 1;
                return 0;
            }
            if (i == s.first.length || Long.compareUnsigned(s.first[i], max) > 0) {
                break;
            }
            if (s.last[i] == -1L) {
                break;
            }
            cursor = s.last[i] + 1;
        }
        return -MapleTree.EBUSY;
    }

    /**
     * mas_empty_area_rev: the highest free range of at least {@code size} indices within [min, max].
     * On success returns 0, sets last to the top of the usable gap and index to last - size + 1;
     * otherwise returns -{@link MapleTree#EBUSY}.
     */
    public int emptyAreaRev(final long min, final long max, final long size) {
        final MapleTree.Snapshot s = tree.snapshot();
        long top = max;
        for (int i = s.first.length - 1; i >= -1; i--) {
            final long gapStart = i >= 0 ? s.last[i] + 1 : 0;
            if (i >= 0 && Long.compareUnsigned(s.first[i], top) > 0) {
                continue;
            }
            if (i >= 0 && Long.compareUnsigned(s.last[i], top) >= 0) {
                if (s.first[i] == 0) {
                    return -MapleTree.EBUSY;
                }
                top = s.first[i] - 1;
                continue;
            }
            final long start = (i >= 0 && s.last[i] == -1L) ? top + 1 : (Long.compareUnsigned(gapStart, min) > 0 ? gapStart : min);
            if (Long.compareUnsigned(start, top) <= 0 && Long.compareUnsigned(top - start, size - 1) >= 0) {
                last = top;
                index = top - size + 1;
                return 0;
            }
            if (i < 0 || Long.compareUnsigned(s.last[i], min) < 0) {
                break;
            }
            if (s.first[i] == 0) {
                break;
            }
            top = s.first[i] - 1;
        }
        return -MapleTree.EBUSY;
    }
}
