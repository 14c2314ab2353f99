package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The branch-free pivot count of {@link MapleNode#slotOf} against a plain unsigned linear scan, for every
 * node length (so the ULONG_MAX padding past the data end is exercised) and pivots on both sides of the
 * sign bit; also {@link MapleNode#pivot} against the pivots the node was built from.
 */
class MapleSlotOfTest {
    private static int linear(final long[] pivots, final long index) {
        int i = 0;
        while (i < pivots.length && Long.compareUnsigned(index, pivots[i]) > 0) {
            i++;
        }
        return i;
    }

    /** A leaf whose slots end at {@code pivots} and then at {@code last}. */
    private static MapleNode leafWithPivots(final long[] pivots, final long last) {
        final SegmentList s = new SegmentList();
        long start = 0;
        for (final long p : pivots) {
            s.add(start, p, "x");
            start = p + 1;
        }
        s.add(start, last, "x");
        return MapleNode.leaf(s, 0, s.size);
    }

    @Test
    void matchesLinearScanForEveryLengthAndBoundary() {
        final SplittableRandom rnd = new SplittableRandom(42);
        for (int len = 0; len <= 15; len++) {
            for (int round = 0; round < 200; round++) {
                // Strictly ascending unsigned pivots, some straddling the sign bit.
                final long[] pivots = new long[len];
                long at = round % 2 == 0 ? rnd.nextLong(1000) : Long.MAX_VALUE - rnd.nextLong(8 * 1000);
                for (int k = 0; k < len; k++) {
                    at += 1 + rnd.nextLong(1000);
                    pivots[k] = at;
                }
                final long[] probes = new long[3 * len + 4];
                int p = 0;
                for (final long pv : pivots) {
                    probes[p++] = pv - 1;
                    probes[p++] = pv;
                    probes[p++] = pv + 1;
                }
                probes[p++] = 0;
                probes[p++] = -1L;
                probes[p++] = Long.MIN_VALUE;
                probes[p] = Long.MAX_VALUE;
                final MapleNode node = leafWithPivots(pivots, at + 1 + rnd.nextLong(1000));
                assertEquals(len, node.pivotCount());
                for (int k = 0; k < 15; k++) {
                    assertEquals(k < len ? pivots[k] : -1L, node.pivot(k), "pivot " + k);
                    assertEquals(node.pivot(k), node.pivotField(k) ^ Long.MIN_VALUE, "switch fallback, pivot " + k);
                }
                for (final long q : probes) {
                    assertEquals(linear(pivots, q), node.slotOf(q), () -> "len " + pivots.length);
                }
            }
        }
    }
}
