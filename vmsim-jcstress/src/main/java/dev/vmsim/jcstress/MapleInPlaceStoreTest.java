package dev.vmsim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The broken twin of {@link MapleRcuPublishTest}: the writer changes the published node in place
 * (a new range splits the first: the pivot moves down, then the new slot is filled) instead of
 * copying it. A reader between the two stores sees the new pivot with no entry behind it, a range
 * that is mapped reported as a hole; the forbidden outcome MUST show. Not in the default
 * {@code -Pjcstress} run.
 */
@JCStressTest
@Description("Broken twin: a published maple node written in place; a reader sees it half-changed")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "The new pivot without its entry: a torn node.")
@Outcome(
        id = {"0, 0", "1, 1", "0, 1"},
        expect = ACCEPTABLE,
        desc = "Before or after the store (0, 1 needs reordering" + " of plain reads, allowed for plain accesses).")
@State
public class MapleInPlaceStoreTest {
    final long[] pivot = {0x1fff, 0x2fff};
    final Object[] slot = new Object[2];

    @Actor
    public void writer() {
        pivot[0] = 0x0fff;
        slot[1] = MapleRcuPublishTest.VMA;
    }

    @Actor
    public void reader(final II_Result r) {
        r.r1 = pivot[0] == 0x0fff ? 1 : 0;
        r.r2 = slot[1] == MapleRcuPublishTest.VMA ? 1 : 0;
    }
}
