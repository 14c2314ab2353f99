package dev.vmsim.core.sync;

import dev.vmsim.core.testing.LincheckRuns;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking of the rw_semaphore's owner-word flags from a reader-owned start: a writer taking
 * the lock (rwsem_set_owner), a spinner giving up on the readers (rwsem_set_nonspinnable) and the
 * last reader leaving (clear_nonspinnable) race. Each flag update is atomic in the kernel
 * (try_cmpxchg, atomic_long_andnot), so every outcome is one of a sequential order: a writer-owned
 * lock never reads as reader-owned or non-spinnable afterwards.
 */
public class RwsemOwnerWordLincheckTest {
    private final RwSemaphore sem = new RwSemaphore();

    public RwsemOwnerWordLincheckTest() {
        sem.setReaderOwned(Thread.currentThread());
    }

    @Operation
    public void writerTakesTheLock() {
        sem.setOwner();
    }

    @Operation
    public void spinnerGivesUpOnTheReaders() {
        sem.setNonspinnable();
    }

    @Operation
    public void lastReaderLeaves() {
        sem.clearNonspinnable();
    }

    /** The owner flags, read in one load: RWSEM_READER_OWNED | RWSEM_NONSPINNABLE. */
    @Operation
    public int flags() {
        return sem.ownerFlags();
    }

    @Test
    public void modelChecking() {
        LincheckRuns.modelCheck(RwsemOwnerWordLincheckTest.class, 10, 50, 2, 3);
    }
}
