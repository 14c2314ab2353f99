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
 * The broken twin of {@link RcuwaitHandshakeTest}: the writer publishes itself with a release store
 * instead of a volatile one (rcuwait_wait_event without the set_current_state barrier). Release
 * orders earlier accesses only; the store can wait in the store buffer while the count is read, so
 * the lost wake-up MUST show, on x86 too. Not in the default {@code -Pjcstress} run.
 */
@JCStressTest
@Description("Broken twin: the waiter slot published with a release store; the lost wake-up must show")
@Outcome(id = "0, 0", expect = FORBIDDEN, desc = "Lost wake-up.")
@Outcome(
        id = {"1, 1", "0, 1", "1, 0"},
        expect = ACCEPTABLE,
        desc = "As in the correct test.")
@State
public class RcuwaitHandshakeReleaseOnlyTest {
    private static final VarHandle REFCNT;
    private static final VarHandle WAITER;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            REFCNT = l.findVarHandle(RcuwaitHandshakeReleaseOnlyTest.class, "refcnt", int.class);
            WAITER = l.findVarHandle(RcuwaitHandshakeReleaseOnlyTest.class, "waiter", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    int refcnt = RcuwaitHandshakeTest.FLAG + 2;
    int waiter;

    @Actor
    public void writer(final II_Result r) {
        WAITER.setRelease(this, 1);
        r.r1 = (int) REFCNT.getAcquire(this) == RcuwaitHandshakeTest.FLAG + 1 ? 1 : 0;
    }

    @Actor
    public void reader(final II_Result r) {
        final int newcnt = (int) REFCNT.getAndAdd(this, -1) - 1;
        r.r2 = newcnt == RcuwaitHandshakeTest.FLAG + 1 && (int) WAITER.getVolatile(this) != 0 ? 1 : 0;
    }
}
