package dev.vmsim.core.lock;

import static dev.vmsim.core.lock.VmaFixture.attached;
import static dev.vmsim.core.lock.VmaFixture.tryRead;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vmsim.core.lock.Schedule.Actor;
import dev.vmsim.core.mm.MmStruct;
import dev.vmsim.core.mm.Vma;
import dev.vmsim.core.sync.Lockdep;
import dev.vmsim.core.sync.Rcu;
import dev.vmsim.core.sync.RwSemaphore;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The 6.4-6.14 per-VMA rw_semaphore (VmaRwsem) in both of its layouts: vma_start_read is
 * down_read_trylock with the reader-owner store, vma_end_read is up_read, vma_start_write takes the
 * lock for write, and vm_refcnt is left to attachment.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class VmaRwsemTest {
    @AfterEach
    void tearDown() {
        Lockdep.resetCurrentThread();
    }

    @ParameterizedTest
    @EnumSource(
            value = LockingMode.class,
            names = {"PER_VMA_RWSEM", "PER_VMA_RWSEM_EMBEDDED"})
    void aReaderTakesTheRwsemForReadAndLeavesVmRefcntAlone(final LockingMode mode) {
        final MmStruct mm = VmaFixture.mm(mode);
        final Vma v = attached(mm, 0x1000, 0x5000);
        final RwSemaphore sem = v.vmLock;
        assertEquals(0, sem.count(), "unlocked after vma_start_write's down_write/up_write");
        Rcu.readLock();
        assertSame(v, VmaLock.startRead(mm, v));
        assertTrue(Rcu.readLockHeld(), "success keeps RCU");
        Rcu.readUnlock();
        assertEquals(RwSemaphore.RWSEM_READER_BIAS, sem.count(), "down_read_trylock added one reader");
        assertTrue(sem.isReaderOwned(), "rwsem_set_reader_owned stored the owner word");
        assertSame(Thread.currentThread(), sem.owner());
        assertEquals(1, v.refcnt(), "vm_refcnt is attachment only");
        VmaLock.assertLocked(v);
        VmaLock.endRead(v);
        assertEquals(0, sem.count(), "up_read");
    }

    @Test
    void aWriteLockedVmaRefusesReadersAndReleasesTheTrylock() {
        final MmStruct mm = VmaFixture.mm(LockingMode.PER_VMA_RWSEM);
        final Vma v = attached(mm, 0x1000, 0x5000);
        mm.mmapLock().writeLock();
        VmaLock.startWrite(v);
        assertEquals(mm.mmapLock().lockSeq(), v.lockSeq());
        assertEquals(0, v.vmLock.count(), "vma_start_write drops the rwsem again at once");
        final Actor r = new Actor("R", () -> tryRead(mm, v));
        r.start();
        assertNull(r.joinResult(), "vm_lock_seq == mm_lock_seq: locked");
        assertEquals(0, v.vmLock.count(), "a failed reader leaves no reader bias behind");
        mm.mmapLock().writeUnlock();
        assertSame(v, tryRead(mm, v), "vma_end_write_all unlocked it");
        VmaLock.endRead(v);
    }

    @Test
    void aDetachedVmaGivesEagainWithTheRwsemReleased() {
        final MmStruct mm = VmaFixture.mm(LockingMode.PER_VMA_RWSEM);
        final Vma d = new Vma();
        d.vmMm = mm;
        VmaLock.lockInit(d, true);
        Rcu.readLock();
        assertSame(VmaLock.EAGAIN, VmaLock.startRead(mm, d), "6.14's vma->detached check: VMA_LOCK_MISS");
        assertFalse(Rcu.readLockHeld());
        assertEquals(0, d.vmLock.count());
    }

    /** vma_start_write's down_write waits for a reader holding the rwsem, and sets vm_lock_seq after. */
    @Test
    void vmaStartWriteWaitsForTheReaderToLeave() {
        final MmStruct mm = VmaFixture.mm(LockingMode.PER_VMA_RWSEM);
        final Vma v = attached(mm, 0x1000, 0x5000);
        final CountDownLatch leave = new CountDownLatch(1);
        final Actor r = new Actor("R", () -> {
            assertSame(v, tryRead(mm, v));
            Schedule.await(leave);
            VmaLock.endRead(v);
            return null;
        });
        final CountDownLatch locked = new CountDownLatch(1);
        final CountDownLatch unlock = new CountDownLatch(1);
        final Actor w = new Actor("W", () -> {
            mm.mmapLock().writeLock();
            VmaLock.startWrite(v);
            locked.countDown();
            Schedule.await(unlock);
            mm.mmapLock().writeUnlock();
            return null;
        });
        r.start();
        Schedule.until("reader holds", () -> v.vmLock.readerCount() == 1);
        w.start();
        Schedule.until("writer queued on vm_lock", () -> v.vmLock.waiterCount() == 1);
        assertTrue(mm.mmapLock().lockSeq() != v.lockSeq(), "not write-locked while the reader holds");
        assertEquals(1, locked.getCount());
        leave.countDown();
        Schedule.await(locked);
        assertEquals(mm.mmapLock().lockSeq(), v.lockSeq());
        assertNull(tryRead(mm, v), "write-locked");
        unlock.countDown();
        w.joinResult();
        r.joinResult();
        assertEquals(0, v.vmLock.count());
    }

    @Test
    void everyVmaLockInitMakesAFreshLockOfTheVmasMm() {
        final MmStruct mm = VmaFixture.mm(LockingMode.PER_VMA_RWSEM_EMBEDDED);
        final Vma v = attached(mm, 0x1000, 0x5000);
        final RwSemaphore first = v.vmLock;
        VmaLock.lockInit(v, false);
        assertNotSame(first, v.vmLock);
        final Vma refcounted = attached(VmaFixture.mm(LockingMode.PER_VMA), 0x1000, 0x2000);
        assertNull(refcounted.vmLock, "the refcount modes have no vm_lock");
    }

    @Test
    void layoutsPlaceTheLockWordsAsEachKernelDid() {
        final VmaLockLayout separate = LockingMode.PER_VMA_RWSEM.vmaLockLayout();
        assertTrue(separate.shareLine("count", "owner"), "one 40-byte vma_lock object: count and owner together");
        assertFalse(separate.sharesWithVmaFields("count"), "6.4 moved the lock out of the VMA");
        final VmaLockLayout embedded = LockingMode.PER_VMA_RWSEM_EMBEDDED.vmaLockLayout();
        assertTrue(embedded.sharesWithVmaFields("count"), "count in the VMA's first line");
        assertFalse(embedded.shareLine("count", "owner"), "owner starts the next line");
        final VmaLockLayout refcount = LockingMode.PER_VMA.vmaLockLayout();
        assertFalse(refcount.sharesWithVmaFields("vm_refcnt"), "____cacheline_aligned_in_smp");
        assertEquals(List.of(), LockingMode.MMAP_ONLY.vmaLockLayout().lines());
        assertTrue(LockingMode.PER_VMA_RWSEM.vmaLockIsRwsem() && LockingMode.PER_VMA_RWSEM_EMBEDDED.vmaLockIsRwsem());
        assertFalse(LockingMode.PER_VMA.vmaLockIsRwsem() || LockingMode.PER_VMA_WAIT.vmaLockIsRwsem());
    }
}
