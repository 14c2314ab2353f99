/**
 * The maple tree (lib/maple_tree.c, include/linux/maple_tree.h): the range tree that holds an mm's
 * VMAs.
 *
 * <ul>
 *   <li>{@link dev.vmsim.core.tree.MapleTree} — the tree and its lockless (RCU-mode) lookups;
 *   <li>{@link dev.vmsim.core.tree.MaState} — the cursor (struct ma_state): walk, find, find_rev and the
 *       gap searches mas_empty_area / mas_empty_area_rev;
 *   <li>{@code MapleNode} — an immutable leaf_64 / range_64 / arange_64 node; {@code MapleWriter} —
 *       mas_store with split, push and rebalance, copy-on-write of the whole changed path;
 *       {@code MapleGapSearch} — gap-pruned searches; {@code MapleValidator} — mt_validate.
 * </ul>
 *
 * <p><b>Memory ordering.</b> The only shared mutable word is {@code MapleTree.root} (volatile). A writer
 * builds every replacement node completely, then stores the root (release); readers load it once
 * (acquire; pairs with that release) and only ever see immutable nodes reachable from it. Old nodes are
 * left to the garbage collector, which stands in for the RCU grace period before kfree_rcu.
 *
 * <p><b>Occupancy rule (validate()).</b> Leaves and range_64 nodes hold 6..16 slots, arange_64 nodes
 * 4..10; the root is exempt from the minimum (an internal root has at least 2 children). Unlike the
 * kernel we also hold the rightmost node of each level to the minimum.
 */
package dev.vmsim.core.tree;
