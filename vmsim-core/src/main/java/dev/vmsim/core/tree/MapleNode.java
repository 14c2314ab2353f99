package dev.vmsim.core.tree;

import org.agrona.UnsafeAccess;

/**
 * One maple-tree node ({@code struct maple_node} in include/linux/maple_tree.h): a
 * {@code maple_leaf_64}, a {@code maple_range_64} or a {@code maple_arange_64}.
 *
 * <p>Slot {@code i} covers {@code [pivots[i-1] + 1, pivots[i]]} (unsigned, inclusive); slot 0 starts at the
 * node's implied minimum and the last slot ends at the node's implied maximum, both inherited from the
 * parent exactly as in the kernel. Every slot's range is non-empty.
 *
 * <p><b>Immutability.</b> All fields are final and the slot arrays are never written after the constructor
 * returns; a node is published by the volatile store of {@link MapleTree}'s root, which every reader
 * reads with acquire semantics. This is the RCU-mode rule of lib/maple_tree.c taken to its simplest
 * form: writers always build replacement nodes for the whole changed path (the kernel may change a
 * single slot or pivot in place; we never do, so no reader can see a half-written node).
 *
 * <p><b>Layout.</b> As in {@code struct maple_range_64}, the 15 pivots live inside the node itself
 * ({@code p0..p14}, not a separate array), so a lookup reads the node's pivots without first loading
 * an array reference: one object and the slot array per level instead of three objects. They are kept
 * in sign-flipped form ({@code pivot ^ Long.MIN_VALUE}), in which unsigned order is signed order; a
 * pivot past the node's data end holds ULONG_MAX (flipped: {@link Long#MAX_VALUE}), which no index
 * exceeds, so {@link #slotOf} can count over all 15 without knowing the node's length.
 *
 * <p>Departure from the kernel: slot arrays are sized to the node's content rather than the fixed 16/10
 * slots (nodes are immutable, so spare room would never be used); the capacity limits are enforced by
 * the writer and by {@link MapleValidator}.
 */
final class MapleNode {
    /** maple_leaf_64 / maple_range_64: 16 slots, 15 pivots (MAPLE_RANGE64_SLOTS). */
    static final int RANGE64_SLOTS = 16;
    /** mt_min_slots[maple_leaf_64 / maple_range_64]. */
    static final int RANGE64_MIN = 6;
    /** maple_arange_64: 10 slots, 9 pivots, 10 gaps (MAPLE_ARANGE64_SLOTS). */
    static final int ARANGE64_SLOTS = 10;
    /** mt_min_slots[maple_arange_64]. */
    static final int ARANGE64_MIN = 4;

    /**
     * What a freed node's slots hold after its RCU grace period (the kernel's slab poison): a reader
     * that still holds the node outside any read section (StackRot) reads this instead of an entry.
     */
    static final Object POISON = new Object() {
        @Override
        public String toString() {
            return "POISON";
        }
    };

    /** Offset of p0 when p0..p14 are contiguous (see {@link #pivot}); -1 if not. */
    private static final long P0 = contiguousPivotOffset();

    final boolean leaf;
    /**
     * Pivot i (the inclusive upper bound of slot i) as {@code pivot ^ Long.MIN_VALUE}; ULONG_MAX past the
     * data end. See the class comment.
     */
    private final long p0;

    private final long p1;
    private final long p2;
    private final long p3;
    private final long p4;
    private final long p5;
    private final long p6;
    private final long p7;
    private final long p8;
    private final long p9;
    private final long p10;
    private final long p11;
    private final long p12;
    private final long p13;
    private final long p14;
    /** Leaf: the entries (null = a gap). Internal: the child {@link MapleNode}s. */
    final Object[] slots;
    /** maple_arange_64 only: gaps[i] = largest NULL run (number of indices) under child i; else null. */
    final long[] gaps;
    /** Largest NULL run (number of indices, unsigned) anywhere under this node; 0 if there is none. */
    final long maxGap;
    /** Number of non-NULL entries under this node. */
    final int count;

    /** A node whose pivots are {@code src[off .. off + slots.length - 2]}. */
    private MapleNode(
            final boolean leaf,
            final long[] src,
            final int off,
            final Object[] slots,
            final long[] gaps,
            final long maxGap,
            final int count) {
        this.leaf = leaf;
        this.slots = slots;
        this.gaps = gaps;
        this.maxGap = maxGap;
        this.count = count;
        final int n = slots.length - 1;
        this.p0 = flipped(src, off, n, 0);
        this.p1 = flipped(src, off, n, 1);
        this.p2 = flipped(src, off, n, 2);
        this.p3 = flipped(src, off, n, 3);
        this.p4 = flipped(src, off, n, 4);
        this.p5 = flipped(src, off, n, 5);
        this.p6 = flipped(src, off, n, 6);
        this.p7 = flipped(src, off, n, 7);
        this.p8 = flipped(src, off, n, 8);
        this.p9 = flipped(src, off, n, 9);
        this.p10 = flipped(src, off, n, 10);
        this.p11 = flipped(src, off, n, 11);
        this.p12 = flipped(src, off, n, 12);
        this.p13 = flipped(src, off, n, 13);
        this.p14 = flipped(src, off, n, 14);
    }

    /** A node with the pivots of {@code same}: the path copy of {@link #withChild}, which changes no pivot. */
    private MapleNode(
            final MapleNode same, final Object[] slots, final long[] gaps, final long maxGap, final int count) {
        this.leaf = same.leaf;
        this.slots = slots;
        this.gaps = gaps;
        this.maxGap = maxGap;
        this.count = count;
        this.p0 = same.p0;
        this.p1 = same.p1;
        this.p2 = same.p2;
        this.p3 = same.p3;
        this.p4 = same.p4;
        this.p5 = same.p5;
        this.p6 = same.p6;
        this.p7 = same.p7;
        this.p8 = same.p8;
        this.p9 = same.p9;
        this.p10 = same.p10;
        this.p11 = same.p11;
        this.p12 = same.p12;
        this.p13 = same.p13;
        this.p14 = same.p14;
    }

    private static long flipped(final long[] src, final int off, final int n, final int i) {
        return (i < n ? src[off + i] : -1L) ^ Long.MIN_VALUE;
    }

    /** Number of pivots: one fewer than the slots (the last slot ends at the node's implied maximum). */
    int pivotCount() {
        return slots.length - 1;
    }

    /**
     * Pivot {@code i} (unsigned): the inclusive upper bound of slot {@code i} for i < {@link #pivotCount};
     * ULONG_MAX (-1) from there to the 15th.
     *
     * <p>The fields are read as the array they stand for: one load at {@code P0 + 8 * i} when the JVM
     * laid {@code p0..p14} out contiguously and in order (HotSpot does: fields of one size keep their
     * declaration order; checked once at class initialisation), otherwise through a switch.
     */
    long pivot(final int i) {
        if (i < 0 || i >= RANGE64_SLOTS - 1) {
            throw new IndexOutOfBoundsException(i);
        }
        return (P0 >= 0 ? UnsafeAccess.UNSAFE.getLong(this, P0 + 8L * i) : pivotField(i)) ^ Long.MIN_VALUE;
    }

    /** Pivot field {@code i} as stored (flipped), read through a switch: {@link #pivot}'s fallback. */
    long pivotField(final int i) {
        switch (i) {
            case 0:
                return p0;
            case 1:
                return p1;
            case 2:
                return p2;
            case 3:
                return p3;
            case 4:
                return p4;
            case 5:
                return p5;
            case 6:
                return p6;
            case 7:
                return p7;
            case 8:
                return p8;
            case 9:
                return p9;
            case 10:
                return p10;
            case 11:
                return p11;
            case 12:
                return p12;
            case 13:
                return p13;
            case 14:
                return p14;
            default:
                throw new IndexOutOfBoundsException(i);
        }
    }

    /** Offset of {@code p0} if {@code p0..p14} lie at consecutive 8-byte offsets, else -1. */
    private static long contiguousPivotOffset() {
        try {
            final long p0 = UnsafeAccess.UNSAFE.objectFieldOffset(MapleNode.class.getDeclaredField("p0"));
            for (int i = 1; i < RANGE64_SLOTS - 1; i++) {
                final long pi = UnsafeAccess.UNSAFE.objectFieldOffset(MapleNode.class.getDeclaredField("p" + i));
                if (pi != p0 + 8L * i) {
                    return -1;
                }
            }
            return p0;
        } catch (final NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * The slot whose range holds {@code index}: the number of pivots below it (unsigned), which is where
     * mas_node_walk's linear scan stops. Departure from the kernel's scan: all 15 comparisons are made
     * and summed as a balanced tree, with no data-dependent branch and no dependent load, because on
     * random addresses the scan's exit branch is mispredicted at every level. Pivots past the data end
     * hold ULONG_MAX and never count.
     */
    int slotOf(final long index) {
        return slotOfFlipped(index ^ Long.MIN_VALUE);
    }

    /** {@link #slotOf} for an index already flipped ({@code index ^ Long.MIN_VALUE}). */
    int slotOfFlipped(final long key) {
        final int c0 = p0 < key ? 1 : 0;
        final int c1 = p1 < key ? 1 : 0;
        final int c2 = p2 < key ? 1 : 0;
        final int c3 = p3 < key ? 1 : 0;
        final int c4 = p4 < key ? 1 : 0;
        final int c5 = p5 < key ? 1 : 0;
        final int c6 = p6 < key ? 1 : 0;
        final int c7 = p7 < key ? 1 : 0;
        final int c8 = p8 < key ? 1 : 0;
        final int c9 = p9 < key ? 1 : 0;
        final int c10 = p10 < key ? 1 : 0;
        final int c11 = p11 < key ? 1 : 0;
        final int c12 = p12 < key ? 1 : 0;
        final int c13 = p13 < key ? 1 : 0;
        final int c14 = p14 < key ? 1 : 0;
        return (((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7))) + (((c8 + c9) + (c10 + c11)) + ((c12 + c13) + c14));
    }

    int slotCount() {
        return slots.length;
    }

    /** Builds a leaf from segments {@code [from, to)} of {@code s}; its range is s.start[from]..s.end[to-1]. */
    static MapleNode leaf(final SegmentList s, final int from, final int to) {
        final int n = to - from;
        final Object[] slots = new Object[n];
        long gap = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            final int k = from + i;
            slots[i] = s.value[k];
            if (s.value[k] == null) {
                final long size = s.end[k] - s.start[k] + 1;
                if (Long.compareUnsigned(size, gap) > 0) {
                    gap = size;
                }
            } else {
                count++;
            }
        }
        return new MapleNode(true, s.end, from, slots, null, gap, count);
    }

    /**
     * The copy of internal node {@code n} with child {@code i} replaced by {@code child} covering the same
     * range: the path copy of an RCU-mode store that changed nothing but that child (mas_wr_node_store
     * reduced to one slot, plus mas_update_gap). Pivots are shared with {@code n}; slots and gaps are new.
     */
    static MapleNode withChild(final MapleNode n, final int i, final MapleNode child) {
        final Object[] slots = n.slots.clone();
        final MapleNode old = (MapleNode) slots[i];
        slots[i] = child;
        long gap = 0;
        long[] gaps = null;
        if (n.gaps != null) {
            gaps = n.gaps.clone();
            gaps[i] = child.maxGap;
            for (final long g : gaps) {
                if (Long.compareUnsigned(g, gap) > 0) {
                    gap = g;
                }
            }
        } else {
            for (final Object o : slots) {
                final long g = ((MapleNode) o).maxGap;
                if (Long.compareUnsigned(g, gap) > 0) {
                    gap = g;
                }
            }
        }
        return new MapleNode(n, slots, gaps, gap, n.count - old.count + child.count);
    }

    /**
     * A node with {@code n}'s type, pivots, gaps and counts over {@code slots} (the same entries, or
     * copies of the same children): one node of mas_dup_build.
     */
    static MapleNode copyOf(final MapleNode n, final Object[] slots) {
        return new MapleNode(n, slots, n.gaps == null ? null : n.gaps.clone(), n.maxGap, n.count);
    }

    /** Builds an internal node over children {@code [from, to)} of {@code l}; arange64 if {@code arange}. */
    static MapleNode internal(final NodeList l, final int from, final int to, final boolean arange) {
        final int n = to - from;
        final Object[] slots = new Object[n];
        final long[] gaps = arange ? new long[n] : null;
        long gap = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            final MapleNode child = l.node[from + i];
            slots[i] = child;
            if (gaps != null) {
                gaps[i] = child.maxGap;
            }
            if (Long.compareUnsigned(child.maxGap, gap) > 0) {
                gap = child.maxGap;
            }
            count += child.count;
        }
        return new MapleNode(false, l.max, from, slots, gaps, gap, count);
    }

    /**
     * The RCU callback of a replaced node (ma_free_rcu → kmem_cache_free, then slab poisoning): fills
     * every slot with {@link #POISON}. Runs only after a grace period, when no reader inside a read
     * section can still reach the node, so the immutability readers rely on is not broken for them.
     */
    void poison() {
        java.util.Arrays.fill(slots, POISON);
    }

    /** Has this node been freed and poisoned? */
    boolean isPoisoned() {
        return slots.length > 0 && slots[0] == POISON;
    }
}
