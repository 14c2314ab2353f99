package dev.vmsim.core.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.Machine;
import dev.vmsim.core.arch.SigInfo;
import dev.vmsim.core.cpu.Cpu;
import dev.vmsim.core.lock.LockingMode;
import dev.vmsim.core.testing.TestArch;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** MADV_DONTNEED's lock mode (get_lock_mode: MADVISE_VMA_READ_LOCK, try_vma_read_lock's fallback). */
class MadviseLockTest {
    private static final long P = 4096;
    private static final int RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private static final int ANON = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    private final Machine machine = TestArch.machine(4096);
    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    private long mappedAndTouched(final MmStruct mm, final int pages) {
        final long a = mm.mmap(0, pages * P, RW, ANON);
        assertFalse(Errno.isError(a));
        final Cpu cpu = machine.newCpu();
        cpu.switchMm(mm);
        for (int i = 0; i < pages; i++) {
            assertEquals(SigInfo.OK, cpu.store(a + i * P, (byte) 1));
        }
        return a;
    }

    /** Runs madvise on another thread while this one write-holds the mmap lock; returns its future. */
    private Future<Integer> madviseUnderWriteLock(final MmStruct mm, final long a, final long len) throws Exception {
        mm.mmapLock().writeLock();
        final CountDownLatch started = new CountDownLatch(1);
        final Future<Integer> f = pool.submit(() -> {
            started.countDown();
            return mm.madvise(a, len, Mman.MADV_DONTNEED);
        });
        assertTrue(started.await(10, TimeUnit.SECONDS));
        return f;
    }

    @Test
    void dontneedInsideOneVmaZapsUnderTheVmaLockAloneWhileTheMmapLockIsWriteHeld() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mappedAndTouched(mm, 4);
        assertEquals(4, mm.anonRss());
        final Future<Integer> f = madviseUnderWriteLock(mm, a, 4 * P);
        try {
            // The writer has not write-locked the VMA, so lock_vma_under_rcu succeeds: no mmap lock needed.
            assertEquals(0, f.get(10, TimeUnit.SECONDS));
        } finally {
            mm.mmapLock().writeUnlock();
        }
        assertEquals(0, mm.anonRss());
    }

    @Test
    void dontneedAcrossTwoVmasFallsBackToTheMmapReadLock() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.PER_VMA);
        final long a = mappedAndTouched(mm, 2);
        assertEquals(0, mm.mprotect(a + P, P, Mman.PROT_READ)); // two VMAs
        final Future<Integer> f = madviseUnderWriteLock(mm, a, 2 * P);
        // Blocked on the mmap read lock until the writer leaves; then it zaps both VMAs.
        assertBlockedOnTheMmapLock(mm, f, 2);
        mm.mmapLock().writeUnlock();
        assertEquals(0, f.get(10, TimeUnit.SECONDS));
        assertEquals(0, mm.anonRss());
    }

    @Test
    void withoutPerVmaLocksDontneedTakesTheMmapReadLock() throws Exception {
        final MmStruct mm = new MmStruct(machine, LockingMode.MMAP_ONLY);
        final long a = mappedAndTouched(mm, 2);
        final Future<Integer> f = madviseUnderWriteLock(mm, a, 2 * P);
        assertBlockedOnTheMmapLock(mm, f, 2);
        mm.mmapLock().writeUnlock();
        assertEquals(0, f.get(10, TimeUnit.SECONDS));
        assertEquals(0, mm.anonRss());
    }

    /**
     * The madvise task is queued on the mmap lock (the writer's rwsem has exactly one waiter), has
     * not returned, and has zapped nothing.
     */
    private static void assertBlockedOnTheMmapLock(final MmStruct mm, final Future<Integer> f, final long rss) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (mm.mmapLock().rwsem().waiterCount() != 1) {
            if (System.nanoTime() > deadline || f.isDone()) {
                throw new AssertionError("madvise never queued on the mmap lock (done: " + f.isDone() + ")");
            }
            Thread.onSpinWait();
        }
        assertFalse(f.isDone(), "queued behind the writer, so not returned");
        assertEquals(rss, mm.anonRss(), "nothing zapped while the writer holds the lock");
    }
}
