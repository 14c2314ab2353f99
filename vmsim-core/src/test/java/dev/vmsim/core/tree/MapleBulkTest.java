package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Bulk mode (mas_expected_entries / mas_destroy), ported from check_bulk_rebalance (TREE-20). */
class MapleBulkTest {
    /** A height-2 tree of 120 ranges [10i, 10i+5] (build_full_tree(mt, 0, 2)'s shape, near full). */
    private static MapleTree<Long> heightTwo() {
        final MapleTree<Long> mt = new MapleTree<>(false);
        for (long i = 0; i < 120; i++) {
            mt.store(i * 10, i * 10 + 5, i);
        }
        assertEquals(2, mt.height());
        mt.validate();
        return mt;
    }

    /** Erases every entry from the last to the first (the mas_prev loop); returns how many stores rebalanced. */
    private static int eraseAllFromTheRight(final MapleTree<Long> mt) {
        int rebalances = 0;
        for (long i = 119; i >= 0; i--) {
            assertEquals(i, mt.erase(i * 10));
            if (mt.lastStoreRebalanced()) {
                rebalances++;
            }
        }
        return rebalances;
    }

    /**
     * TREE-20 check_bulk_rebalance: erasing every entry of a height-2 tree in expected-entries mode
     * never chooses a rebalance store; mas_destroy then leaves a valid (here empty) tree. Without bulk
     * mode the same erases do rebalance, so the check can tell the modes apart.
     */
    @Test
    void checkBulkRebalance() {
        final MapleTree<Long> normal = heightTwo();
        assertTrue(eraseAllFromTheRight(normal) > 0, "erasing from the right rebalances outside bulk mode");
        assertTrue(normal.isEmpty());

        final MapleTree<Long> mt = heightTwo();
        mt.expectedEntries(10);
        assertEquals(0, eraseAllFromTheRight(mt), "no wr_rebalance store in bulk mode");
        mt.bulkDestroy();
        mt.validate();
        assertTrue(mt.isEmpty());
        assertNull(mt.walk(0));
    }

    /**
     * Bulk mode leaves short nodes behind (mt_validate fails in between, as in the kernel), and
     * mas_destroy's rebalance makes the tree valid again with every entry kept.
     */
    @Test
    void bulkDestroyRebalancesWhatBulkStoresLeftShort() {
        final MapleTree<Long> mt = heightTwo();
        mt.expectedEntries(100);
        boolean shortNode = false;
        for (long i = 40; i < 120; i++) {
            if (i % 10 != 0) {
                mt.erase(i * 10); // all but every tenth entry of the right two thirds
                assertFalse(mt.lastStoreRebalanced());
                try {
                    mt.validate();
                } catch (final IllegalStateException e) {
                    shortNode = true;
                }
            }
        }
        assertTrue(shortNode, "some bulk erase left a node under its minimum");
        mt.bulkDestroy();
        mt.validate();
        assertEquals(48, mt.size());
        for (long i = 0; i < 120; i++) {
            if (i >= 40 && i % 10 != 0) {
                assertNull(mt.walk(i * 10 + 3));
            } else {
                assertEquals(i, mt.walk(i * 10 + 3));
            }
        }
        mt.store(1000, 1005, 100L); // out of bulk mode, stores rebalance again
        mt.validate();
    }
}
