package dev.vmsim.core.sync;

import dev.vmsim.core.testing.LincheckRuns;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking of the rw_semaphore: readers, writers, a downgrader and an upgrader run critical
 * sections over a two-word value that a writer updates in two steps. A torn read (x != y) under a
 * read hold, a lost update, or a count word left non-zero is a failure.
 */
public class RwSemaphoreLincheckTest {
    private final RwSemaphore sem = new RwSemaphore();
    private int x;
    private int y;

    public RwSemaphoreLincheckTest() {
        sem.setOptimisticSpinTries(0);
    }

    @Operation
    public int read() {
        sem.downRead();
        final int a = x;
        final int b = y;
        sem.upRead();
        return a == b ? a : -1;
    }

    @Operation
    public int write() {
        sem.downWrite();
        x++;
        final int r = x;
        y = r;
        sem.upWrite();
        return r;
    }

    /** downgrade_write: the update is visible and the hold continues as a read hold. */
    @Operation
    public int writeThenDowngrade() {
        sem.downWrite();
        x++;
        y = x;
        sem.downgradeWrite();
        final int a = x;
        final int b = y;
        sem.upRead();
        return a == b ? a : -1;
    }

    /** upgradeTrylock, falling back to drop-and-relock as lock_mm_and_find_vma does. */
    @Operation
    public int readThenUpgrade() {
        sem.downRead();
        if (!sem.upgradeTrylock()) {
            sem.upRead();
            sem.downWrite();
        }
        x++;
        final int r = x;
        y = r;
        sem.upWrite();
        return r;
    }

    @Validate
    public void unlocked() {
        if (sem.count() != 0 || sem.waiterCount() != 0) {
            throw new IllegalStateException("count " + Long.toHexString(sem.count()));
        }
    }

    @Test
    public void modelChecking() {
        LincheckRuns.modelCheck(RwSemaphoreLincheckTest.class, null, LincheckRuns.budget(4, 60), 3, 2);
    }
}
