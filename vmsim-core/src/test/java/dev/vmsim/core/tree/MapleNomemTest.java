package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.tree.MapleNodeCache.Gfp;
import org.junit.jupiter.api.Test;

/** Node-allocation failure in the mtree_* API: check_nomem (OOM-02) and check_nomem_writer_race (OOM-03). */
class MapleNomemTest {
    /**
     * OOM-02 check_nomem: with no allocation that may not sleep left (mt_set_non_kernel(0)), inserting
     * at 1 into an empty tree returns -ENOMEM and leaves it empty; inserting at 0 needs no node and
     * succeeds. A store that fails under the lock leaves the tree as it was, and a later GFP_KERNEL
     * store (mas_nomem) succeeds.
     */
    @Test
    void checkNomem() {
        final MapleTree<String> mt = new MapleTree<>(false);
        mt.nodeCache().setNonKernel(0);
        assertEquals(-MapleTree.ENOMEM, mt.mtreeInsertRange(1, 1, "ms", Gfp.ATOMIC));
        assertTrue(mt.isEmpty(), "nothing half done");
        assertEquals(0, mt.mtreeInsertRange(0, 0, "ms", Gfp.ATOMIC));
        assertEquals("ms", mt.walk(0));
        assertEquals(0, mt.nodeCache().nrTallocated(), "a lone entry at 0 took no node");

        mt.mtreeLock();
        assertEquals(-MapleTree.ENOMEM, mt.storeGfp(1, 1, "ms", Gfp.ATOMIC));
        mt.mtreeUnlock();
        assertNull(mt.walk(1));
        assertEquals(0, mt.mtreeInsertRange(2, 2, "mt", Gfp.KERNEL));
        mt.mtreeLock();
        assertEquals(0, mt.storeGfp(1, 1, "ms", Gfp.KERNEL)); // nodes allocated in mas_nomem
        mt.mtreeUnlock();
        assertEquals("ms", mt.walk(0));
        assertEquals("ms", mt.walk(1));
        assertEquals("mt", mt.walk(2));
        mt.validate();
    }

    /**
     * OOM-03 check_nomem_writer_race: writer A erases [0, 5] (its NULL would spread over the NULL at
     * [6, 10]); its allocation fails, mas_nomem drops the tree lock, and writer B stores 0xC at [6, 10]
     * meanwhile. A retries from a fresh walk, so B's entry is kept. The same with mas_store_gfp.
     */
    @Test
    void checkNomemWriterRace() {
        final MapleTree<Long> mt = new MapleTree<>(false);
        final MapleNodeCache cache = mt.nodeCache();
        cache.setNonKernel(0);
        assertEquals(0, mt.mtreeStoreRange(0, 5, 0xAL, Gfp.KERNEL));
        assertEquals(0, mt.mtreeStoreRange(6, 10, null, Gfp.KERNEL));
        assertEquals(0, mt.mtreeStoreRange(11, 15, 0xBL, Gfp.KERNEL));

        final boolean[] ran = new boolean[1];
        final Runnable writer2 = () -> {
            assertFalse(mt.mtreeLockHeld(), "mas_nomem dropped the tree lock before allocating");
            assertEquals(0, mt.mtreeStoreRange(6, 10, 0xCL, Gfp.KERNEL));
            ran[0] = true;
        };
        cache.setCallback(writer2);
        mt.mtreeLock();
        assertEquals(0xAL, mt.masErase(0));
        assertTrue(mt.mtreeLockHeld(), "mas_nomem took the lock again");
        assertTrue(ran[0], "writer 2 ran while the lock was dropped");
        assertEquals(0xCL, mt.walk(6), "index 6-10 keeps writer 2's value");
        assertNull(mt.walk(0));
        mt.mtreeUnlock();
        mt.validate();

        assertEquals(0, mt.mtreeStoreRange(0, 5, 0xAL, Gfp.KERNEL));
        assertEquals(0, mt.mtreeStoreRange(6, 10, null, Gfp.KERNEL));
        ran[0] = false;
        cache.setCallback(writer2);
        mt.mtreeLock();
        assertEquals(0, mt.storeGfp(0, 5, null, Gfp.KERNEL));
        assertTrue(ran[0]);
        assertEquals(0xCL, mt.walk(6), "mas_store_gfp keeps writer 2's value too");
        assertEquals(0xBL, mt.walk(11));
        mt.mtreeUnlock();
        mt.validate();
    }
}
