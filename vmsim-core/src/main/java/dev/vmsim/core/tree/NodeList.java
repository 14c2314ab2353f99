package dev.vmsim.core.tree;

import java.util.Arrays;

/** Writer scratch: an ordered run of sibling nodes with the inclusive upper bound of each. */
final class NodeList {
    MapleNode[] node;
    long[] max;
    int size;

    NodeList(final int capacity) {
        node = new MapleNode[Math.max(capacity, 4)];
        max = new long[Math.max(capacity, 4)];
    }

    void add(final MapleNode n, final long upper) {
        if (size == node.length) {
            node = Arrays.copyOf(node, size * 2);
            max = Arrays.copyOf(max, size * 2);
        }
        node[size] = n;
        max[size] = upper;
        size++;
    }

    /** Appends children {@code [from, to)} of internal node {@code p} whose own upper bound is {@code pMax}. */
    void addChildren(final MapleNode p, final long pMax, final int from, final int to) {
        for (int i = from; i < to; i++) {
            add((MapleNode) p.slots[i], i < p.pivotCount() ? p.pivot(i) : pMax);
        }
    }
}
