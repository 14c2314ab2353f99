package dev.vmsim.core.tree;

import dev.vmsim.core.testing.LincheckRuns;
import java.util.TreeMap;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of the maple tree against a TreeMap: stores (serialised among themselves, as the
 * mmap write lock serialises them) race lock-free walks (the RCU read side of mtree_load). Each
 * operation must look atomic: a walk returns what the TreeMap would after some order of the stores
 * that overlapped it. The tree starts with {@link #PREFILL} ranges so that it has two levels and a
 * store copies a path of more than one node; the operations work on the indices 0..9. Its broken
 * twin, {@link BrokenMapleTreeLincheckTest}, shows what this budget catches (LOCK-18, LOCK-20).
 */
@Param(name = "index", gen = IntGen.class, conf = "0:7")
@Param(name = "len", gen = IntGen.class, conf = "1:3")
@Param(name = "value", gen = IntGen.class, conf = "1:3")
public class MapleTreeLincheckTest {
    /**
     * Ranges [4k, 4k + 3] → 100 + k for k < PREFILL: every index is mapped at the start, so a walk
     * that returns null at an index no erase touched is a hole no atomic store leaves.
     */
    static final int PREFILL = 40;

    final MapleTree<Integer> tree = new MapleTree<>();
    private final Object writeLock = new Object();

    public MapleTreeLincheckTest() {
        for (int k = 0; k < PREFILL; k++) {
            tree.store(4L * k, 4L * k + 3, 100 + k);
        }
    }

    /** mas_store_gfp under the (modelled) mmap write lock: [index, index + len - 1] maps to value. */
    @Operation
    public void store(
            @Param(name = "index") final int index,
            @Param(name = "len") final int len,
            @Param(name = "value") final int value) {
        synchronized (writeLock) {
            tree.store(index, index + len - 1, value);
        }
    }

    /** mas_store_gfp of NULL: the munmap side. */
    @Operation
    public void erase(@Param(name = "index") final int index, @Param(name = "len") final int len) {
        synchronized (writeLock) {
            tree.store(index, index + len - 1, null);
        }
    }

    /** mtree_load without any lock. */
    @Operation
    public Integer walk(@Param(name = "index") final int index) {
        return tree.walk(index);
    }

    @Test
    public void modelChecking() {
        LincheckRuns.modelCheck(MapleTreeLincheckTest.class, TreeMapSpec.class, LincheckRuns.budget(10, 40), 2, 2);
    }

    /** The sequential specification: one TreeMap entry per mapped index. */
    public static final class TreeMapSpec {
        private final TreeMap<Long, Integer> map = new TreeMap<>();

        public TreeMapSpec() {
            for (int k = 0; k < PREFILL; k++) {
                for (long i = 4L * k; i <= 4L * k + 3; i++) {
                    map.put(i, 100 + k);
                }
            }
        }

        public void store(final int index, final int len, final int value) {
            for (long i = index; i < index + len; i++) {
                map.put(i, value);
            }
        }

        public void erase(final int index, final int len) {
            for (long i = index; i < index + len; i++) {
                map.remove(i);
            }
        }

        public Integer walk(final int index) {
            return map.get((long) index);
        }
    }
}
