package dev.vmsim.core.tree;

/**
 * One maple-tree node ({@code struct maple_node} in include/linux/maple_tree.h): a
 * {@code maple_leaf_64}, a {@code maple_range_64} or a {@code maple_arange_64}.
 *
 * <p>Slot {@code i} covers {@code [pivots[i-1] + 1, pivots[i]]} (unsigned, inclusive); slot 0 starts at the
 * node's implied minimum and the last slot ends at the node's implied maximum, both inherited from the
 * parent exactly as in the kernel. Every slot's range is non-empty.
 *
 * <p><b>Immutability.</b> All fields are final and the arrays are never written after the constructor
 * returns; a node is published by the volatile store of {@link MapleTree}'s root, which every reader
 * reads with acquire semantics. This is the RCU-mode rule of lib/maple_tree.c taken to its simplest
 * form: writers always build replacement nodes for the whole changed path (the kernel may change a
 * single slot or pivot in place; we never do, so no reader can see a half-written node). Because no
 * array is ever written after construction, a replacement node may share its predecessor's
 * {@code pivots} array when the pivots did not change ({@link #withChild}, {@link #leafSharing}).
 *
 * <p>Departure from the kernel: arrays are sized to the node's content rather than the fixed 16/10
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

    final boolean leaf;
    /** pivots[i] = inclusive upper bound of slot i; length == slots.length - 1. */
    final long[] pivots;
    /** Leaf: the entries (null = a gap). Internal: the child {@link MapleNode}s. */
    final Object[] slots;
    /** maple_arange_64 only: gaps[i] = largest NULL run (number of indices) under child i; else null. */
    final long[] gaps;
    /** Largest NULL run (number of indices, unsigned) anywhere under this node; 0 if there is none. */
    final long maxGap;
    /** Number of non-NULL entries under this node. */
    final int count;

    private MapleNode(
            final boolean leaf,
            final long[] pivots,
            final Object[] slots,
            final long[] gaps,
            final long maxGap,
            final int count) {
        this.leaf = leaf;
        this.pivots = pivots;
        this.slots = slots;
        this.gaps = gaps;
        this.maxGap = maxGap;
        this.count = count;
    }

    int slotCount() {
        return slots.length;
    }

    /** Builds a leaf from segments {@code [from, to)} of {@code s}; its range is s.start[from]..s.end[to-1]. */
    static MapleNode leaf(final SegmentList s, final int from, final int to) {
        final int n = to - from;
        final long[] pivots = new long[n - 1];
        final Object[] slots = new Object[n];
        long gap = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            final int k = from + i;
            if (i < n - 1) {
                pivots[i] = s.end[k];
            }
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
        return new MapleNode(true, pivots, slots, null, gap, count);
    }

    /**
     * mas_wr_slot_store on a leaf: a leaf over segments {@code [0, s.size)} of {@code s} whose pivots are
     * exactly {@code pivots} (the old leaf's, shared: neither node ever writes it).
     */
    static MapleNode leafSharing(final long[] pivots, final SegmentList s) {
        final int n = s.size;
        final Object[] slots = new Object[n];
        long gap = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            slots[i] = s.value[i];
            if (s.value[i] == null) {
                final long size = s.end[i] - s.start[i] + 1;
                if (Long.compareUnsigned(size, gap) > 0) {
                    gap = size;
                }
            } else {
                count++;
            }
        }
        return new MapleNode(true, pivots, slots, null, gap, count);
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
        return new MapleNode(false, n.pivots, slots, gaps, gap, n.count - old.count + child.count);
    }

    /** Builds an internal node over children {@code [from, to)} of {@code l}; arange64 if {@code arange}. */
    static MapleNode internal(final NodeList l, final int from, final int to, final boolean arange) {
        final int n = to - from;
        final long[] pivots = new long[n - 1];
        final Object[] slots = new Object[n];
        final long[] gaps = arange ? new long[n] : null;
        long gap = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            final MapleNode child = l.node[from + i];
            if (i < n - 1) {
                pivots[i] = l.max[from + i];
            }
            slots[i] = child;
            if (gaps != null) {
                gaps[i] = child.maxGap;
            }
            if (Long.compareUnsigned(child.maxGap, gap) > 0) {
                gap = child.maxGap;
            }
            count += child.count;
        }
        return new MapleNode(false, pivots, slots, gaps, gap, count);
    }
}
