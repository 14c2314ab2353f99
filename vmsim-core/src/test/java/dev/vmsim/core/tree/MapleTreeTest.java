package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.debug.Bug;
import dev.vmsim.core.debug.BugSwitches;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-operation tests of {@link MapleTree}, ported by name from lib/test_maple_tree.c and tools/testing/radix-tree/maple.c. */
class MapleTreeTest {
    private static final long MAX = -1L;

    /** TREE-05 check_seq: insert 0..1000 ascending; after each, every inserted index loads and i+1 is NULL. */
    @Test
    void checkSeqAscending() {
        final MapleTree<Long> mt = new MapleTree<>(false);
        final Long[] v = values(1001);
        for (int i = 0; i <= 1000; i++) {
            assertEquals(0, mt.insert(i, i, v[i]));
            for (int j = 0; j <= i; j++) {
                assertSame(v[j], mt.walk(j), "index " + j + " after inserting " + i);
            }
            assertNull(mt.walk(i + 1));
            if (i % 50 == 0) {
                mt.validate();
            }
        }
        mt.validate();
        assertEquals(1001, mt.size());
        assertTrue(mt.height() >= 3, "height " + mt.height());
    }

    /** TREE-05 check_rev_seq: the same, descending. */
    @Test
    void checkRevSeqDescending() {
        final MapleTree<Long> mt = new MapleTree<>(true);
        final Long[] v = values(1001);
        for (int i = 1000; i >= 0; i--) {
            assertEquals(0, mt.insert(i, i, v[i]));
            for (int j = i; j <= 1000; j++) {
                assertSame(v[j], mt.walk(j), "index " + j + " after inserting " + i);
            }
            assertNull(mt.walk(1001));
            if (i % 50 == 0) {
                mt.validate();
            }
        }
        mt.validate();
        assertEquals(1001, mt.size());
    }

    /** TREE-06 check_dup_insert: the second insert of k returns -EEXIST and the value is unchanged. */
    @Test
    void checkDupInsert() {
        final MapleTree<String> mt = new MapleTree<>(true);
        assertEquals(0, mt.insert(5, 5, "first"));
        assertEquals(-17, mt.insert(5, 5, "second"));
        assertEquals(-17, mt.insert(0, 10, "overlapping"));
        assertEquals(0, mt.insert(6, 10, "beside"));
        assertEquals("first", mt.walk(5));
        assertEquals("beside", mt.walk(6));
        mt.validate();
    }

    /**
     * TREE-07 check_rev_find: 201 ranges [10i, 10i+5]. Our {@link MaState#findRev} does not advance, so
     * each kernel "next mas_find_rev" is a findRev from index - 1 (mas_prev).
     */
    @Test
    void checkRevFind() {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        for (int i = 0; i <= 200; i++) {
            mt.store(i * 10L, i * 10L + 5, i);
        }
        final MaState<Integer> mas = new MaState<>(mt, 1000, 1000);
        assertEquals(100, mas.findRev(1000));
        mas.set(mas.index - 1, mas.index - 1);
        assertNull(mas.findRev(1000));

        mas.set(999, 999);
        assertNull(mas.findRev(997));

        mas.set(1000, 1000);
        assertEquals(100, mas.findRev(900));
        mas.set(mas.index - 1, mas.index - 1);
        assertEquals(99, mas.findRev(900));

        mas.set(20, 20);
        assertEquals(2, mas.findRev(0));
        assertEquals(20, mas.index);
        assertEquals(25, mas.last);
        mas.set(mas.index - 1, mas.index - 1);
        assertEquals(1, mas.findRev(0));
        mas.set(mas.index - 1, mas.index - 1);
        assertEquals(0, mas.findRev(0));
        assertEquals(0, mas.index);
        assertEquals(5, mas.last);
        assertNull(mt.find(2006, MAX), "NULL past the end");
    }

    /** TREE-08 check_empty_area_window: [10i, 10i+9] for i = 1..20 with a hole at 160..169. */
    @Test
    void checkEmptyAreaWindow() {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        for (int i = 1; i <= 20; i++) {
            mt.store(i * 10L, i * 10L + 9, i);
        }
        mt.erase(160);
        mt.validate();
        final MaState<Integer> mas = new MaState<>(mt, 0, 0);
        assertEquals(-16, mas.emptyAreaRev(5, 90, 10));
        assertArea(mas, 0, mas.emptyAreaRev(5, 90, 5), 5, 9);
        assertArea(mas, 0, mas.emptyAreaRev(5, 217, 9), 161, 169);
        assertArea(mas, 0, mas.emptyAreaRev(100, 218, 3), 216, 218);
        assertEquals(-16, mas.emptyAreaRev(100, 218, 16));
        assertEquals(-16, mas.emptyAreaRev(167, 200, 4));
        assertEquals(-16, mas.emptyAreaRev(100, 162, 4));
        assertArea(mas, 0, mas.emptyArea(0, 100, 9), 0, 8);
        assertArea(mas, 0, mas.emptyArea(0, 100, 4), 0, 3);
        assertEquals(-16, mas.emptyArea(0, 100, 11));
        assertEquals(-16, mas.emptyArea(5, 100, 6));
        assertEquals(-16, mas.emptyArea(100, 163, 6));
        assertArea(mas, 0, mas.emptyArea(100, 200, 10), 160, 169);
    }

    /** TREE-09 check_empty_area_fill: 5000 areas of each size 2^12..2^16 exactly fill [0, 0x25D78000]. */
    @Test
    void checkEmptyAreaFill() {
        final long max = 0x25D78000L;
        final MapleTree<Long> mt = new MapleTree<>(true);
        final MaState<Long> mas = new MaState<>(mt, 0, 0);
        for (int shift = 12; shift <= 16; shift++) {
            final long size = 1L << shift;
            final Long value = size;
            for (int loop = 0; loop < 5000; loop++) {
                mas.set(0, 0);
                assertEquals(0, mas.emptyArea(0, max, size), "size " + size + " loop " + loop);
                assertEquals(mas.index + size - 1, mas.last);
                mt.store(mas.index, mas.last, value);
            }
        }
        mt.validate();
        assertTrue(mt.height() >= 4, "height " + mt.height());
        assertEquals(-16, mas.emptyArea(0, max, 0x1000));
        for (long i = 629440511L; i <= 629440800L; i += 6) {
            mt.store(i, i + 5, i);
        }
        assertEquals(0x10000L, mt.erase(631668735L)); // space in the second-last depth-4 node
        mt.erase(629506047L);
        mt.validate();
        mas.set(0, 0);
        assertEquals(0, mas.emptyArea(629506048L, 690000000L, 0x5000));
        assertEquals(0, mas.emptyArea(0, max, 0x10000), "the freed area deep in the tree is found");
        assertTrue(mas.last <= max);
        assertNull(mt.walk(mas.index));
    }

    /** TREE-11 check_spanning_write: NULL stores spanning leaves, parents and finally the whole tree. */
    @Test
    void checkSpanningWrite() {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        final ReferenceRangeMap<Integer> ref = new ReferenceRangeMap<>();
        for (int i = 0; i <= 5000; i++) {
            mt.store(i * 10L, i * 10L + 5, i);
            ref.store(i * 10L, i * 10L + 5, i);
        }
        final long[][] spans = {{1200, 2380}, {312, 4519}, {2401, 2401}, {20000, 49000}, {9, 50006}};
        for (final long[] s : spans) {
            mt.store(s[0], s[1], null);
            ref.store(s[0], s[1], null);
            mt.validate();
            assertNull(mt.walk(s[0]));
            assertNull(mt.walk(s[1]));
            assertEquals(ref.size(), mt.size());
        }
        // The last store expands over everything but [0, 5] (TREE-11's "[9, 50006] is the whole tree").
        assertEquals(1, mt.size());
        assertEquals(1, mt.height());
        // A spanning store of a value, then one ending exactly at a node boundary.
        for (int i = 0; i <= 5000; i++) {
            mt.store(i * 10L, i * 10L + 5, i);
        }
        mt.store(15, 40_000, -1);
        mt.validate();
        assertEquals(-1, mt.walk(15));
        assertEquals(-1, mt.walk(40_000));
        assertEquals(4000, mt.walk(40_001));
    }

    /**
     * TREE-12 test_spanning_store_regression (tools/testing/radix-tree/maple.c), ported: a height-3
     * tree as full as sequential stores make it (one more store would grow it to height 4); under
     * the root's first child A, leaves B (second to last) and C (last). A store of a value over
     * [start of B's last slot, A's max] consumes all of C:
     *
     * <pre>
     *   0                 Root
     *                    /    \
     *   1  pivot = to   A      ...
     *                  / \
     *   2            B    C        from = B's last slot, to = C's max
     * </pre>
     */
    @Test
    void spanningStoreOverWholeRightLeaf() {
        final MapleTree<Integer> grow = new MapleTree<>(true);
        int n = 0;
        for (; grow.height() <= 3; n++) {
            grow.store(n * 10L, n * 10L + 5, n);
        }
        final MapleTree<Integer> mt = sequential(n - 1); // the last store made it height 4
        assertEquals(3, mt.height());
        final MapleNode a = (MapleNode) mt.root().slots[0];
        assertFalse(a.leaf);
        assertTrue(a.slotCount() >= 2, "A has at least two leaves");
        final int bi = a.slotCount() - 2;
        final MapleNode b = (MapleNode) a.slots[bi];
        final long bLo = bi == 0 ? 0 : a.pivot(bi - 1) + 1;
        final long from = b.pivotCount() >= 1 ? b.pivot(b.pivotCount() - 1) + 1 : bLo; // get_last_index(B)
        final long to = mt.root().pivot(0); // A's max = C's max
        final Integer before = mt.walk(from - 1);
        final Integer after = mt.walk(to + 1);
        final int dead = 0xdead;
        mt.store(from, to, dead);
        mt.validate();
        assertEquals(dead, mt.walk(from));
        assertEquals(dead, mt.walk(to));
        assertEquals(before, mt.walk(from - 1), "the entry before the store is intact");
        assertEquals(after, mt.walk(to + 1), "the entry after A's range is intact");
    }

    /** Entries i at [10 i, 10 i + 5] for i < n. */
    private static MapleTree<Integer> sequential(final int n) {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        for (int i = 0; i < n; i++) {
            mt.store(i * 10L, i * 10L + 5, i);
        }
        return mt;
    }

    /**
     * BUG-10: a spanning store that erases the left side of a height-3 tree (entries 0..58 of 200)
     * leaves the leftmost internal node with too few children; mas_rebalance merges it with its
     * sibling. With BUG-10 on the node is kept as it is and mt_validate reports it.
     */
    @Test
    void bug10SwitchLeavesAnUnderfullNodeAfterASpanningStore() {
        final MapleTree<Integer> fixed = spanningEraseOfTheLeftSide();
        fixed.validate();
        assertNull(fixed.walk(0));
        assertEquals(141, fixed.size());
        try (var bug = BugSwitches.reintroduce(Bug.BUG_10)) {
            final MapleTree<Integer> broken = spanningEraseOfTheLeftSide();
            final IllegalStateException e = assertThrows(IllegalStateException.class, broken::validate);
            assertTrue(e.getMessage().contains("underfull"), e.getMessage());
        }
    }

    private static MapleTree<Integer> spanningEraseOfTheLeftSide() {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        for (int i = 0; i < 200; i++) {
            mt.store(i * 10L, i * 10L + 5, i);
        }
        assertEquals(3, mt.height());
        mt.store(0, 589, null);
        return mt;
    }

    /** TREE-13 check_collapsing_rebalance: a height-6 tree erased from the right stays valid and ends empty. */
    @Test
    void checkCollapsingRebalance() {
        final MapleTree<Integer> mt = new MapleTree<>(true);
        int n = 0;
        while (mt.height() < 6) {
            mt.store(n * 10L, n * 10L + 5, n);
            n++;
        }
        mt.validate();
        int height = mt.height();
        for (int i = n - 1; i >= 0; i--) {
            assertEquals(i, mt.erase(i * 10L));
            if (mt.height() != height || i % 997 == 0) {
                height = mt.height();
                mt.validate();
            }
            assertEquals(i, mt.size());
        }
        assertTrue(mt.isEmpty());
        assertEquals(0, mt.height());
        mt.validate();
    }

    /** TREE-14 check_null_expand: NULL stores beside NULLs coalesce, shrinking the node's data end. */
    @Test
    void checkNullExpand() {
        final MapleTree<String> mt = new MapleTree<>(true);
        for (int i = 0; i < 8; i++) {
            mt.store(i * 10L, i * 10L + 9, "e" + i);
        }
        assertEquals(9, mt.root().slotCount()); // e0..e7 and the NULL [80, MAX]
        mt.store(0, 9, null); // at the start: nothing to join
        assertEquals(9, mt.root().slotCount());
        mt.store(10, 19, null); // joins the NULL at the start
        assertEquals(8, mt.root().slotCount());
        mt.store(70, 79, null); // joins the NULL at the end
        assertEquals(7, mt.root().slotCount());
        mt.store(35, 44, null); // splits e3 and e4, no NULL beside it
        assertEquals(8, mt.root().slotCount());
        mt.store(25, 54, null); // across several slots, joining the NULL at 35..44
        assertEquals(6, mt.root().slotCount()); // [0,19] e2[20,24] NULL[25,54] e5[55,59] e6 NULL[70,MAX]
        mt.validate();
        final MaState<String> mas = new MaState<>(mt, 30, 30);
        assertNull(mas.walk());
        assertEquals(25, mas.index);
        assertEquals(54, mas.last);
        mt.store(0, MAX, null);
        assertTrue(mt.isEmpty());
        assertNull(mt.root(), "TREE-03: no node holds a single NULL over the whole space");
        mas.set(12345, 12345);
        assertNull(mas.walk());
        assertEquals(0, mas.index);
        assertEquals(MAX, mas.last);
    }

    /** TREE-15 check_vma_modification: store a stack VMA, expand it down, shrink it to one page. */
    @Test
    void checkVmaModification() {
        final MapleTree<String> mt = new MapleTree<>(true);
        mt.store(0x7fffffffe000L, 0x7ffffffff000L - 1, "stack");
        mt.store(0x7ffde4ca1000L, 0x7ffffffff000L - 1, "stack");
        mt.validate();
        assertEquals("stack", mt.walk(0x7ffde4ca1000L));
        mt.store(0x7ffde4ca1000L, 0x7fffffffe000L - 1, null);
        mt.validate();
        assertNull(mt.walk(0x7ffde4ca1000L));
        assertNull(mt.walk(0x7fffffffdfffL));
        assertEquals("stack", mt.walk(0x7fffffffe000L));
        assertEquals(1, mt.size());
        assertEquals(3, mt.root().slotCount());
    }

    @Test
    void eraseRemovesTheWholeEntryAndReturnsIt() {
        final MapleTree<String> mt = new MapleTree<>(true);
        mt.store(100, 199, "a");
        mt.store(200, 299, "b");
        assertEquals("a", mt.erase(150));
        assertNull(mt.erase(150));
        assertNull(mt.walk(100));
        assertEquals("b", mt.walk(200));
        assertEquals(1, mt.size());
        mt.validate();
    }

    @Test
    void storeSplitsWhatItOverlaps() {
        final MapleTree<String> mt = new MapleTree<>(false);
        mt.store(0, 99, "a");
        mt.store(40, 59, "b");
        final List<String> seen = new ArrayList<>();
        mt.forEachRange((f, l, v) -> seen.add(f + "-" + l + "=" + v));
        assertEquals(List.of("0-39=a", "40-59=b", "60-99=a"), seen);
        final List<String> values = new ArrayList<>();
        mt.forEach(values::add);
        assertEquals(List.of("a", "b", "a"), values);
        assertThrows(IllegalArgumentException.class, () -> mt.store(5, 4, "x"));
        mt.destroy();
        assertTrue(mt.isEmpty());
        assertEquals(0, mt.size());
    }

    @Test
    void findAndFindRevPositionTheCursorOnTheEntry() {
        final MapleTree<String> mt = new MapleTree<>(true);
        mt.store(100, 199, "a");
        mt.store(300, 399, "b");
        final MaState<String> mas = new MaState<>(mt, 200, 200);
        assertEquals("b", mas.find(MAX));
        assertEquals(300, mas.index);
        assertEquals(399, mas.last);
        mas.set(200, 200);
        assertNull(mas.find(299));
        assertEquals(200, mas.index, "cursor unchanged on a miss");
        mas.set(250, 250);
        assertEquals("a", mas.findRev(0));
        assertEquals(100, mas.index);
        assertEquals(199, mas.last);
        mas.set(250, 250);
        assertNull(mas.findRev(200));
        assertEquals("a", mt.find(150, 150));
        assertEquals("b", mt.findRev(MAX, 0));
    }

    /** The validator can fail: a hand-built tree with an underfull non-root leaf and a wrong node type. */
    @Test
    void validateRejectsUnderfullAndMistypedNodes() {
        final SegmentList s = new SegmentList();
        s.add(0, 9, "a");
        s.add(10, 19, null);
        s.add(20, MAX, "c");
        final NodeList kids = new NodeList(2);
        final SegmentList s2 = new SegmentList();
        for (int i = 0; i < 6; i++) {
            s2.add(i, i, "x" + i);
        }
        s2.add(6, 9, "y");
        kids.add(MapleNode.leaf(s2, 0, s2.size), 9);
        final SegmentList s3 = new SegmentList();
        s3.add(10, 19, null);
        s3.add(20, MAX, "c");
        kids.add(MapleNode.leaf(s3, 0, s3.size), MAX);
        final MapleNode root = MapleNode.internal(kids, 0, 2, true);
        final IllegalStateException under =
                assertThrows(IllegalStateException.class, () -> new MapleValidator(true).validate(root));
        assertTrue(under.getMessage().contains("underfull"), under.getMessage());
        final IllegalStateException type =
                assertThrows(IllegalStateException.class, () -> new MapleValidator(false).validate(root));
        assertTrue(type.getMessage().contains("type"), type.getMessage());
        new MapleValidator(true).validate(MapleNode.leaf(s, 0, s.size));
        final SegmentList nulls = new SegmentList();
        nulls.add(0, 9, null);
        nulls.add(10, MAX, null);
        final IllegalStateException adj = assertThrows(
                IllegalStateException.class, () -> new MapleValidator(true).validate(MapleNode.leaf(nulls, 0, 2)));
        assertTrue(adj.getMessage().contains("adjacent NULL"), adj.getMessage());
    }

    @Test
    void internalNodesAreArange64OnlyInAllocRangeTrees() {
        for (final boolean alloc : new boolean[] {true, false}) {
            final MapleTree<Integer> mt = new MapleTree<>(alloc);
            for (int i = 0; i < 500; i++) {
                mt.store(i * 4L, i * 4L + 1, i);
            }
            final MapleNode root = mt.root();
            assertFalse(root.leaf);
            assertEquals(alloc, root.gaps != null);
            assertTrue(root.slotCount() <= (alloc ? 10 : 16));
            mt.validate();
        }
    }

    private static void assertArea(
            final MaState<?> mas, final int expectRc, final int rc, final long index, final long last) {
        assertEquals(expectRc, rc);
        assertEquals(index, mas.index, "index");
        assertEquals(last, mas.last, "last");
    }

    private static Long[] values(final int n) {
        final Long[] v = new Long[n];
        for (int i = 0; i < n; i++) {
            v[i] = (long) i + 1_000_000;
        }
        return v;
    }
}
