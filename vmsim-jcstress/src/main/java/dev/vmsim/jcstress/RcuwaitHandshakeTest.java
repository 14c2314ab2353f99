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
 * The rcuwait handshake between a VMA writer and the last reader (vmsim-core {@code
 * VmaLock.rcuwaitWaitEvent} against {@code VmaLock.refcountPut}), with the same memory modes. The
 * writer has added VM_REFCNT_EXCLUDE_READERS_FLAG and one reader is still in: it publishes itself in
 * mm->vma_writer_wait (volatile store) and reads vm_refcnt (volatile) before it parks. The reader
 * decrements vm_refcnt (atomic) and reads the slot (volatile) to decide whether to wake it. A Dekker
 * pattern: at least one side must see the other, or the writer sleeps with nobody to wake it.
 */
@JCStressTest
@Description("rcuwait_wait_event vs vma_refcount_put: the writer sees the reader gone or the reader wakes it")
@Outcome(
        id = "0, 0",
        expect = FORBIDDEN,
        desc = "Lost wake-up: the writer saw the reader still in and parks; the reader saw no waiter and woke nobody.")
@Outcome(
        id = "1, 1",
        expect = ACCEPTABLE,
        desc = "The writer sees the count at target; the reader's wake-up is spurious.")
@Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "The writer would park; the reader wakes it.")
@Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "The reader left first; the writer does not park.")
@State
public class RcuwaitHandshakeTest {
    static final int FLAG = 0x4000_0000;
    static final VarHandle REFCNT;
    static final VarHandle WAITER;

    static {
        try {
            final MethodHandles.Lookup l = MethodHandles.lookup();
            REFCNT = l.findVarHandle(RcuwaitHandshakeTest.class, "refcnt", int.class);
            WAITER = l.findVarHandle(RcuwaitHandshakeTest.class, "waiter", int.class);
        } catch (final ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Attached, FLAG added by the writer, one reader in. */
    int refcnt = FLAG + 2;
    /** mm->vma_writer_wait: 0 empty, 1 the writer's task. */
    int waiter;

    /** rcuwait_wait_event: publish, then test the condition. r1 = 1: the condition holds, no park. */
    @Actor
    public void writer(final II_Result r) {
        WAITER.setVolatile(this, 1);
        r.r1 = (int) REFCNT.getVolatile(this) == FLAG + 1 ? 1 : 0;
    }

    /** vma_refcount_put: decrement, then rcuwait_wake_up. r2 = 1: it saw the waiter and wakes it. */
    @Actor
    public void reader(final II_Result r) {
        final int newcnt = (int) REFCNT.getAndAdd(this, -1) - 1;
        r.r2 = newcnt == FLAG + 1 && (int) WAITER.getVolatile(this) != 0 ? 1 : 0;
    }
}
