package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * TREE-18 style randomized model test: every operation is applied to the maple tree and to the old
 * sorted-array implementation ({@link ReferenceRangeMap}); every query result and cursor position is
 * compared, the whole contents every 500 operations, and validate() runs after every batch.
 */
class MapleTreeModelTest {
    private static final int OPS = 200_000;

    @ParameterizedTest(name = "seed {0}, universe 2^{1}, allocRange {2}")
    @CsvSource({"1, 10, true", "2, 14, true", "3, 18, true", "4, 14, false", "5, 12, true", "6, 16, false"})
    void agreesWithReferenceOnEveryOperation(final long seed, final int universeBits, final boolean allocRange) {
        final SplittableRandom rnd = new SplittableRandom(seed);
        final MapleTree<Integer> mt = new MapleTree<>(allocRange);
        final ReferenceRangeMap<Integer> ref = new ReferenceRangeMap<>();
        final MaState<Integer> mas = new MaState<>(mt, 0, 0);
        final long universe = 1L << universeBits;
        int nextValue = 0;
        for (int op = 0; op < OPS; op++) {
            final long a = key(rnd, universe);
            final int kind = rnd.nextInt(100);
            final String ctx = "seed " + seed + " op " + op + " kind " + kind + " a=" + Long.toUnsignedString(a);
            if (kind < 30) {
                final long b = end(rnd, a, kind < 2 ? universe / 4 : 64);
                final Integer v = nextValue++;
                mt.store(a, b, v);
                ref.store(a, b, v);
            } else if (kind < 40) {
                final long b = end(rnd, a, kind < 32 ? universe / 8 : 64);
                mt.store(a, b, null);
                ref.store(a, b, null);
            } else if (kind < 48) {
                assertSame(ref.erase(a), mt.erase(a), ctx);
            } else if (kind < 53) {
                final long b = end(rnd, a, 32);
                final Integer v = nextValue++;
                ref.set(a, a);
                final boolean occupied = ref.find(b) != null;
                assertEquals(occupied ? -17 : 0, mt.insert(a, b, v), ctx);
                if (!occupied) {
                    ref.store(a, b, v);
                }
            } else if (kind < 65) {
                assertSame(ref.load(a), mt.walk(a), ctx);
                mas.set(a, a);
                ref.set(a, a);
                assertSame(ref.walk(), mas.walk(), ctx);
                assertCursor(ref, mas, ctx);
            } else if (kind < 75) {
                final long max = rnd.nextBoolean() ? end(rnd, a, 256) : key(rnd, universe);
                mas.set(a, 7);
                ref.set(a, 7);
                assertSame(ref.find(max), mas.find(max), ctx);
                assertCursor(ref, mas, ctx);
            } else if (kind < 85) {
                final long min = rnd.nextBoolean() ? a - rnd.nextLong(256) : key(rnd, universe);
                mas.set(a, 7);
                ref.set(a, 7);
                assertSame(ref.findRev(min), mas.findRev(min), ctx);
                assertCursor(ref, mas, ctx);
            } else {
                final long lo = rnd.nextInt(4) == 0 ? key(rnd, universe) : a;
                final long hi = rnd.nextInt(4) == 0 ? key(rnd, universe) : end(rnd, lo, universe);
                final long size =
                        rnd.nextInt(16) == 0 ? rnd.nextLong(3) : 1 + rnd.nextLong(rnd.nextBoolean() ? 8 : 512);
                mas.set(1, 2);
                ref.set(1, 2);
                final boolean rev = kind >= 93;
                final int expected = rev ? ref.emptyAreaRev(lo, hi, size) : ref.emptyArea(lo, hi, size);
                final int actual = rev ? mas.emptyAreaRev(lo, hi, size) : mas.emptyArea(lo, hi, size);
                final String q = ctx + (rev ? " rev" : " fwd") + " [" + Long.toUnsignedString(lo) + ","
                        + Long.toUnsignedString(hi) + "] size " + size;
                assertEquals(expected, actual, q);
                assertCursor(ref, mas, q);
            }
            if (op % 500 == 499) {
                mt.validate();
                assertEquals(ref.size(), mt.size(), ctx);
                assertSameContents(ref, mt, ctx);
            }
        }
        mt.validate();
        assertSameContents(ref, mt, "final");
    }

    /** Mostly small keys in [0, universe); sometimes keys in the top universe of the space (unsigned). */
    private static long key(final SplittableRandom rnd, final long universe) {
        final long k = rnd.nextLong(universe);
        return rnd.nextInt(10) == 0 ? -universe + k : k;
    }

    /** A range end >= a at most {@code maxLen} further, clamped at 2^64-1. */
    private static long end(final SplittableRandom rnd, final long a, final long maxLen) {
        final long b = a + rnd.nextLong(Math.max(1, maxLen));
        return Long.compareUnsigned(b, a) < 0 ? -1L : b;
    }

    private static void assertCursor(final ReferenceRangeMap<?> ref, final MaState<?> mas, final String ctx) {
        assertEquals(Long.toUnsignedString(ref.index), Long.toUnsignedString(mas.index), ctx + " index");
        assertEquals(Long.toUnsignedString(ref.last), Long.toUnsignedString(mas.last), ctx + " last");
    }

    private static void assertSameContents(
            final ReferenceRangeMap<Integer> ref, final MapleTree<Integer> mt, final String ctx) {
        final ReferenceRangeMap.Snapshot s = ref.snapshot();
        final List<Object> actual = new ArrayList<>();
        mt.forEachRange((f, l, v) -> {
            actual.add(f);
            actual.add(l);
            actual.add(v);
        });
        final List<Object> expected = new ArrayList<>();
        for (int i = 0; i < s.first.length; i++) {
            expected.add(s.first[i]);
            expected.add(s.last[i]);
            expected.add(s.values[i]);
        }
        assertEquals(expected, actual, ctx);
    }
}
