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
 * The TLB shootdown handshake (vmsim-core {@code Cpu.accessEnter} and {@code TlbFlush}), with the
 * same memory modes: the accessor stores its odd access sequence, fences, and loads the TLB tag
 * (opaque, as {@code X86Tlb.lookup}); the flusher compare-and-sets the tag to INVALID and reads the
 * sequence (volatile). It is a Dekker pattern: at least one side must see the other's store.
 */
@JCStressTest
@Description("Access bracket vs TLB shootdown: the access may use the old entry only if the flusher sees it in flight")
@Outcome(
        id = "1, 0",
        expect = FORBIDDEN,
        desc = "The access hit the stale entry and the flusher saw no access in flight: munmap returns while the"
                + " access completes through the old translation.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Stale hit, but the flusher sees the bracket and waits for it.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The access misses (walks, faults); the flusher waits needlessly.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The flush came first; the access misses.")
@State
public class TlbShootdownBracketTest {
    static final long VALID = 1L << 63;
    static final long INVALID = 0;
    static final VarHandle SEQ;
    static final VarHandle TAG;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            SEQ = l.findVarHandle(TlbShootdownBracketTest.class, "seq", long.class);
            TAG = l.findVarHandle(TlbShootdownBracketTest.class, "tag", long.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long seq;
    long tag = VALID;

    /** Cpu.accessEnter, then the tag probe of X86Tlb.lookup. r1 = 1: the access used the cached entry. */
    @Actor
    public void access(final II_Result r) {
        SEQ.setOpaque(this, 1L);
        VarHandle.fullFence();
        r.r1 = (long) TAG.getOpaque(this) == VALID ? 1 : 0;
    }

    /** X86Tlb.invlpg's compare-and-set, then Cpu.waitForAccessToDrain's read. r2 = 1: it waits for the access. */
    @Actor
    public void flush(final II_Result r) {
        TAG.compareAndSet(this, VALID, INVALID);
        r.r2 = ((long) SEQ.getVolatile(this) & 1) != 0 ? 1 : 0;
    }
}
