package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/** mas_empty_area / mas_empty_area_rev at the edges of the unsigned space, exhausted spaces, and lookups' allocation. */
class MapleGapSearchTest {
    private static final long MAX = -1L;
    private static final int EBUSY = -MapleTree.EBUSY;

    @Test
    void emptyTreeHasOneGapOverTheWholeSpace() {
        final MaState<String> mas = new MaState<>(new MapleTree<>(true), 0, 0);
        assertEquals(0, mas.emptyArea(0, MAX, 1L << 63));
        assertEquals(0, mas.index);
        assertEquals((1L << 63) - 1, mas.last);
        assertEquals(0, mas.emptyAreaRev(0, MAX, 1L << 63));
        assertEquals(1L << 63, mas.index);
        assertEquals(MAX, mas.last);
        assertEquals(0, mas.emptyAreaRev(0, MAX, MAX), "2^64-1 indices fit below the top");
        assertEquals(1, mas.index);
        assertEquals(EBUSY, mas.emptyArea(10, 5, 1), "min > max");
    }

    @Test
    void gapsAtZeroAndAtTheTopOfTheSpace() {
        final MapleTree<String> mt = new MapleTree<>(true);
        final MaState<String> mas = new MaState<>(mt, 0, 0);
        mt.store(1, MAX - 1, "middle");
        assertEquals(0, mas.emptyArea(0, MAX, 1));
        assertEquals(0, mas.index);
        assertEquals(0, mas.last);
        assertEquals(0, mas.emptyAreaRev(0, MAX, 1));
        assertEquals(MAX, mas.index);
        assertEquals(MAX, mas.last);
        assertEquals(EBUSY, mas.emptyArea(0, MAX, 2));
        assertEquals(EBUSY, mas.emptyAreaRev(0, MAX, 2));
        assertEquals(EBUSY, mas.emptyArea(1, MAX - 1, 1));
        mt.store(MAX - 1, MAX - 1, null);
        assertEquals(0, mas.emptyAreaRev(0, MAX, 2));
        assertEquals(MAX - 1, mas.index);
        assertEquals(0, mas.emptyArea(1, MAX, 2));
        assertEquals(MAX - 1, mas.index);
        mt.validate();
    }

    @Test
    void fullSpaceIsBusyBothWays() {
        final MapleTree<String> mt = new MapleTree<>(true);
        mt.store(0, MAX, "all");
        final MaState<String> mas = new MaState<>(mt, 0, 0);
        assertEquals(EBUSY, mas.emptyArea(0, MAX, 1));
        assertEquals(EBUSY, mas.emptyAreaRev(0, MAX, 1));
        assertEquals("all", mt.walk(MAX));
        mt.validate();
    }

    /** Fill the top of the space page by page from above with emptyAreaRev until EBUSY. */
    @Test
    void reverseAllocationNearTheTopUntilExhausted() {
        final MapleTree<Long> mt = new MapleTree<>(true);
        final MaState<Long> mas = new MaState<>(mt, 0, 0);
        final long min = MAX - 4096 * 3000L + 1;
        long expectedTop = MAX;
        int n = 0;
        while (mas.emptyAreaRev(min, MAX, 4096) == 0) {
            assertEquals(expectedTop, mas.last);
            assertEquals(expectedTop - 4095, mas.index);
            mt.store(mas.index, mas.last, (long) n++);
            expectedTop -= 4096;
        }
        assertEquals(3000, n);
        mt.validate();
        assertEquals(EBUSY, mas.emptyArea(min, MAX, 1));
        // Free one page deep in the tree: both searches find exactly it.
        final long hole = mt.walk(MAX - 4096L * 1234) == null ? -1 : MAX - 4096L * 1234;
        final MaState<Long> at = new MaState<>(mt, hole, hole);
        at.walk();
        final long holeStart = at.index;
        mt.erase(hole);
        assertEquals(0, mas.emptyArea(min, MAX, 4096));
        assertEquals(holeStart, mas.index);
        assertEquals(0, mas.emptyAreaRev(min, MAX, 4096));
        assertEquals(holeStart, mas.index);
        assertEquals(EBUSY, mas.emptyAreaRev(min, MAX, 4097));
        mt.validate();
    }

    /** Lookups through a reused cursor, and MapleTree.walk, allocate nothing (measured per thread). */
    @Test
    void lookupsAllocateNothing() {
        final MapleTree<Long> mt = new MapleTree<>(true);
        for (long i = 0; i < 20_000; i++) {
            mt.store(i * 0x3000, i * 0x3000 + 0x1fff, i);
        }
        final MaState<Long> mas = new MaState<>(mt, 0, 0);
        final com.sun.management.ThreadMXBean bean =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            final long before = bean.getCurrentThreadAllocatedBytes();
            for (long i = 0; i < 200_000; i++) {
                final long addr = (i * 0x9E3779B97F4A7C15L) >>> 30;
                if (mt.walk(addr) != null) {
                    sink++;
                }
                mas.set(addr, addr);
                if (mas.walk() != null) {
                    sink++;
                }
                mas.set(addr, addr);
                if (mas.find(MAX) != null) {
                    sink++;
                }
                mas.set(addr, addr);
                if (mas.findRev(0) != null) {
                    sink++;
                }
                if (mas.emptyAreaRev(0, addr, 0x1000) == 0) {
                    sink++;
                }
            }
            final long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            if (round == 2) {
                assertTrue(allocated < 4096, "lookups allocated " + allocated + " bytes");
            }
        }
        assertTrue(sink > 0);
        assertNull(mt.walk(0x2000));
    }
}
