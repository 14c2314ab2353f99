package dev.vmsim.core.tree;

/**
 * The gap searches of lib/maple_tree.c: {@code mas_empty_area()} ({@code mas_anode_descend}) and
 * {@code mas_empty_area_rev()} ({@code mas_rev_awalk}). They descend only into children whose tracked
 * largest NULL run ({@link MapleNode#gaps}, or {@link MapleNode#maxGap} in a non-alloc tree) can hold
 * the request, so a search costs O(height x fan-out) plus backtracking at the edges of [min, max] where
 * a child's gap may be clipped. Allocation-free (recursion depth = tree height).
 *
 * <p>Sizes are unsigned. A found area is {@code [s, s + size - 1]} where {@code s..e} is the gap clipped
 * to [min, max] and {@code e - s >= size - 1}; a size of 0 therefore only fits the entirely free space.
 */
final class MapleGapSearch {
    private MapleGapSearch() {}

    static boolean emptyArea(
            final MapleNode root, final long min, final long max, final long size, final MaState<?> mas) {
        if (root == null) {
            return fits(0, -1L, min, max, size, mas, false);
        }
        if (size == 0) {
            return false;
        }
        return forward(root, 0, -1L, min, max, size, mas);
    }

    static boolean emptyAreaRev(
            final MapleNode root, final long min, final long max, final long size, final MaState<?> mas) {
        if (root == null) {
            return fits(0, -1L, min, max, size, mas, true);
        }
        if (size == 0) {
            return false;
        }
        return reverse(root, 0, -1L, min, max, size, mas);
    }

    /** Whether NULL run [lo, hi] clipped to [min, max] holds {@code size}; if so records the area. */
    private static boolean fits(
            final long lo,
            final long hi,
            final long min,
            final long max,
            final long size,
            final MaState<?> mas,
            final boolean rev) {
        final long s = Long.compareUnsigned(lo, min) > 0 ? lo : min;
        final long e = Long.compareUnsigned(hi, max) < 0 ? hi : max;
        if (Long.compareUnsigned(s, e) > 0 || Long.compareUnsigned(e - s, size - 1) < 0) {
            return false;
        }
        if (rev) {
            mas.last = e;
            mas.index = e - size + 1;
        } else {
            mas.index = s;
            mas.last = s + size - 1;
        }
        return true;
    }

    private static long gapOf(final MapleNode n, final int i) {
        return n.gaps != null ? n.gaps[i] : ((MapleNode) n.slots[i]).maxGap;
    }

    private static boolean forward(
            final MapleNode n,
            final long lo,
            final long hi,
            final long min,
            final long max,
            final long size,
            final MaState<?> mas) {
        final int slots = n.slots.length;
        // Start at the slot holding min (bounds are clipped, so every earlier slot ends below it).
        for (int i = Long.compareUnsigned(lo, min) >= 0 ? 0 : n.slotOf(min); i < slots; i++) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < slots - 1 ? n.pivot(i) : hi;
            if (Long.compareUnsigned(slo, max) > 0) {
                return false;
            }
            if (n.leaf) {
                if (n.slots[i] == null && fits(slo, shi, min, max, size, mas, false)) {
                    return true;
                }
            } else if (Long.compareUnsigned(gapOf(n, i), size) >= 0
                    && forward((MapleNode) n.slots[i], slo, shi, min, max, size, mas)) {
                return true;
            }
        }
        return false;
    }

    private static boolean reverse(
            final MapleNode n,
            final long lo,
            final long hi,
            final long min,
            final long max,
            final long size,
            final MaState<?> mas) {
        final int slots = n.slots.length;
        // Start at the slot holding max (mas_rev_awalk starts where the walk to max ended).
        for (int i = Long.compareUnsigned(hi, max) <= 0 ? slots - 1 : n.slotOf(max); i >= 0; i--) {
            final long slo = i == 0 ? lo : n.pivot(i - 1) + 1;
            final long shi = i < slots - 1 ? n.pivot(i) : hi;
            if (Long.compareUnsigned(shi, min) < 0) {
                return false;
            }
            if (n.leaf) {
                if (n.slots[i] == null && fits(slo, shi, min, max, size, mas, true)) {
                    return true;
                }
            } else if (Long.compareUnsigned(gapOf(n, i), size) >= 0
                    && reverse((MapleNode) n.slots[i], slo, shi, min, max, size, mas)) {
                return true;
            }
        }
        return false;
    }
}
