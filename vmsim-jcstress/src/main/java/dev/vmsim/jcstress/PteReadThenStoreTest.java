package dev.vmsim.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The broken twin of {@link PteCmpxchgTest}: ptep_get_and_clear as a load and a separate release
 * store (what a PTL-holding zap would do if the walker took the PTL, which hardware never does). The
 * walker's A|D compare-and-set lands between them and the dirty bit is lost; the forbidden outcome
 * MUST show. Not in the default {@code -Pjcstress} run.
 */
@JCStressTest
@Description("Broken twin: the zap as load + store; the walker's dirty bit is lost")
@Outcome(id = "1, 0, 0", expect = FORBIDDEN, desc = "A lost dirty bit.")
@Outcome(
        id = {"1, 1, 0", "0, 0, 0"},
        expect = ACCEPTABLE,
        desc = "As in the correct test.")
@State
public class PteReadThenStoreTest {
    private static final VarHandle PTE_VH;

    static {
        try {
            PTE_VH = MethodHandles.lookup().findVarHandle(PteReadThenStoreTest.class, "pte", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long pte = PteCmpxchgTest.PTE;

    @Actor
    public void walker(final III_Result r) {
        final long e = (long) PTE_VH.getAcquire(this);
        r.r1 = e != 0 && PTE_VH.compareAndSet(this, e, e | PteCmpxchgTest.ACCESSED | PteCmpxchgTest.DIRTY) ? 1 : 0;
    }

    @Actor
    public void zap(final III_Result r) {
        final long old = (long) PTE_VH.getAcquire(this);
        PTE_VH.setRelease(this, 0L);
        r.r2 = (old & PteCmpxchgTest.DIRTY) != 0 ? 1 : 0;
    }

    @Arbiter
    public void after(final III_Result r) {
        r.r3 = (long) PTE_VH.getVolatile(this) == 0 ? 0 : 1;
    }
}
