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
 * The broken twin of {@link VmaStartReadTest}: __vma_start_write stores vm_lock_seq without adding
 * VM_REFCNT_EXCLUDE_READERS_FLAG and waiting for the readers already in. A reader that passed its
 * checks just before the store reads the fields while the writer changes them; the forbidden outcome
 * MUST show. (On x86 the hardware reorders only a store with a later load, so a twin that merely
 * weakens the acquire/release pair of mm_lock_seq would pass there; the twin breaks the step the
 * ordering protects instead.) Not in the default {@code -Pjcstress} run; {@code -Pjcstress-twins}
 * runs each twin and fails unless each shows its forbidden outcome.
 */
@JCStressTest
@Description("Broken twin: vma_start_write without excluding readers; the forbidden outcome must show")
@Outcome(
        id = {"1, 0, 1", "1, 1, 0"},
        expect = FORBIDDEN,
        desc = "A read lock inside the writer's section.")
@Outcome(
        id = {"1, 0, 0", "1, 1, 1", "0, -1, -1"},
        expect = ACCEPTABLE,
        desc = "As in the correct test.")
@State
public class VmaStartWriteWithoutExclusionTest extends VmaLockWords {
    @Actor
    public void writer() {
        writeSection(false);
    }

    @Actor
    public void reader(final III_Result r) {
        readSection(r);
    }
}
