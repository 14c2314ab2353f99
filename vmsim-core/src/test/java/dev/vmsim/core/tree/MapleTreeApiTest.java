package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.vmsim.core.tree.MapleNodeCache.Gfp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code mtree_*} allocation API and the cursor's pause, ported by name from lib/test_maple_tree.c:
 * check_alloc_rev_range (TREE-10) and the mas_pause loops of check_find (TREE-19).
 */
class MapleTreeApiTest {
    /** MTREE_ALLOC_MAX: the test reserves [this, ULONG_MAX] with XA_ZERO_ENTRY. */
    private static final long MTREE_ALLOC_MAX = 0x2000000000000L;

    private static final Object XA_ZERO_ENTRY = new Object();

    /** A /proc/self/maps table captured by the kernel test's author: [start, end) pairs, bytes. */
    private static final long[] RANGE = {
        0x565234af2000L, 0x565234af4000L, 0x565234af4000L, 0x565234af9000L,
        0x565234af9000L, 0x565234afb000L, 0x565234afc000L, 0x565234afd000L,
        0x565234afd000L, 0x565234afe000L, 0x565235def000L, 0x565235e10000L,
        0x7f36d4bfd000L, 0x7f36d4ee2000L, 0x7f36d4ee2000L, 0x7f36d4f04000L,
        0x7f36d4f04000L, 0x7f36d504c000L, 0x7f36d504c000L, 0x7f36d5098000L,
        0x7f36d5098000L, 0x7f36d5099000L, 0x7f36d5099000L, 0x7f36d509d000L,
        0x7f36d509d000L, 0x7f36d509f000L, 0x7f36d509f000L, 0x7f36d50a5000L,
        0x7f36d50b9000L, 0x7f36d50db000L, 0x7f36d50db000L, 0x7f36d50dc000L,
        0x7f36d50dc000L, 0x7f36d50fa000L, 0x7f36d50fa000L, 0x7f36d5102000L,
        0x7f36d5102000L, 0x7f36d5103000L, 0x7f36d5103000L, 0x7f36d5104000L,
        0x7f36d5104000L, 0x7f36d5105000L, 0x7fff5876b000L, 0x7fff5878d000L,
        0x7fff5878e000L, 0x7fff58791000L, 0x7fff58791000L, 0x7fff58793000L,
    };

    /**
     * TREE-10 check_alloc_rev_range: the captured maps table (in pages) with [MTREE_ALLOC_MAX,
     * ULONG_MAX] reserved. Each hole is found by mas_empty_area_rev as the highest fit below its
     * end; each reverse allocation returns the highest hole that fits; a too-big request gets
     * -EBUSY; and after two erases the request that exactly fits the space they open returns it.
     */
    @Test
    void checkAllocRevRange() {
        final MapleTree<Object> mt = new MapleTree<>(true);
        assertEquals(0, mt.mtreeStoreRange(MTREE_ALLOC_MAX, -1L, XA_ZERO_ENTRY, Gfp.KERNEL));
        for (int i = 0; i < RANGE.length; i += 2) {
            final long first = RANGE[i] >>> 12;
            assertEquals(0, mt.mtreeInsertRange(first, (RANGE[i + 1] >>> 12) - 1, first, Gfp.KERNEL));
            mt.validate();
        }
        // holes: start (inclusive), end (exclusive), size, in bytes
        final long[] holes = {
            0x565234afb000L, 0x565234afc000L, 0x1000L,
            0x565234afe000L, 0x565235def000L, 0x12F1000L,
            0x565235e10000L, 0x7f36d4bfd000L, 0x28E49EDED000L,
        };
        final MaState<Object> mas = new MaState<>(mt, 0, 0);
        long min = 0;
        for (int i = 0; i < holes.length; i += 3) {
            final long end = holes[i + 1] >>> 12;
            final long size = holes[i + 2] >>> 12;
            assertEquals(0, mas.emptyAreaRev(min, end, size), "hole " + i / 3);
            assertEquals(end, mas.last + 1, "hole " + i / 3 + " ends where the next mapping starts");
            assertEquals(end - size, mas.index, "hole " + i / 3 + " start");
            min = end;
            mas.set(0, 0);
        }
        // min, max, size, expected start, expected return (all indices in pages)
        final long[][] req = {
            {0x565234af9L, 0x7fff58791L, 1, 0x7fff5878dL, 0},
            {0, 0x565234AF0L, 3, 0x565234AEEL, 0},
            {0, -1L >>> 12, 1, 562949953421311L, 0},
            {0, 0x7F36D5109L, 4, 0x7F36D5106L, 0},
            {0, 34148798628L, 19, 34148797418L, 0}, // ascend
            {0, -1L >>> 12, 562915594369134L, 0, -MapleTree.EBUSY}, // too big
            {34148798725L, 34148798725L, 1, 34148798725L, 0}, // single space
        };
        for (final long[] r : req) {
            final long[] start = {r[3] + 1};
            final int rc = mt.allocRrange(start, r[0], r[2], r[0], r[1], Gfp.KERNEL);
            assertEquals(r[4], rc, "request " + r[0] + ".." + r[1] + " size " + r[2]);
            if (rc == 0) {
                assertEquals(r[3], start[0], "request " + r[0] + ".." + r[1] + " size " + r[2]);
                assertEquals(r[0], mt.walk(start[0]));
            }
            mt.validate();
        }
        mt.erase(34148798727L); // create a deleted range
        mt.erase(34148798725L);
        final long[] start = {0};
        assertEquals(0, mt.allocRrange(start, mt, 210253414L, 0, 34359052173L, Gfp.KERNEL));
        assertEquals(34148798725L, start[0], "the highest hole that fits is the one the erases opened");
        mt.validate();
    }

    /** Values 0, 1, 4, 16, ... 4^20 at their own index, as check_find inserts them. */
    private static List<Long> checkFindValues(final MapleTree<Long> mt) {
        final List<Long> v = new ArrayList<>();
        assertEquals(0, mt.insert(0, 0, 0L));
        v.add(0L);
        long val = 1;
        for (int i = 0; i <= 20; i++) {
            assertEquals(0, mt.insert(val, val, val));
            v.add(val);
            val <<= 2;
        }
        return v;
    }

    /**
     * TREE-19 check_find (mas_pause): iterating with mas_pause and the lock dropped and retaken after
     * every entry returns every entry once, in order; an entry at ULONG_MAX ends the walk (the pause
     * overflows rather than wrapping to index 0 and starting again).
     */
    @Test
    void checkFindPauseResumesAtTheNextEntry() {
        final MapleTree<Long> mt = new MapleTree<>(true);
        final List<Long> expected = checkFindValues(mt);
        mt.mtreeLock();
        final MaState<Long> mas = new MaState<>(mt, 0, 0);
        final List<Long> seen = new ArrayList<>();
        for (Long e = mas.find(-1L); e != null; e = mas.find(-1L)) {
            seen.add(e);
            mas.pause();
            mt.mtreeUnlock();
            mt.mtreeLock();
        }
        mt.mtreeUnlock();
        assertEquals(expected, seen);

        assertEquals(0, mt.insert(-1L, -1L, Long.MAX_VALUE)); // the kernel's xa_mk_value(LONG_MAX) at ULONG_MAX
        expected.add(Long.MAX_VALUE);
        mas.set(0, 0);
        seen.clear();
        for (Long e = mas.find(-1L); e != null; e = mas.find(-1L)) {
            seen.add(e);
            mas.pause();
            if (seen.size() > expected.size()) {
                break; // wrapped past ULONG_MAX
            }
        }
        assertEquals(expected, seen, "ULONG_MAX ends the iteration");
        assertNull(mas.find(-1L), "a cursor paused at ULONG_MAX stays at the end until set");
    }

    /**
     * TREE-19 with writers between pause and resume (the lock is dropped, so the tree may change):
     * an entry erased or added before the cursor is not returned, one added after it is, and no
     * entry is returned twice or skipped.
     */
    @Test
    void pausedIterationSeesTheTreeAsItIsWhenItResumes() {
        final MapleTree<Long> mt = new MapleTree<>(true);
        for (long i = 0; i < 300; i++) {
            mt.store(i * 10, i * 10 + 5, i);
        }
        final MaState<Long> mas = new MaState<>(mt, 0, 0);
        final List<Long> seen = new ArrayList<>();
        for (Long e = mas.find(-1L); e != null; e = mas.find(-1L)) {
            seen.add(e);
            mas.pause();
            if (e == 100) {
                mt.erase(1000); // the entry just returned
                mt.store(995, 998, -1L); // behind the cursor
                mt.store(1007, 1008, -2L); // just ahead of it
                mt.erase(2000); // ahead, gone before it is reached
            }
        }
        final List<Long> expected = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            if (i != 200) {
                expected.add(i);
            }
            if (i == 100) {
                expected.add(-2L);
            }
        }
        assertEquals(expected, seen);
        assertSame(null, mt.walk(1000));
        mt.validate();
    }
}
