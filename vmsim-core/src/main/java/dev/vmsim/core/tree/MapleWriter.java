package dev.vmsim.core.tree;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;

/**
 * The write side of the maple tree: {@code mas_store_gfp()} / {@code mas_wr_store_entry()} in
 * lib/maple_tree.c, in RCU mode.
 *
 * <p><b>One writer per tree; its scratch is reused.</b> The path arrays and segment lists below are
 * writer scratch kept from store to store (the kernel's ma_state / maple_big_node, which live on the
 * writer's stack). That is safe only because writers of one tree are serialised by the caller (the mmap
 * write lock for the VMA tree, MT_FLAGS_LOCK_EXTERN): {@link MapleTree} asserts it under {@code -ea}.
 * Readers never see scratch: every node they can reach is built complete from it before publication.
 *
 * <p><b>Fast path.</b> A store whose range (after NULL extension) lies inside one leaf and whose result
 * still fits that leaf ({@code mas_wr_slot_store}, {@code mas_wr_append}, {@code mas_wr_node_store} on a
 * leaf) builds just the new leaf and a copy of each ancestor with one child replaced
 * ({@link MapleNode#withChild}); nothing is flattened and no sibling is touched.
 *
 * <p><b>Algorithm.</b> The store first extends its range over neighbouring NULLs when storing NULL
 * ({@code mas_wr_extend_null}), then finds the lowest node under which the whole changed range lies
 * ({@code mas_wr_walk}: descend while both ends fall in the same slot). The changed children of that
 * node (one leaf in the common case, a run of children for a spanning store as in
 * {@code mas_wr_spanning_store}) are flattened into a {@link SegmentList}, the store is applied there,
 * and replacement subtrees of the same height are rebuilt from it. The new nodes are then spliced into
 * copies of every ancestor ({@code mas_wr_node_store} / {@code mas_split} / {@code mas_rebalance}):
 * an overfull node first pushes entries into a sibling with room ({@code mas_push_data}, packing the
 * sibling full so sequential stores leave full nodes), otherwise splits; underfull ones merge or
 * rebalance with a sibling, and a root left with one child collapses (height decrease). Nothing reachable from the published
 * root is ever modified; the new root is published by one volatile store.
 *
 * <p><b>Departure from the kernel.</b> A spanning store rebuilds the boundary subtrees of the lowest
 * common node from their flattened contents (skipping whole subtrees the store overwrites) rather than
 * walking left and right "cousins" level by level: it costs O(entries under the two boundary children)
 * instead of O(log n), and the resulting shapes differ from the kernel's, but every node obeys the same
 * capacity and minimum-occupancy rules (see {@link MapleValidator}). Likewise a rebalance that must
 * take in a sibling rebuilds that sibling from its flattened entries.
 */
final class MapleWriter {
    private final boolean arange;
    private final int capI;
    private final int minI;

    /** The walked path, root at depth 0; sized to the tree height (grown by {@link #ensurePath}). */
    private MapleNode[] pathNode = new MapleNode[4];

    private long[] pathMin = new long[4];
    private long[] pathMax = new long[4];
    private int[] pathOff = new int[4];

    /**
     * MA_STATE_BULK (mas_expected_entries): a store that leaves a node under its minimum keeps it as
     * a plain node store instead of rebalancing, and {@link #shortNodeKept} records that the tree
     * needs the rebalance {@code mas_destroy} does when bulk mode ends.
     */
    boolean bulk;
    /** MA_STATE_REBALANCE: a bulk store left a node under its minimum. */
    boolean shortNodeKept;
    /** Whether the last store chose a rebalance (mas->store_type == wr_rebalance), for tests. */
    boolean rebalanced;

    /** Scratch: the flattened old contents, the contents after the store, and a push's two nodes. */
    private final SegmentList raw = new SegmentList();

    private final SegmentList applied = new SegmentList();
    private final SegmentList both = new SegmentList();

    MapleWriter(final boolean allocRange) {
        this.arange = allocRange;
        this.capI = allocRange ? MapleNode.ARANGE64_SLOTS : MapleNode.RANGE64_SLOTS;
        this.minI = allocRange ? MapleNode.ARANGE64_MIN : MapleNode.RANGE64_MIN;
    }

    /** Returns the root after storing {@code v} over [a, b] in the tree rooted at {@code root}. */
    MapleNode store(final MapleNode root, final long a, final long b, final Object v) {
        rebalanced = false;
        if (root == null) {
            if (v == null) {
                return null;
            }
            final SegmentList s = applied;
            s.clear();
            if (a != 0) {
                s.add(0, a - 1, null);
            }
            s.add(a, b, v);
            if (b != -1L) {
                s.add(b + 1, -1L, null);
            }
            return buildRoot(s);
        }
        // mas_wr_extend_null: a NULL store absorbs the NULL ranges touching it.
        long lowKey = a;
        long highKey = b;
        if (v == null) {
            if (a != 0 && MapleTree.load(root, a - 1) == null) {
                lowKey = a - 1;
            }
            if (b != -1L && MapleTree.load(root, b + 1) == null) {
                highKey = b + 1;
            }
        }
        int height = 0;
        for (MapleNode n = root; !n.leaf; n = (MapleNode) n.slots[0]) {
            height++;
        }
        ensurePath(height + 1);
        // mas_wr_walk: descend while both ends lie under the same slot.
        int depth = 0;
        MapleNode node = root;
        long lo = 0;
        long hi = -1L;
        int off = 0;
        int p;
        int ci;
        int cj;
        while (true) {
            pathNode[depth] = node;
            pathMin[depth] = lo;
            pathMax[depth] = hi;
            pathOff[depth] = off;
            if (node.leaf) {
                final MapleNode fast = leafStore(node, lo, hi, a, b, v, depth);
                if (fast != null) {
                    return fast == EMPTY ? null : fast;
                }
                p = depth - 1;
                ci = off;
                cj = off;
                break;
            }
            ci = node.slotOf(lowKey);
            cj = node.slotOf(highKey);
            if (ci != cj) {
                p = depth;
                break;
            }
            final long nlo = ci == 0 ? lo : node.pivot(ci - 1) + 1;
            final long nhi = ci < node.pivotCount() ? node.pivot(ci) : hi;
            node = (MapleNode) node.slots[ci];
            lo = nlo;
            hi = nhi;
            off = ci;
            depth++;
        }
        while (true) {
            raw.clear();
            if (p < 0) {
                gather(root, 0, -1L, a, b, raw);
                return buildRoot(apply(raw, a, b, v));
            }
            final MapleNode parent = pathNode[p];
            for (int i = ci; i <= cj; i++) {
                gather(
                        (MapleNode) parent.slots[i],
                        i == 0 ? pathMin[p] : parent.pivot(i - 1) + 1,
                        i < parent.pivotCount() ? parent.pivot(i) : pathMax[p],
                        a,
                        b,
                        raw);
            }
            final SegmentList applied = apply(raw, a, b, v);
            final int h = height - 1 - p;
            if (h == 0 && ci == cj && applied.size > MapleNode.RANGE64_SLOTS) {
                if (ci > 0 && fitsWith(parent, ci - 1, applied.size)) {
                    return replaceChildren(p, ci - 1, ci, pushLeaf(parent, p, ci - 1, applied, true));
                }
                if (ci + 1 < parent.slotCount() && fitsWith(parent, ci + 1, applied.size)) {
                    return replaceChildren(p, ci, ci + 1, pushLeaf(parent, p, ci + 1, applied, false));
                }
            }
            final NodeList built = buildList(applied, h);
            if (built != null) {
                return replaceChildren(p, ci, cj, built);
            }
            // Too little left to fill a node at this height: take in a sibling (mas_rebalance).
            rebalanced = true;
            if (cj + 1 < parent.slotCount()) {
                cj++;
            } else if (ci > 0) {
                ci--;
            } else {
                ci = pathOff[p];
                cj = ci;
                p--;
            }
        }
    }

    /** Returned by {@link #leafStore} when the store leaves the whole tree empty. */
    private static final MapleNode EMPTY = emptySentinel();

    private static MapleNode emptySentinel() {
        final SegmentList s = new SegmentList();
        s.add(0, -1L, null);
        return MapleNode.leaf(s, 0, 1);
    }

    private void ensurePath(final int levels) {
        if (pathNode.length < levels) {
            pathNode = new MapleNode[levels];
            pathMin = new long[levels];
            pathMax = new long[levels];
            pathOff = new int[levels];
        }
    }

    /**
     * The store of [a, b] (which, NULL-extended, lies inside {@code leaf} = [lo, hi] at {@code depth}) when
     * its result fits one leaf: the new root with only that leaf and its ancestors replaced, or
     * {@link #EMPTY} if the tree becomes empty. Returns null when the leaf would over- or underflow, for
     * the general path (split / push / rebalance) to handle. Same result as the general path's
     * gather + apply + one-leaf rebuild, without flattening anything but this leaf.
     */
    private MapleNode leafStore(
            final MapleNode leaf,
            final long lo,
            final long hi,
            final long a,
            final long b,
            final Object v,
            final int depth) {
        final SegmentList out = applied;
        out.clear();
        boolean placed = false;
        final Object[] slots = leaf.slots;
        final int pivots = leaf.pivotCount();
        for (int i = 0; i < slots.length; i++) {
            final long s = i == 0 ? lo : leaf.pivot(i - 1) + 1;
            final long e = i < pivots ? leaf.pivot(i) : hi;
            placed = overlay(out, s, e, slots[i], a, b, v, placed);
        }
        final int n = out.size;
        if (depth == 0) {
            if (n == 1 && out.value[0] == null) {
                return EMPTY; // TREE-03: an empty tree has no node
            }
            if (n > MapleNode.RANGE64_SLOTS) {
                return null;
            }
            return MapleNode.leaf(out, 0, out.size);
        }
        if (n > MapleNode.RANGE64_SLOTS || (n < MapleNode.RANGE64_MIN && !bulk)) {
            return null;
        }
        if (n < MapleNode.RANGE64_MIN) {
            shortNodeKept = true; // bulk: wr_node_store instead of wr_rebalance
        }
        MapleNode child = MapleNode.leaf(out, 0, out.size);
        for (int d = depth - 1; d >= 0; d--) {
            child = MapleNode.withChild(pathNode[d], pathOff[d + 1], child);
        }
        return child;
    }

    private static boolean fitsWith(final MapleNode parent, final int sib, final int total) {
        return ((MapleNode) parent.slots[sib]).slotCount() + total <= 2 * MapleNode.RANGE64_SLOTS;
    }

    /**
     * mas_push_data: an overfull leaf first shifts entries into a sibling leaf with room (left first, as
     * appends are common; right for top-down allocation), packing that sibling full, so sequential
     * stores leave full leaves behind instead of half-full ones. Returns the two replacement leaves.
     */
    private NodeList pushLeaf(
            final MapleNode parent, final int p, final int sib, final SegmentList applied, final boolean left) {
        final SegmentList both = this.both;
        both.clear();
        if (!left) {
            appendSegments(both, applied);
        }
        gatherAll(
                (MapleNode) parent.slots[sib],
                sib == 0 ? pathMin[p] : parent.pivot(sib - 1) + 1,
                sib < parent.pivotCount() ? parent.pivot(sib) : pathMax[p],
                both);
        if (left) {
            appendSegments(both, applied);
        }
        final int full = Math.min(MapleNode.RANGE64_SLOTS, both.size - MapleNode.RANGE64_MIN);
        return twoLeaves(both, left ? full : both.size - full);
    }

    private static void gatherAll(final MapleNode leaf, final long lo, final long hi, final SegmentList out) {
        for (int i = 0; i < leaf.slots.length; i++) {
            out.add(i == 0 ? lo : leaf.pivot(i - 1) + 1, i < leaf.pivotCount() ? leaf.pivot(i) : hi, leaf.slots[i]);
        }
    }

    private static void appendSegments(final SegmentList to, final SegmentList from) {
        for (int i = 0; i < from.size; i++) {
            to.add(from.start[i], from.end[i], from.value[i]);
        }
    }

    private static NodeList twoLeaves(final SegmentList s, final int leftCount) {
        final NodeList out = new NodeList(2);
        out.add(MapleNode.leaf(s, 0, leftCount), s.end[leftCount - 1]);
        out.add(MapleNode.leaf(s, leftCount, s.size), s.end[s.size - 1]);
        return out;
    }

    /** Flattens the segments under {@code n} = [lo, hi], skipping whatever [a, b] entirely overwrites. */
    private static void gather(
            final MapleNode n, final long lo, final long hi, final long a, final long b, final SegmentList out) {
        if (Long.compareUnsigned(lo, a) >= 0 && Long.compareUnsigned(hi, b) <= 0) {
            return;
        }
        for (int i = 0; i < n.slots.length; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < n.pivotCount() ? n.pivot(i) : hi;
            if (n.leaf) {
                if (Long.compareUnsigned(slo, a) < 0 || Long.compareUnsigned(shi, b) > 0) {
                    out.add(slo, shi, n.slots[i]);
                }
            } else {
                gather((MapleNode) n.slots[i], slo, shi, a, b, out);
            }
        }
    }

    /** Overwrites [a, b] with {@code v} in {@code raw}, splitting what it overlaps and coalescing NULLs. */
    private SegmentList apply(final SegmentList raw, final long a, final long b, final Object v) {
        final SegmentList out = applied;
        out.clear();
        boolean placed = false;
        for (int i = 0; i < raw.size; i++) {
            final long s = raw.start[i];
            final long e = raw.end[i];
            placed = overlay(out, s, e, raw.value[i], a, b, v, placed);
        }
        if (!placed) {
            out.addCoalescing(a, b, v);
        }
        return out;
    }

    /**
     * Appends segment [s, e] -> {@code val} to {@code out} with [a, b] -> {@code v} laid over it: the
     * parts of the segment outside [a, b] keep {@code val}, and [a, b] itself is appended once, where
     * it first begins ({@code placed} says whether it already was). Returns the new {@code placed}.
     */
    private static boolean overlay(
            final SegmentList out,
            final long s,
            final long e,
            final Object val,
            final long a,
            final long b,
            final Object v,
            final boolean placed) {
        if (Long.compareUnsigned(e, a) < 0) {
            out.addCoalescing(s, e, val);
            return placed;
        }
        if (Long.compareUnsigned(s, a) < 0) {
            out.addCoalescing(s, a - 1, val);
        }
        if (!placed) {
            out.addCoalescing(a, b, v);
        }
        if (Long.compareUnsigned(s, b) > 0) {
            out.addCoalescing(s, e, val);
        } else if (Long.compareUnsigned(e, b) > 0) {
            out.addCoalescing(b + 1, e, val);
        }
        return true;
    }

    /** Most leaf segments a node of height {@code h} can hold (saturating). */
    private long capSegments(final int h) {
        long c = MapleNode.RANGE64_SLOTS;
        for (int i = 0; i < h && c < Integer.MAX_VALUE; i++) {
            c *= capI;
        }
        return c;
    }

    /** Fewest leaf segments a non-root node of height {@code h} must hold (one in bulk mode). */
    private long minSegments(final int h) {
        if (bulk) {
            return 1;
        }
        long c = MapleNode.RANGE64_MIN;
        for (int i = 0; i < h && c < Integer.MAX_VALUE; i++) {
            c *= minI;
        }
        return c;
    }

    /** Builds sibling nodes of height {@code h} from all of {@code s}, or null if too few to fill one. */
    private NodeList buildList(final SegmentList s, final int h) {
        final int total = s.size;
        if (total < minSegments(h)) {
            return null;
        }
        final int k = (int) ((total + capSegments(h) - 1) / capSegments(h));
        final NodeList out = new NodeList(k);
        for (int j = 0; j < k; j++) {
            final int from = (int) ((long) total * j / k);
            final int to = (int) ((long) total * (j + 1) / k);
            out.add(buildNode(s, from, to, h, false), s.end[to - 1]);
        }
        return out;
    }

    /** mas_wr_bnode / mas_bulk: a subtree of height {@code h} over segments [from, to), evenly filled. */
    private MapleNode buildNode(final SegmentList s, final int from, final int to, final int h, final boolean root) {
        if (h == 0) {
            return MapleNode.leaf(s, from, to);
        }
        final int total = to - from;
        final long below = capSegments(h - 1);
        int k = (int) ((total + below - 1) / below);
        if (!root) {
            k = Math.max(k, minI);
        }
        k = Math.min(k, total); // bulk mode only: too few segments to give minI children one each
        final NodeList kids = new NodeList(k);
        for (int j = 0; j < k; j++) {
            final int f = from + (int) ((long) total * j / k);
            final int t = from + (int) ((long) total * (j + 1) / k);
            kids.add(buildNode(s, f, t, h - 1, false), s.end[t - 1]);
        }
        return MapleNode.internal(kids, 0, k, arange);
    }

    /** A whole new tree of the lowest height that holds {@code s}; null if it is one NULL (TREE-03). */
    private MapleNode buildRoot(final SegmentList s) {
        if (s.size == 1 && s.value[0] == null) {
            return null;
        }
        int h = 0;
        while (capSegments(h) < s.size) {
            h++;
        }
        return buildNode(s, 0, s.size, h, true);
    }

    /** Replaces children [ci, cj] of pathNode[p] with {@code nl} in copies of every ancestor. */
    private MapleNode replaceChildren(int p, int ci, int cj, NodeList nl) {
        while (true) {
            final MapleNode parent = pathNode[p];
            final long pMax = pathMax[p];
            final NodeList l = new NodeList(parent.slotCount() + nl.size);
            l.addChildren(parent, pMax, 0, ci);
            for (int i = 0; i < nl.size; i++) {
                l.add(nl.node[i], nl.max[i]);
            }
            l.addChildren(parent, pMax, cj + 1, parent.slotCount());
            final int c = l.size;
            if (p == 0) {
                return rootFrom(l);
            }
            final int off = pathOff[p];
            if (c > capI) {
                final MapleNode gp = pathNode[p - 1];
                final long gpMax = pathMax[p - 1];
                if (off > 0 && ((MapleNode) gp.slots[off - 1]).slotCount() + c <= 2 * capI) {
                    // mas_push_data to the left sibling: pack it full, no new node.
                    nl = pushInternal(l, gp, gpMax, off - 1, true);
                    ci = off - 1;
                    cj = off;
                } else if (off + 1 < gp.slotCount() && ((MapleNode) gp.slots[off + 1]).slotCount() + c <= 2 * capI) {
                    nl = pushInternal(l, gp, gpMax, off + 1, false);
                    ci = off;
                    cj = off + 1;
                } else {
                    nl = group(l, (c + capI - 1) / capI); // mas_split
                    ci = off;
                    cj = off;
                }
            } else if (c >= minI) {
                nl = group(l, 1); // mas_wr_node_store: a copy of the node
                ci = off;
                cj = off;
            } else if (BugSwitches.on(Bug.BUG_10) || bulk) {
                // BUG-10 reintroduced, or bulk mode: the under-full node is kept as it is
                shortNodeKept |= bulk;
                nl = group(l, 1);
                ci = off;
                cj = off;
            } else {
                rebalanced = true;
                // mas_rebalance: merge with, or redistribute against, a sibling (the BUG-10 fix).
                final MapleNode gp = pathNode[p - 1];
                final int sib = off + 1 < gp.slotCount() ? off + 1 : off - 1;
                final MapleNode q = (MapleNode) gp.slots[sib];
                final long qMax = sib < gp.pivotCount() ? gp.pivot(sib) : pathMax[p - 1];
                final NodeList comb = new NodeList(c + q.slotCount());
                if (sib > off) {
                    appendAll(comb, l);
                    comb.addChildren(q, qMax, 0, q.slotCount());
                } else {
                    comb.addChildren(q, qMax, 0, q.slotCount());
                    appendAll(comb, l);
                }
                nl = group(comb, comb.size <= capI ? 1 : 2);
                ci = Math.min(off, sib);
                cj = Math.max(off, sib);
            }
            p--;
        }
    }

    /** Two internal nodes from {@code l} and sibling {@code sib} of {@code gp}, the sibling's side packed full. */
    private NodeList pushInternal(
            final NodeList l, final MapleNode gp, final long gpMax, final int sib, final boolean left) {
        final MapleNode q = (MapleNode) gp.slots[sib];
        final long qMax = sib < gp.pivotCount() ? gp.pivot(sib) : gpMax;
        final NodeList comb = new NodeList(2 * capI);
        if (left) {
            comb.addChildren(q, qMax, 0, q.slotCount());
            appendAll(comb, l);
        } else {
            appendAll(comb, l);
            comb.addChildren(q, qMax, 0, q.slotCount());
        }
        final int full = Math.min(capI, comb.size - minI);
        final int split = left ? full : comb.size - full;
        final NodeList out = new NodeList(2);
        out.add(MapleNode.internal(comb, 0, split, arange), comb.max[split - 1]);
        out.add(MapleNode.internal(comb, split, comb.size, arange), comb.max[comb.size - 1]);
        return out;
    }

    private static void appendAll(final NodeList to, final NodeList from) {
        for (int i = 0; i < from.size; i++) {
            to.add(from.node[i], from.max[i]);
        }
    }

    /** Splits {@code l} evenly into {@code k} internal nodes. */
    private NodeList group(final NodeList l, final int k) {
        final NodeList out = new NodeList(k);
        for (int j = 0; j < k; j++) {
            final int from = l.size * j / k;
            final int to = l.size * (j + 1) / k;
            out.add(MapleNode.internal(l, from, to, arange), l.max[to - 1]);
        }
        return out;
    }

    /** The new root over {@code l}: grows the tree while it is too wide, collapses a single child. */
    private MapleNode rootFrom(NodeList l) {
        while (l.size > capI) {
            l = group(l, (l.size + capI - 1) / capI);
        }
        if (l.size == 1) {
            return l.node[0];
        }
        return MapleNode.internal(l, 0, l.size, arange);
    }

    /**
     * mas_destroy's rebalance after bulk mode: the tree rebuilt from its entries with every node at
     * or above its minimum. Departure: the kernel rebalances the one node bulk appends left short;
     * bulk stores here may leave short nodes anywhere (erases, not only appends), so the whole tree
     * is rebuilt, in O(entries).
     */
    MapleNode rebalanceAfterBulk(final MapleNode root) {
        bulk = false;
        shortNodeKept = false;
        if (root == null) {
            return null;
        }
        final SegmentList all = applied;
        all.clear();
        flatten(root, 0, -1L, all);
        return buildRoot(all);
    }

    private static void flatten(final MapleNode n, final long lo, final long hi, final SegmentList out) {
        for (int i = 0; i < n.slots.length; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < n.pivotCount() ? n.pivot(i) : hi;
            if (n.leaf) {
                out.addCoalescing(slo, shi, n.slots[i]);
            } else {
                flatten((MapleNode) n.slots[i], slo, shi, out);
            }
        }
    }
}
