package dev.vmsim.core.tree;

import dev.vmsim.core.testing.LincheckRuns;
import java.util.Map;
import java.util.TreeMap;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * LOCK-20: linearizability of the VMA-tree API, run concurrently against a sequential map of ranges.
 * The writers (mas_store_gfp over a range, mtree_insert_range, mtree_erase, and mas_empty_area, which
 * the kernel calls with the mmap lock held) are serialised by one lock, as the mmap write lock
 * serialises them; the readers (mtree_load, mt_find, mt_find_rev) take no lock, as under RCU. Each
 * lookup must return what the sequential spec returns after some order of the writes that overlapped
 * it: one consistent snapshot per lookup.
 *
 * <p>The tree starts as {@link #PREFILL} ranges [4k, 4k + 2] with one free index between them, so it
 * has two levels, a store copies a path of more than one node, and mas_empty_area has gaps of every
 * size 1..3 to find. The operations work on the indices 0..15.
 */
@Param(name = "index", gen = IntGen.class, conf = "0:15")
@Param(name = "len", gen = IntGen.class, conf = "1:3")
@Param(name = "value", gen = IntGen.class, conf = "1:3")
public class VmaTreeApiLincheckTest {
    static final int PREFILL = 40;

    private final MapleTree<Integer> tree = new MapleTree<>(true);
    private final Object writeLock = new Object();

    public VmaTreeApiLincheckTest() {
        for (int k = 0; k < PREFILL; k++) {
            tree.store(4L * k, 4L * k + 2, 100 + k);
        }
    }

    /** mas_store_gfp over [index, index + len - 1] (store_range). */
    @Operation
    public void store(
            @Param(name = "index") final int index,
            @Param(name = "len") final int len,
            @Param(name = "value") final int value) {
        synchronized (writeLock) {
            tree.store(index, index + len - 1, value);
        }
    }

    /** mtree_insert_range: 0, or -EEXIST if any index of the range is occupied. */
    @Operation
    public int insert(
            @Param(name = "index") final int index,
            @Param(name = "len") final int len,
            @Param(name = "value") final int value) {
        synchronized (writeLock) {
            return tree.insert(index, index + len - 1, value);
        }
    }

    /** mtree_erase: the whole entry holding index; returns it. */
    @Operation
    public Integer erase(@Param(name = "index") final int index) {
        synchronized (writeLock) {
            return tree.erase(index);
        }
    }

    /** mas_empty_area(min = index, max = index + 7, size = len): the lowest fitting start, or -EBUSY. */
    @Operation
    public long emptyArea(@Param(name = "index") final int index, @Param(name = "len") final int len) {
        synchronized (writeLock) {
            final MaState<Integer> mas = new MaState<>(tree, 0, 0);
            final int r = mas.emptyArea(index, index + 7, len);
            return r == 0 ? mas.index : r;
        }
    }

    /** mtree_load without any lock. */
    @Operation
    public Integer walk(@Param(name = "index") final int index) {
        return tree.walk(index);
    }

    /** mt_find(index, index + 3) without any lock: vma_find / find_vma's lookup. */
    @Operation
    public Integer find(@Param(name = "index") final int index) {
        return tree.find(index, index + 3);
    }

    /** mt_find_rev(index, index - 3) without any lock: find_vma_prev's lookup. */
    @Operation
    public Integer findPrev(@Param(name = "index") final int index) {
        return tree.findRev(index, Math.max(0, index - 3));
    }

    @Test
    public void modelChecking() {
        LincheckRuns.modelCheck(VmaTreeApiLincheckTest.class, RangeMapSpec.class, LincheckRuns.budget(10, 40), 2, 2);
    }

    /** The sequential specification: disjoint ranges [first, last] keyed by first. */
    public static final class RangeMapSpec {
        private record Range(long first, long last, int value) {}

        private final TreeMap<Long, Range> ranges = new TreeMap<>();

        public RangeMapSpec() {
            for (int k = 0; k < PREFILL; k++) {
                put(4L * k, 4L * k + 2, 100 + k);
            }
        }

        private void put(final long first, final long last, final int value) {
            ranges.put(first, new Range(first, last, value));
        }

        private Range containing(final long index) {
            final Map.Entry<Long, Range> e = ranges.floorEntry(index);
            return e != null && e.getValue().last >= index ? e.getValue() : null;
        }

        private boolean overlaps(final long first, final long last) {
            final Map.Entry<Long, Range> e = ranges.floorEntry(last);
            return e != null && e.getValue().last >= first;
        }

        /** Cuts [first, last] out of every range, keeping the parts outside it. */
        private void clear(final long first, final long last) {
            Map.Entry<Long, Range> e;
            while ((e = ranges.floorEntry(last)) != null && e.getValue().last >= first) {
                final Range r = ranges.remove(e.getKey());
                if (r.first < first) {
                    put(r.first, first - 1, r.value);
                }
                if (r.last > last) {
                    put(last + 1, r.last, r.value);
                }
            }
        }

        public void store(final int index, final int len, final int value) {
            clear(index, index + len - 1);
            put(index, index + len - 1, value);
        }

        public int insert(final int index, final int len, final int value) {
            if (overlaps(index, index + len - 1)) {
                return -MapleTree.EEXIST;
            }
            put(index, index + len - 1, value);
            return 0;
        }

        public Integer erase(final int index) {
            final Range r = containing(index);
            if (r == null) {
                return null;
            }
            ranges.remove(r.first);
            return r.value;
        }

        public long emptyArea(final int index, final int len) {
            final long max = index + 7;
            for (long s = index; s + len - 1 <= max; s++) {
                if (!overlaps(s, s + len - 1)) {
                    return s;
                }
            }
            return -MapleTree.EBUSY;
        }

        public Integer walk(final int index) {
            final Range r = containing(index);
            return r == null ? null : r.value;
        }

        public Integer find(final int index) {
            final Map.Entry<Long, Range> e = ranges.floorEntry((long) index);
            Range r = e != null && e.getValue().last >= index ? e.getValue() : null;
            if (r == null) {
                final Map.Entry<Long, Range> next = ranges.ceilingEntry((long) index);
                r = next == null ? null : next.getValue();
            }
            return r != null && r.first <= index + 3 ? r.value : null;
        }

        public Integer findPrev(final int index) {
            final Map.Entry<Long, Range> e = ranges.floorEntry((long) index);
            return e != null && e.getValue().last >= Math.max(0, index - 3) ? e.getValue().value : null;
        }
    }
}
