package dev.vmsim.core.phys;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class FolioWaitTest {
    @Test
    void trylockFailsWhileHeldAndUnlockOfAFreeLockIsRefused() {
        final FolioWait w = new FolioWait(new MemMap(8));
        assertTrue(w.trylock(3));
        assertFalse(w.trylock(3));
        assertTrue(w.trylock(4), "another folio's lock is separate");
        w.unlock(3);
        assertFalse(w.isLocked(3));
        assertThrows(IllegalStateException.class, () -> w.unlock(3));
    }

    @Test
    void aWaiterSleepsUntilUnlockAndThenOwnsTheLock() throws Exception {
        final FolioWait w = new FolioWait(new MemMap(8));
        w.lock(5);
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch owned = new CountDownLatch(1);
        final Thread t = new Thread(() -> {
            started.countDown();
            w.lock(5);
            owned.countDown();
        });
        t.start();
        started.await();
        assertFalse(owned.await(100, TimeUnit.MILLISECONDS), "must wait while the lock is held");
        w.unlock(5);
        assertTrue(owned.await(10, TimeUnit.SECONDS));
        assertTrue(w.isLocked(5), "the waiter owns it now");
        t.join();
    }

    @Test
    void writebackWaitersWakeAtEndWritebackAndNotAtAnUnlock() throws Exception {
        final MemMap map = new MemMap(8);
        final FolioWait w = new FolioWait(map);
        map.set(2, PageFlags.PG_WRITEBACK);
        w.lock(2);
        final CountDownLatch done = new CountDownLatch(1);
        final Thread t = new Thread(() -> {
            w.waitWriteback(2);
            done.countDown();
        });
        t.start();
        w.unlock(2);
        assertFalse(done.await(100, TimeUnit.MILLISECONDS), "an unlock does not end writeback");
        w.endWriteback(2);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        t.join();
    }

    @Test
    void manyLockersNeverOverlapAndNoneIsLost() throws Exception {
        final FolioWait w = new FolioWait(new MemMap(4));
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        final Thread[] ts = new Thread[4];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = new Thread(() -> {
                for (int n = 0; n < 2000; n++) {
                    w.lock(1);
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    inside.decrementAndGet();
                    w.unlock(1);
                }
            });
            ts[i].start();
        }
        for (final Thread t : ts) {
            t.join();
        }
        assertTrue(overlaps.get() == 0, "overlaps: " + overlaps.get());
        assertFalse(w.isLocked(1));
    }
}
