package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The branch-free pivot search of {@link MapleTree#slotOf} against a plain unsigned linear scan. */
class MapleSlotOfTest {
    private static int linear(final long[] pivots, final long index) {
        int i = 0;
        while (i < pivots.length && Long.compareUnsigned(index, pivots[i]) > 0) {
            i++;
        }
        return i;
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
                for (final long q : probes) {
                    assertEquals(linear(pivots, q), MapleTree.slotOf(pivots, q), () -> "len " + pivots.length);
                }
            }
        }
    }
}
