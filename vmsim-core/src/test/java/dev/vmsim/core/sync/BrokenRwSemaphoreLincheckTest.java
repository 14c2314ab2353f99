package dev.vmsim.core.sync;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.vmsim.core.testing.LincheckRuns;
import org.jetbrains.lincheck.LincheckAssertionError;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * The broken twin of {@link RwSemaphoreLincheckTest}: its reader ignores a failed read trylock and
 * reads anyway (the bug class "reader proceeds without the lock"). Lincheck must find the torn read.
 */
public class BrokenRwSemaphoreLincheckTest {
    private final RwSemaphore sem = new RwSemaphore();
    private int x;
    private int y;

    @Operation
    public int read() {
        final boolean locked = sem.downReadTrylock(); // BROKEN: goes on without the lock
        final int a = x;
        final int b = y;
        if (locked) {
            sem.upRead();
        }
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

    @Test
    public void modelCheckingFindsTheTornRead() {
        assertThrows(
                LincheckAssertionError.class,
                () -> LincheckRuns.modelCheck(
                        BrokenRwSemaphoreLincheckTest.class, null, LincheckRuns.budget(10, 200), 2, 2));
    }
}
