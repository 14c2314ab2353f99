package dev.vmsim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The maple tree's RCU publication (vmsim-core {@code MapleTree}'s {@code volatile root} and {@code
 * MapleWriter}'s path copy), with the same memory modes: the writer builds a replacement node with
 * plain stores (pivot and slot of a new range) and publishes it by one volatile store of the root,
 * as rcu_assign_pointer does; a lock-free reader loads the root (volatile, rcu_dereference) and walks
 * the node with plain loads. The published node is never written again.
 */
@JCStressTest
@Description("rcu_assign_pointer of a copied maple node: a reader that sees the new root sees it fully built")
@Outcome(
        id = {"1, 0, 0", "1, 1, 0", "1, 0, 1"},
        expect = FORBIDDEN,
        desc = "The reader found the new node with its pivot or slot unwritten: a half-built node was published.")
@Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "The new node, fully built.")
@Outcome(id = "0, 1, 0", expect = ACCEPTABLE, desc = "The old root: the old pivot, no entry for the new range.")
@State
public class MapleRcuPublishTest {
    /** A leaf: pivot[0] ends the first range, slot[1] is the entry of the range above it. */
    static final class Node {
        final long[] pivot = new long[2];
        final Object[] slot = new Object[2];
        final boolean copy;

        Node(final boolean copy) {
            this.copy = copy;
        }
    }

    static final Object VMA = new Object();
    static final long PIVOT = 0x1fff;

    volatile Node root;

    public MapleRcuPublishTest() {
        final Node old = new Node(false);
        old.pivot[0] = PIVOT;
        root = old;
    }

    /** mas_store: copy the leaf, write the new range into the copy, publish. */
    @Actor
    public void writer() {
        final Node n = new Node(true);
        n.pivot[0] = PIVOT;
        n.slot[1] = VMA;
        root = n; // release: publishes the fully built replacement
    }

    /** mas_walk under RCU: r1 = the new node, r2 = its pivot written, r3 = its entry present. */
    @Actor
    public void reader(final III_Result r) {
        final Node n = root;
        r.r1 = n.copy ? 1 : 0;
        r.r2 = n.pivot[0] == PIVOT ? 1 : 0;
        r.r3 = n.slot[1] == VMA ? 1 : 0;
    }
}
