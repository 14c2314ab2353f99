package dev.vmsim.core.tree;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * A range tree mapping closed ranges [first, last] of unsigned 64-bit indices to values,
 * modelled on lib/maple_tree.c.
 *
 * <p>Writers ({@link #store}, {@link #erase}) are serialised by the caller (the mmap write lock
 * for the VMA tree: the kernel's MT_FLAGS_LOCK_EXTERN). In RCU mode any number of readers run
 * concurrently with one writer and never see a half-written structure.
 *
 * <p>SKELETON implementation: an immutable sorted array replaced wholesale on every store
 * (correct, RCU-safe, O(n) writes, linear gap search). [1/6] replaces the internals with the
 * wide-node B-tree with gap tracking behind the same API.
 *
 * @param <T> entry type; {@code null} is the absence of an entry
 */
public final class MapleTree<T> {
    /** mas_empty_area returned no area (-EBUSY). */
    public static final int EBUSY = 16;

    static final class Snapshot {
        final long[] first;
        final long[] last;
        final Object[] values;

        Snapshot(final long[] first, final long[] last, final Object[] values) {
            this.first = first;
            this.last = last;
            this.values = values;
        }
    }

    private static final Snapshot EMPTY = new Snapshot(new long[0], new long[0], new Object[0]);

    private volatile Snapshot root = EMPTY; // release store publishes a complete snapshot

    private final boolean allocRange;

    /** A tree with gap tracking (MT_FLAGS_ALLOC_RANGE) if {@code allocRange}. */
    public MapleTree(final boolean allocRange) {
        this.allocRange = allocRange;
    }

    public MapleTree() {
        this(true);
    }

    public boolean allocRange() {
        return allocRange;
    }

    Snapshot snapshot() {
        return root;
    }

    /** mtree_load / mas_walk: the entry whose range holds {@code index}, or null. */
    @SuppressWarnings("unchecked")
    public T walk(final long index) {
        final Snapshot s = root;
        final int i = locate(s, index);
        return i >= 0 ? (T) s.values[i] : null;
    }

    /** Index of the entry containing {@code index}, or -1. */
    static int locate(final Snapshot s, final long index) {
        int lo = 0;
        int hi = s.first.length - 1;
        while (lo <= hi) {
            final int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(s.last[mid], index) < 0) {
                lo = mid + 1;
            } else if (Long.compareUnsigned(s.first[mid], index) > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** First entry whose range ends at or after {@code index} (insertion point). */
    static int ceiling(final Snapshot s, final long index) {
        int lo = 0;
        int hi = s.first.length;
        while (lo < hi) {
            final int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(s.last[mid], index) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
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
     * overlaps; storing null erases. Caller serialises writers.
     */
    public void store(final long first, final long last, final T value) {
        if (Long.compareUnsigned(first, last) > 0) {
            throw new IllegalArgumentException("first > last");
        }
        final Snapshot s = root;
        final int n = s.first.length;
        final long[] nf = new long[n + 2];
        final long[] nl = new long[n + 2];
        final Object[] nv = new Object[n + 2];
        int k = 0;
        boolean placed = false;
        for (int i = 0; i < n; i++) {
            final long f = s.first[i];
            final long l = s.last[i];
            if (Long.compareUnsigned(l, first) < 0) {
                nf[k] = f;
                nl[k] = l;
                nv[k++] = s.values[i];
                continue;
            }
            if (Long.compareUnsigned(f, last) > 0) {
                if (!placed) {
                    if (value != null) {
                        nf[k] = first;
                        nl[k] = last;
                        nv[k++] = value;
                    }
                    placed = true;
                }
                nf[k] = f;
                nl[k] = l;
                nv[k++] = s.values[i];
                continue;
            }
            // overlap
            if (Long.compareUnsigned(f, first) < 0) {
                nf[k] = f;
                nl[k] = first - 1;
                nv[k++] = s.values[i];
            }
            if (!placed) {
                if (value != null) {
                    nf[k] = first;
                    nl[k] = last;
                    nv[k++] = value;
                }
                placed = true;
            }
            if (Long.compareUnsigned(l, last) > 0) {
                nf[k] = last + 1;
                nl[k] = l;
                nv[k++] = s.values[i];
            }
        }
        if (!placed && value != null) {
            nf[k] = first;
            nl[k] = last;
            nv[k++] = value;
        }
        root = new Snapshot(Arrays.copyOf(nf, k), Arrays.copyOf(nl, k), Arrays.copyOf(nv, k));
    }

    /** mtree_insert: stores only if [first, last] is entirely empty; returns 0 or -EEXIST (17). */
    public int insert(final long first, final long last, final T value) {
        final MaState<T> mas = new MaState<>(this, first, first);
        final T hit = mas.find(last);
        if (hit != null) {
            return -17;
        }
        store(first, last, value);
        return 0;
    }

    /** mtree_erase: removes the whole entry containing {@code index}; returns it or null. */
    @SuppressWarnings("unchecked")
    public T erase(final long index) {
        final Snapshot s = root;
        final int i = locate(s, index);
        if (i < 0) {
            return null;
        }
        final T old = (T) s.values[i];
        store(s.first[i], s.last[i], null);
        return old;
    }

    /** Number of stored (non-null) entries. */
    public int size() {
        return root.first.length;
    }

    public boolean isEmpty() {
        return size() == 0;
    }

    /** Visits the entries in ascending order (mt_for_each over [0, ULONG_MAX]). */
    @SuppressWarnings("unchecked")
    public void forEach(final Consumer<? super T> action) {
        final Snapshot s = root;
        for (final Object v : s.values) {
            action.accept((T) v);
        }
    }

    /** Visits entries with their ranges, ascending. */
    @SuppressWarnings("unchecked")
    public void forEachRange(final RangeVisitor<? super T> visitor) {
        final Snapshot s = root;
        for (int i = 0; i < s.first.length; i++) {
            visitor.visit(s.first[i], s.last[i], (T) s.values[i]);
        }
    }

    /** Callback for {@link #forEachRange}. */
    @FunctionalInterface
    public interface RangeVisitor<T> {
        void visit(long first, long last, T value);
    }

    /** Removes every entry (mtree_destroy). */
    public void destroy() {
        root = EMPTY;
    }

    /**
     * Checks every structural invariant (mt_validate); throws {@link IllegalStateException} with a
     * description of the first violation.
     */
    public void validate() {
        final Snapshot s = root;
        for (int i = 0; i < s.first.length; i++) {
            if (Long.compareUnsigned(s.first[i], s.last[i]) > 0) {
                throw new IllegalStateException("range " + i + " inverted");
            }
            if (s.values[i] == null) {
                throw new IllegalStateException("null entry stored at " + i);
            }
            if (i > 0 && Long.compareUnsigned(s.last[i - 1], s.first[i]) >= 0) {
                throw new IllegalStateException("ranges " + (i - 1) + " and " + i + " overlap");
            }
        }
    }
}
