package dev.vmsim.bench.jmh;

import dev.vmsim.core.tree.MaState;
import dev.vmsim.core.tree.MapleTree;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The VMA tree (maple tree, lib/maple_tree.c) against the structures a Java port might have used
 * instead: {@code vma_lookup()} (address -> the VMA containing it) and the top-down gap search of
 * {@code unmapped_area_topdown()} ({@code mas_empty_area_rev}).
 *
 * <p>The layout is VMA-like: {@code vmas} ranges of 1..64 pages from 0x400000 up, half of them adjacent
 * to the previous one and the rest 1..16 pages apart. Addresses, pre-boxed keys and gap requests are
 * generated in {@link #setUp()} so the measured paths do no set-up work; the maple paths allocate
 * nothing. The map implementations key each VMA by its start and check the end after floorEntry; their
 * gap search walks VMAs downwards from the window's top (what a tree without gap tracking must do).
 *
 * <pre>java -jar vmsim-bench/target/benchmarks.jar VmaTreeBench -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class VmaTreeBench {
    private static final long PAGE = 4096;
    private static final int QUERIES = 1 << 14;
    private static final Range STORED = new Range(0, 0);

    @Param({"maple", "skiplist", "treemap"})
    public String impl;

    @Param({"64", "4096", "65530"})
    public int vmas;

    /** A VMA-like range [start, end). */
    public static final class Range {
        final long start;
        final long end;

        Range(final long start, final long end) {
            this.start = start;
            this.end = end;
        }
    }

    private boolean isMaple;
    private MapleTree<Range> maple;
    private MaState<Range> mas;
    private NavigableMap<Long, Range> map;
    private long[] addrs;
    private Long[] boxedAddrs;
    private long[] gapTops;
    private long[] gapSizes;
    private long low;
    private int next;

    @Setup
    public void setUp() {
        final SplittableRandom rnd = new SplittableRandom(0x5eed);
        final Range[] ranges = new Range[vmas];
        long at = 0x400000L;
        for (int i = 0; i < vmas; i++) {
            if (i > 0 && rnd.nextBoolean()) {
                at += PAGE * (1 + rnd.nextInt(16));
            }
            final long end = at + PAGE * (1 + rnd.nextInt(64));
            ranges[i] = new Range(at, end);
            at = end;
        }
        low = 0x400000L;
        isMaple = "maple".equals(impl);
        final long top = at;
        maple = new MapleTree<>(true);
        map = "skiplist".equals(impl) ? new ConcurrentSkipListMap<>() : new TreeMap<>();
        for (final Range r : ranges) {
            if (isMaple) {
                maple.store(r.start, r.end - 1, r);
            } else {
                map.put(r.start, r);
            }
        }
        mas = new MaState<>(maple, 0, 0);
        addrs = new long[QUERIES];
        boxedAddrs = new Long[QUERIES];
        gapTops = new long[QUERIES];
        gapSizes = new long[QUERIES];
        for (int i = 0; i < QUERIES; i++) {
            addrs[i] = low + rnd.nextLong(top - low);
            boxedAddrs[i] = addrs[i];
            gapTops[i] = low + rnd.nextLong(top - low);
            gapSizes[i] = PAGE * (4 + rnd.nextInt(13));
        }
    }

    /** vma_lookup(): the VMA containing a random address, or null in a gap. */
    @Benchmark
    public Range lookup() {
        final int i = next++ & (QUERIES - 1);
        if (isMaple) {
            return maple.walk(addrs[i]);
        }
        final Map.Entry<Long, Range> e = map.floorEntry(boxedAddrs[i]);
        if (e == null) {
            return null;
        }
        final Range r = e.getValue();
        return addrs[i] < r.end ? r : null;
    }

    /** unmapped_area_topdown(): the highest free range of the size in [low, top]; its start or -1. */
    @Benchmark
    public long emptyAreaRev() {
        final int i = next++ & (QUERIES - 1);
        final long top = gapTops[i];
        final long size = gapSizes[i];
        if (isMaple) {
            return mas.emptyAreaRev(low, top, size) == 0 ? mas.index : -1;
        }
        long gapTop = top;
        final Iterator<Range> it =
                map.headMap(top, true).descendingMap().values().iterator();
        while (it.hasNext()) {
            final Range r = it.next();
            if (r.end - 1 < gapTop) {
                final long gapStart = Math.max(r.end, low);
                if (gapTop - gapStart + 1 >= size) {
                    return gapTop - size + 1;
                }
            }
            gapTop = r.start - 1;
            if (gapTop < low) {
                return -1;
            }
        }
        return gapTop - low + 1 >= size ? gapTop - size + 1 : -1;
    }

    /**
     * mmap()+munmap() of a VMA-sized range in a random gap: the two tree stores of {@code vma_link()} and
     * {@code vms_complete_munmap_vmas()} ({@code mas_store_gfp} of the VMA, then of NULL). The tree is
     * left as it was, so every invocation sees the same {@code vmas}-entry tree. With {@code -prof gc}
     * the B/op figure is the allocation of the two copy-on-write stores.
     */
    @Benchmark
    public Object store() {
        final int i = next++ & (QUERIES - 1);
        final long size = gapSizes[i];
        if (isMaple) {
            if (mas.emptyAreaRev(low, gapTops[i], size) != 0) {
                return null;
            }
            final long start = mas.index;
            maple.store(start, start + size - 1, STORED);
            maple.store(start, start + size - 1, null);
            return maple;
        }
        final long start = emptyAreaRev();
        if (start < 0) {
            return null;
        }
        final Long key = start;
        map.put(key, STORED);
        map.remove(key);
        return map;
    }
}
