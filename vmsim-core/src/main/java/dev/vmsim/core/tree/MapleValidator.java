package dev.vmsim.core.tree;

/**
 * mt_validate() for {@link MapleTree}: recomputes every derived value from scratch and compares.
 *
 * <ul>
 *   <li>limits (mas_validate_limits): every slot's range is non-empty, so pivots strictly ascend inside
 *       the node's implied [min, max];
 *   <li>node type: leaves hold entries; internal nodes are maple_arange_64 (with a gap array) in an
 *       allocation-range tree and maple_range_64 (without) otherwise;
 *   <li>occupancy: at most 16 (leaf/range64) or 10 (arange64) slots; every non-root node at least 6 or
 *       4 (mt_min_slots); an internal root at least 2;
 *   <li>height: every leaf at the same depth;
 *   <li>gaps (mas_validate_gaps): each parent's gap[i] and each node's max gap equal the recomputed
 *       largest NULL run; each node's entry count is exact;
 *   <li>NULLs (TREE-03): no two adjacent NULL ranges anywhere (also across leaves); no tree is a lone
 *       NULL over the whole space (the empty tree has no node).
 * </ul>
 *
 * There are no parent pointers to check: nodes are immutable and shared between tree versions, so the
 * writer keeps its path on a stack instead (the kernel's mas->node / ma_parent walk).
 */
final class MapleValidator {
    private final boolean arange;
    private int leafDepth = -1;
    private boolean prevNull;
    private boolean first = true;

    MapleValidator(final boolean allocRange) {
        this.arange = allocRange;
    }

    void validate(final MapleNode root) {
        if (root == null) {
            return;
        }
        if (root.leaf && root.slots.length == 1 && root.slots[0] == null) {
            throw new IllegalStateException("root is a single NULL over [0, ULONG_MAX]");
        }
        if (!root.leaf && root.slots.length < 2) {
            throw new IllegalStateException("internal root has " + root.slots.length + " child");
        }
        check(root, 0, -1L, 0, true);
    }

    /** Returns {largest NULL run, entry count} recomputed under {@code n} = [lo, hi]. */
    private long[] check(final MapleNode n, final long lo, final long hi, final int depth, final boolean root) {
        final String where = (n.leaf ? "leaf" : "node") + " [" + Long.toHexString(lo) + ", " + Long.toHexString(hi)
                + "] at depth " + depth;
        final int slots = n.slots.length;
        for (int i = n.pivotCount(); i < MapleNode.RANGE64_SLOTS - 1; i++) {
            if (n.pivot(i) != -1L) {
                throw new IllegalStateException(where + ": pivot " + i + " past the data end is not ULONG_MAX");
            }
        }
        final int cap = n.leaf || !arange ? MapleNode.RANGE64_SLOTS : MapleNode.ARANGE64_SLOTS;
        final int min = n.leaf || !arange ? MapleNode.RANGE64_MIN : MapleNode.ARANGE64_MIN;
        if (slots > cap) {
            throw new IllegalStateException(where + ": " + slots + " slots > " + cap);
        }
        if (!root && slots < min) {
            throw new IllegalStateException(where + ": underfull, " + slots + " slots < " + min);
        }
        if (!n.leaf && (n.gaps != null) != arange) {
            throw new IllegalStateException(where + ": wrong node type (gap array " + (n.gaps != null) + ")");
        }
        if (n.leaf && n.gaps != null) {
            throw new IllegalStateException(where + ": leaf with a gap array");
        }
        long gap = 0;
        long count = 0;
        for (int i = 0; i < slots; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < slots - 1 ? n.pivot(i) : hi;
            if (i > 0 && n.pivot(i - 1) == -1L || Long.compareUnsigned(slo, shi) > 0) {
                throw new IllegalStateException(where + ": slot " + i + " empty or pivots not ascending within"
                        + " bounds (" + Long.toHexString(slo) + " > " + Long.toHexString(shi) + ")");
            }
            final long childGap;
            if (n.leaf) {
                if (leafDepth < 0) {
                    leafDepth = depth;
                } else if (leafDepth != depth && i == 0) {
                    throw new IllegalStateException(where + ": leaf depth " + depth + " != " + leafDepth);
                }
                final boolean isNull = n.slots[i] == null;
                if (isNull && prevNull && !first) {
                    throw new IllegalStateException(where + ": adjacent NULL ranges at " + Long.toHexString(slo));
                }
                first = false;
                prevNull = isNull;
                childGap = isNull ? shi - slo + 1 : 0;
                count += isNull ? 0 : 1;
            } else {
                if (!(n.slots[i] instanceof MapleNode)) {
                    throw new IllegalStateException(where + ": slot " + i + " is not a node");
                }
                final long[] sub = check((MapleNode) n.slots[i], slo, shi, depth + 1, false);
                childGap = sub[0];
                count += sub[1];
                if (n.gaps != null && n.gaps[i] != childGap) {
                    throw new IllegalStateException(where + ": gap[" + i + "] = " + Long.toUnsignedString(n.gaps[i])
                            + " but child's largest NULL run is " + Long.toUnsignedString(childGap));
                }
            }
            if (Long.compareUnsigned(childGap, gap) > 0) {
                gap = childGap;
            }
        }
        if (n.maxGap != gap) {
            throw new IllegalStateException(
                    where + ": max gap " + Long.toUnsignedString(n.maxGap) + " != " + Long.toUnsignedString(gap));
        }
        if (n.count != count) {
            throw new IllegalStateException(where + ": count " + n.count + " != " + count);
        }
        return new long[] {gap, count};
    }
}
