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
 * The software PTE update against the hardware walker's accessed/dirty update (vmsim-core {@code
 * PageTables.getAndClear}, ptep_get_and_clear, against {@code X86Mmu}'s leaf compare-and-set of
 * A|D), with the same memory modes: the zap loads the PTE (acquire) and compare-and-sets it to 0;
 * the walker compare-and-sets {@code e -> e|A|D} and re-walks on failure. A store the walker marked
 * dirty must reach the zap's returned value, or the page is freed without being written back.
 */
@JCStressTest
@Description("ptep_get_and_clear vs the walker's A/D cmpxchg: a dirty bit the walker set is never lost")
@Outcome(
        id = "1, 0, 0",
        expect = FORBIDDEN,
        desc = "The walker set D and completed the store, the zap returned a clean PTE: a lost dirty bit.")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "The walker went first; the zap sees D.")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "The zap went first; the walker's CAS fails and it re-walks.")
@State
public class PteCmpxchgTest {
    static final long PRESENT = 1L;
    static final long ACCESSED = 1L << 5;
    static final long DIRTY = 1L << 6;
    static final long PTE = (0x1234L << 12) | PRESENT;
    static final VarHandle PTE_VH;

    static {
        try {
            PTE_VH = MethodHandles.lookup().findVarHandle(PteCmpxchgTest.class, "pte", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long pte = PTE;

    /** The x86 walker's leaf update for a write access. r1 = 1: it set A|D and the store completes. */
    @Actor
    public void walker(final III_Result r) {
        final long e = (long) PTE_VH.getAcquire(this);
        r.r1 = e != 0 && PTE_VH.compareAndSet(this, e, e | ACCESSED | DIRTY) ? 1 : 0;
    }

    /** ptep_get_and_clear. r2 = 1: the old PTE it returns is dirty (the page is written back). */
    @Actor
    public void zap(final III_Result r) {
        for (; ; ) {
            final long old = (long) PTE_VH.getAcquire(this);
            if (old == 0 || PTE_VH.compareAndSet(this, old, 0L)) {
                r.r2 = (old & DIRTY) != 0 ? 1 : 0;
                return;
            }
        }
    }

    /** r3: the entry left behind (must be none). */
    @Arbiter
    public void after(final III_Result r) {
        r.r3 = (long) PTE_VH.getVolatile(this) == 0 ? 0 : 1;
    }
}
