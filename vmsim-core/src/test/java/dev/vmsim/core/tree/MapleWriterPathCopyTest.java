package dev.vmsim.core.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The RCU copy-on-write contract of the leaf-local store fast path: a store that fits its leaf replaces
 * exactly the nodes on the root-to-leaf path (each one new), shares every other node with the old tree,
 * and leaves the old version intact for readers still walking it.
 */
class MapleWriterPathCopyTest {
    private static final long STEP = 0x10;

    /** Entries [i*STEP, i*STEP + 7] with a gap after each: a tree of height >= 3. */
    private static MapleTree<String> filled(final int n) {
        final MapleTree<String> mt = new MapleTree<>(true);
        for (int i = 0; i < n; i++) {
            mt.store(i * STEP, i * STEP + 7, "v" + i);
        }
        mt.validate();
        return mt;
    }

    private static Set<MapleNode> nodes(final MapleNode root) {
        final Set<MapleNode> out = Collections.newSetFromMap(new IdentityHashMap<>());
        collect(root, out);
        return out;
    }

    private static void collect(final MapleNode n, final Set<MapleNode> out) {
        out.add(n);
        if (!n.leaf) {
            for (final Object c : n.slots) {
                collect((MapleNode) c, out);
            }
        }
    }

    private static MapleNode leafOf(final MapleNode root, final long index) {
        MapleNode n = root;
        while (!n.leaf) {
            n = (MapleNode) n.slots[n.slotOf(index)];
        }
        return n;
    }

    /** Asserts that exactly the path to {@code index} is new and everything else is shared. */
    private static void assertOnlyPathCopied(final MapleNode oldRoot, final MapleNode newRoot, final long index) {
        final Set<MapleNode> old = nodes(oldRoot);
        final Set<MapleNode> now = nodes(newRoot);
        int fresh = 0;
        for (final MapleNode n : now) {
            if (!old.contains(n)) {
                fresh++;
            }
        }
        int height = 0;
        for (MapleNode n = newRoot; n != null; n = n.leaf ? null : (MapleNode) n.slots[n.slotOf(index)]) {
            assertFalse(old.contains(n), "a node on the changed path was reused");
            height++;
        }
        assertEquals(height, fresh, "nodes off the changed path were rebuilt (spanning/rebuild path taken)");
        assertEquals(old.size(), now.size(), "store that fits its leaf changed the node count");
    }

    @Test
    void slotStoreCopiesOnlyThePathAndKeepsTheLeafPivots() {
        final MapleTree<String> mt = filled(2000);
        assertTrue(mt.height() >= 3);
        final MapleNode oldRoot = mt.root();
        final long at = 1000 * STEP;
        final MapleNode oldLeaf = leafOf(oldRoot, at);

        mt.store(at, at + 7, "new"); // same range, new value: mas_wr_slot_store

        final MapleNode newRoot = mt.root();
        assertNotSame(oldRoot, newRoot);
        assertOnlyPathCopied(oldRoot, newRoot, at);
        final MapleNode newLeaf = leafOf(newRoot, at);
        assertEquals(oldLeaf.pivotCount(), newLeaf.pivotCount());
        for (int i = 0; i < 15; i++) {
            assertEquals(oldLeaf.pivot(i), newLeaf.pivot(i), "pivot " + i);
        }
        assertEquals("new", mt.walk(at + 3));
        assertEquals("v1000", MapleTree.load(oldRoot, at + 3), "the old version changed under its readers");
        mt.validate();
        new MapleValidator(true).validate(oldRoot);
    }

    @Test
    void storeIntoAGapCopiesOnlyThePath() {
        final MapleTree<String> mt = filled(2000);
        final int entry = interiorEntry(mt.root(), 700);
        final long at = entry * STEP;
        mt.erase(at); // sequential stores leave full leaves: make room for two more slots
        final MapleNode oldRoot = mt.root();

        mt.store(at + 2, at + 4, "gap"); // splits the NULL run [at - 8, at + 15] in three

        assertOnlyPathCopied(oldRoot, mt.root(), at + 2);
        assertEquals("gap", mt.walk(at + 3));
        assertEquals(null, MapleTree.load(oldRoot, at + 3));
        mt.validate();
    }

    /** The first entry from {@code from} whose NULL neighbours lie in its leaf, which can lose two slots. */
    private static int interiorEntry(final MapleNode root, final int from) {
        for (int i = from; i < 1999; i++) {
            final MapleNode leaf = leafOf(root, i * STEP);
            final int slot = leaf.slotOf(i * STEP);
            if (slot > 0 && slot < leaf.slotCount() - 1 && leaf.slotCount() - 2 >= MapleNode.RANGE64_MIN) {
                return i;
            }
        }
        throw new AssertionError("no suitable entry: the tree shape changed, adjust the test");
    }

    @Test
    void eraseInsideALeafCopiesOnlyThePathAndCoalescesNulls() {
        final MapleTree<String> mt = filled(2000);
        final MapleNode oldRoot = mt.root();
        final int entry = interiorEntry(oldRoot, 1500);
        final long at = entry * STEP;

        assertEquals("v" + entry, mt.erase(at + 1));

        assertOnlyPathCopied(oldRoot, mt.root(), at);
        final MaState<String> mas = new MaState<>(mt, at, at);
        assertEquals(null, mas.walk());
        assertEquals(at - STEP + 8, mas.index);
        assertEquals(at + STEP - 1, mas.last);
        assertEquals("v" + entry, MapleTree.load(oldRoot, at + 1));
        mt.validate();
    }
}
