package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.inject.FailInject;
import dev.vmsim.core.inject.FailSite;
import dev.vmsim.core.tree.MapleNodeCache.Gfp;
import org.junit.jupiter.api.Test;

/** __mt_dup, ported from check_mtree_dup of tools/testing/radix-tree/maple.c (TREE-16, OOM-05). */
class MapleDupTest {
    /** A tree of {@code n} ranges [10i, 10i+5]. */
    private static MapleTree<Long> tree(final boolean allocRange, final int n) {
        final MapleTree<Long> mt = new MapleTree<>(allocRange);
        for (long i = 0; i < n; i++) {
            mt.store(i * 10, i * 10 + 5, i);
        }
        return mt;
    }

    /** Node-by-node equality of shape and content, with no node shared between the two trees. */
    private static void assertSameShapeNewNodes(final MapleTree<Long> src, final MapleTree<Long> dst) {
        assertEquals(src.nodes(), dst.nodes(), "types, ranges, pivots, gaps and entries node by node");
        assertDistinct(src.root(), dst.root());
        dst.validate();
    }

    private static void assertDistinct(final MapleNode a, final MapleNode b) {
        if (a == null) {
            return;
        }
        assertNotSame(a, b, "dup shares a node with its source");
        if (!a.leaf) {
            for (int i = 0; i < a.slots.length; i++) {
                assertDistinct((MapleNode) a.slots[i], (MapleNode) b.slots[i]);
            }
        }
    }

    /**
     * TREE-16 check_mtree_dup: an empty tree, a 1-entry tree, trees of height 1, 2 and 3, and trees of
     * 0..1000 ranges (every third count) duplicate node for node into new nodes; a copy is a tree of
     * its own (a store into it leaves the source as it was).
     */
    @Test
    void checkMtreeDup() {
        for (final boolean alloc : new boolean[] {false, true}) {
            final int[] sizes = {0, 1, 7, 60, 600};
            for (final int n : sizes) {
                final MapleTree<Long> src = tree(alloc, n);
                final MapleTree<Long> dst = new MapleTree<>(alloc);
                assertEquals(0, src.dup(dst, Gfp.KERNEL), n + " entries");
                assertSameShapeNewNodes(src, dst);
                assertEquals(Math.min(n, 600), dst.size());
            }
            assertEquals(1, tree(alloc, 7).height());
            assertEquals(2, tree(alloc, 60).height());
            assertEquals(3, tree(alloc, 600).height());
        }
        for (int n = 0; n < 1000; n += 3) {
            final MapleTree<Long> src = tree(true, n);
            final MapleTree<Long> dst = new MapleTree<>(true);
            assertEquals(0, src.dup(dst, Gfp.KERNEL));
            assertSameShapeNewNodes(src, dst);
        }
        final MapleTree<Long> src = tree(true, 100);
        final MapleTree<Long> dst = new MapleTree<>(true);
        assertEquals(0, src.dup(dst, Gfp.KERNEL));
        dst.store(0, 1000, -1L);
        assertEquals(0L, src.walk(0));
        assertEquals(50L, src.walk(500));
        src.validate();
    }

    /** TREE-16: a destination that is not empty, or that has other flags, gives -EINVAL and is left alone. */
    @Test
    void dupIntoANonEmptyTreeOrOneWithOtherFlagsIsInvalid() {
        final MapleTree<Long> src = tree(true, 50);
        final MapleTree<Long> full = tree(true, 3);
        assertEquals(-MapleTree.EINVAL, src.dup(full, Gfp.KERNEL));
        assertEquals(3, full.size());
        final MapleTree<Long> otherFlags = new MapleTree<>(false);
        assertEquals(-MapleTree.EINVAL, src.dup(otherFlags, Gfp.KERNEL));
        assertTrue(otherFlags.isEmpty());
    }

    /**
     * OOM-05 check_mtree_dup's failure loop: for every third tree size up to 1000 a seeded LCG picks how
     * many nodes the duplication may allocate (mt_set_non_kernel(rand)); a failure returns -ENOMEM,
     * leaves the destination empty and gives back every node it took (nr_allocated unchanged); at
     * least one duplication fails.
     */
    @Test
    void dupWithAllocationFailingAtARandomNode() {
        long seed = 0x5eed;
        int failures = 0;
        for (int n = 0; n < 1000; n += 3) {
            final MapleTree<Long> src = tree(true, n);
            final MapleTree<Long> dst = new MapleTree<>(true);
            final MapleNodeCache cache = dst.nodeCache();
            seed = seed * 6364136223846793005L + 1442695040888963407L; // Knuth's MMIX LCG
            final int budget = (int) ((seed >>> 33) % 64);
            cache.setNonKernel(budget);
            final long before = cache.nrAllocated();
            final int rc = src.dup(dst, Gfp.ATOMIC);
            cache.setNonKernel(-1);
            if (rc != 0) {
                assertEquals(-MapleTree.ENOMEM, rc);
                assertTrue(dst.isEmpty(), "a failed dup leaves the destination empty");
                assertEquals(before, cache.nrAllocated(), "a failed dup gives back every node it took");
                failures++;
            } else {
                assertSameShapeNewNodes(src, dst);
                assertEquals(before + src.nodes().size(), cache.nrAllocated());
            }
            src.validate();
            assertEquals(n, src.size());
        }
        assertTrue(failures > 0, "the failure path was reached");
    }

    /**
     * OOM-05 as a sweep through the machine's fault injection (FailSite.MAPLE_NODE): failing each node
     * of a height-3 duplication in turn gives -ENOMEM with nothing left behind; with no failure it succeeds.
     */
    @Test
    void dupFailsCleanlyAtEveryNode() {
        final MapleTree<Long> src = tree(true, 600);
        final int nodes = src.nodes().size();
        final FailInject inject = new FailInject();
        for (int k = 0; k < nodes; k++) {
            final MapleTree<Long> dst = new MapleTree<>(true);
            dst.nodeCache().setFailInject(inject);
            inject.failNth(FailSite.MAPLE_NODE, k);
            assertEquals(-MapleTree.ENOMEM, src.dup(dst, Gfp.KERNEL), "node " + k);
            assertEquals(k + 1, inject.calls(FailSite.MAPLE_NODE));
            assertTrue(dst.isEmpty());
            assertEquals(0, dst.nodeCache().nrAllocated(), "node " + k);
        }
        final MapleTree<Long> dst = new MapleTree<>(true);
        dst.nodeCache().setFailInject(inject);
        inject.count(FailSite.MAPLE_NODE);
        assertEquals(0, src.dup(dst, Gfp.KERNEL));
        assertEquals(nodes, inject.calls(FailSite.MAPLE_NODE), "one allocation per node");
        assertSameShapeNewNodes(src, dst);
    }
}
