package dev.vmsim.core.tree;

import java.util.List;

/**
 * One node of a {@link MapleTree} as a reader sees it, for teaching views (the shape mt_dump() of
 * lib/maple_tree.c prints): its type, the range it covers, its pivots, and per slot either the child
 * node or whether an entry is stored there.
 *
 * @param id        the node's position in a pre-order walk from the root (0)
 * @param parent    the parent's {@code id}; -1 for the root
 * @param type      {@code "maple_leaf_64"}, {@code "maple_range_64"} or {@code "maple_arange_64"}
 * @param min       the implied minimum of slot 0
 * @param max       the implied maximum of the last slot
 * @param slots     one per slot: its range and, for a leaf, the entry (null = a gap); for an internal node,
 *                  the child's {@code id}
 * @param gaps      maple_arange_64 only: the largest NULL run under each child; empty otherwise
 */
public record MapleNodeView(int id, int parent, String type, long min, long max, List<Slot> slots, List<Long> gaps) {
    /**
     * One slot: its inclusive range {@code [first, last]}, the child's node id (internal nodes) or -1,
     * and the entry stored there (leaves; null is a gap).
     */
    public record Slot(long first, long last, int child, Object entry) {}
}
