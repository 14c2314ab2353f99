package dev.vmsim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The broken twin of {@link TlbShootdownBracketTest}: the bracket store without the fence. Store-load
 * reordering is visible on x86 too (the store waits in the store buffer while the load completes),
 * so this test MUST fail with the forbidden outcome on any host; it shows that the pattern test can
 * see the reordering the fence prevents. Not in the default {@code -Pjcstress} run; run it with
 * {@code -Djcstress.tests=TlbShootdownBracketWithoutFenceTest} and expect the build to fail.
 */
@JCStressTest
@Description("Broken twin: the access bracket without its fence; the forbidden outcome must show")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "Store-load reordering: a stale access the flusher does not wait for.")
@Outcome(
        id = {"1, 1", "0, 1", "0, 0"},
        expect = ACCEPTABLE,
        desc = "As in the fenced test.")
@State
public class TlbShootdownBracketWithoutFenceTest {
    private static final VarHandle SEQ;
    private static final VarHandle TAG;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            SEQ = l.findVarHandle(TlbShootdownBracketWithoutFenceTest.class, "seq", long.class);
            TAG = l.findVarHandle(TlbShootdownBracketWithoutFenceTest.class, "tag", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long seq;
    long tag = TlbShootdownBracketTest.VALID;

    /** As TlbShootdownBracketTest.access, without VarHandle.fullFence(). */
    @Actor
    public void access(final II_Result r) {
        SEQ.setOpaque(this, 1L);
        r.r1 = (long) TAG.getOpaque(this) == TlbShootdownBracketTest.VALID ? 1 : 0;
    }

    @Actor
    public void flush(final II_Result r) {
        TAG.compareAndSet(this, TlbShootdownBracketTest.VALID, TlbShootdownBracketTest.INVALID);
        r.r2 = ((long) SEQ.getVolatile(this) & 1) != 0 ? 1 : 0;
    }
}
