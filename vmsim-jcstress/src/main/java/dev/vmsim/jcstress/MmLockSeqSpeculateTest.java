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
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * mm_lock_seq's write-section begin against a speculative reader, with the memory modes of
 * vmsim-core's {@code MmapLock}: the writer does mm_lock_seqcount_begin (do_raw_write_seqcount_begin:
 * an opaque {@code seq++}, then smp_wmb as a store-store fence) and then a store of the section
 * (a VMA field); the reader does mmap_lock_speculate_try_begin (acquire load, even), reads the
 * field, and mmap_lock_speculate_retry (smp_rmb as an acquire fence, then the seq again). A reader
 * that saw the section's store must see the seq move. With a release store for the begin (the bug
 * fix 7 of issue [1/6] removed) the field's store may pass the odd seq on a weakly ordered host;
 * x86 (TSO) never shows it, which is why MmLockSeqBeginOrderTest in vmsim-core checks the order of
 * the operations as compiled.
 */
@JCStressTest
@Description("mm_lock_seq seq++ then smp_wmb: a speculative reader that saw a store of the section retries")
@Outcome(
        id = "1, 1, 0",
        expect = FORBIDDEN,
        desc = "The speculation began on the even seq, saw the section's store, and the retry check passed:"
                + " the store passed the odd seq.")
@Outcome(
        id = {"1, 0, 0", "1, 0, 1", "1, 1, 1"},
        expect = ACCEPTABLE,
        desc = "Before the section, or the retry check caught it.")
@Outcome(id = "0, -1, -1", expect = ACCEPTABLE, desc = "The seq was already odd: no speculation.")
@State
public class MmLockSeqSpeculateTest {
    private static final VarHandle MM_LOCK_SEQ;
    private static final VarHandle FIELD;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            MM_LOCK_SEQ = l.findVarHandle(MmLockSeqSpeculateTest.class, "mmLockSeq", int.class);
            FIELD = l.findVarHandle(MmLockSeqSpeculateTest.class, "field", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    int mmLockSeq;
    int field;

    @Actor
    public void writer() {
        MM_LOCK_SEQ.setOpaque(this, (int) MM_LOCK_SEQ.get(this) + 1);
        VarHandle.storeStoreFence(); // smp_wmb
        FIELD.setOpaque(this, 1); // WRITE_ONCE of a field inside the section
    }

    @Actor
    public void reader(final III_Result r) {
        final int seq = (int) MM_LOCK_SEQ.getAcquire(this);
        if ((seq & 1) != 0) {
            r.r1 = 0;
            r.r2 = -1;
            r.r3 = -1;
            return;
        }
        r.r1 = 1;
        r.r2 = (int) FIELD.getOpaque(this);
        VarHandle.acquireFence(); // smp_rmb
        r.r3 = (int) MM_LOCK_SEQ.getOpaque(this) != seq ? 1 : 0;
    }
}
