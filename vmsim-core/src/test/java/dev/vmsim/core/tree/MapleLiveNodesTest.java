package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * The VMA tree's node count for the leak check (OOM-10, {@link MapleTree#countLiveNodesIn}): after
 * any sequence of stores, erases and splits it equals the nodes the tree holds, and destroy brings
 * it back to zero, as nr_allocated after mtree_destroy in the userland maple harness.
 */
class MapleLiveNodesTest {
    @Test
    void theCountFollowsEveryStoreAndDestroyReturnsItToZero() {
        final MapleTree<Object> tree = new MapleTree<>(true);
        tree.setInRcu();
        final LongAdder live = new LongAdder();
        tree.countLiveNodesIn(live);
        final SplittableRandom rnd = new SplittableRandom(10);
        for (int i = 0; i < 2000; i++) {
            final long first = rnd.nextLong(4096) << 12;
            final long last = first + (rnd.nextLong(1, 64) << 12) - 1;
            if (rnd.nextInt(3) == 0) {
                tree.store(first, last, null);
            } else {
                tree.store(first, last, "e" + i);
            }
            assertEquals(tree.nodes().size(), live.sum(), "after store " + i);
        }
        final MapleTree<Object> copy = new MapleTree<>(true);
        final LongAdder copied = new LongAdder();
        copy.countLiveNodesIn(copied);
        assertEquals(0, tree.dup(copy, MapleNodeCache.Gfp.KERNEL));
        assertEquals(copy.nodes().size(), copied.sum(), "__mt_dup's nodes");

        tree.destroy();
        copy.destroy();

        assertEquals(0, live.sum());
        assertEquals(0, copied.sum());
    }
}
